"""`bombe run`: a model writes samples for a benchmark, and each is judged as soon as it exists."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import click

from bombe.benchmarks import UnknownBenchmark, load_benchmark
from bombe.cli import _new_run_name, _progress, console, fail, print_summary, prepare_if_timed, open_sandbox
from bombe.sandbox import Limits
from bombe.sandbox.isolation import LEVELS
from bombe.sandbox.pool import WorkerDied
from bombe.store import DEFAULT_PATH as DEFAULT_STORE
from bombe.store import Store, StoreError
from bombe.task import InputError, Result


@click.command()
@click.option("--benchmark", help="A named benchmark (humaneval, mbpp+, ...) or jsonl:PATH.")
@click.option("--tasks", "tasks_path", type=click.Path(path_type=Path), help="Tasks JSONL file.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Benchmark data directory.")
@click.option("--model", "model_arg", required=True,
              help="openai:MODEL@URL, gguf:PATH or local:NAME (smollm2-135m, qwen2.5-coder-0.5b).")
@click.option("-n", "n", type=click.IntRange(min=1), default=1, show_default=True, help="Samples per task.")
@click.option("--temperature", type=click.FloatRange(min=0.0), default=0.0, show_default=True)
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--top-p", type=click.FloatRange(min=0.0, max=1.0), default=1.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Sample i asks for seed+i.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first K tasks.")
@click.option("--mode", type=click.Choice(["chat", "completion"]), default=None,
              help="Chat prompts (instruct models) or the task prompt to continue (base models) "
                   "[default: chat, or the local model's kind].")
@click.option("--prompt-dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="A folder with completion.txt, chat_system.txt or chat_user.txt replacing ours.")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True,
              help="Requests in flight to a server (in-process models take one at a time).")
@click.option("--request-timeout", type=click.FloatRange(min=1.0), default=600.0, show_default=True)
@click.option("--retries", type=click.IntRange(min=0), default=4, show_default=True,
              help="Retries, with backoff, of a request that met 429, 5xx or a connection error.")
@click.option("--n-ctx", type=click.IntRange(min=256), default=4096, show_default=True,
              help="Context size for in-process GGUF models.")
@click.option("--price-prompt", type=click.FloatRange(min=0.0), default=None, help="USD per million prompt tokens.")
@click.option("--price-completion", type=click.FloatRange(min=0.0), default=None,
              help="USD per million completion tokens.")
@click.option("--samples-out", type=click.Path(path_type=Path), default=None,
              help="Write the samples here as JSONL in the human-eval/EvalPlus shape.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), help="Write one result line per sample here.")
@click.option("--summary", "summary_path", type=click.Path(path_type=Path), help="Also write the summary as JSON.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Sandbox workers [default: CPU count].")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=10.0, show_default=True,
              help="Wall seconds per sample.")
@click.option("--memory-mb", type=click.IntRange(min=16), default=2048, show_default=True)
@click.option("--isolation", type=click.Choice(LEVELS), default=None)
@click.option("--unsafe-no-isolation", is_flag=True)
@click.option("--run", "run_name", default=None, help="Name of the run; an existing name resumes it.")
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=DEFAULT_STORE, show_default=True)
def run(benchmark, tasks_path, data_dir, model_arg, n, temperature, max_tokens, top_p, seed, limit, mode,
        prompt_dir, concurrency, request_timeout, retries, n_ctx, price_prompt, price_completion, samples_out, out_path,
        summary_path, workers, timeout, memory_mb, isolation, unsafe_no_isolation, run_name, store_path) -> None:
    """Generate samples with a model and judge each as soon as it exists: pass@k from a prompt.

    Completions are cached in the store by model, parameters, prompt and sample index, so a
    rerun, or a resumed run (same --run), never asks the model twice."""
    from bombe.evaluate import OrderedWriter, summarize, write_summary
    from bombe.generation import GeneratedSample, Plan, generate_and_judge
    from bombe.models.cache import CompletionCache, Ledger, Prices, ledger_summary
    from bombe.models.client import GenerationParams, ModelError, default_mode, open_model
    from bombe.models.prompts import Templates
    from bombe.models.spec import ModelSpecError, parse_model_spec

    if bool(tasks_path) == bool(benchmark):
        fail("give exactly one of --tasks FILE or --benchmark NAME")
    label = benchmark or f"jsonl:{tasks_path}"
    try:
        spec = parse_model_spec(model_arg)
        tasks = load_benchmark(label, data_dir)
    except (ModelSpecError, InputError, UnknownBenchmark) as exc:
        fail(str(exc))
    tasks = tasks[:limit] if limit else tasks
    mode = mode or default_mode(spec)
    templates = Templates.load(prompt_dir)
    params = GenerationParams(temperature=temperature, max_tokens=max_tokens, top_p=top_p, seed=seed)
    limits = Limits(timeout=timeout, memory_mb=memory_mb)
    sandbox = open_sandbox(workers, limits, isolation, unsafe_no_isolation)
    settings = {
        "model": spec.identity, "mode": mode, "n": n, "params": params.as_key(),
        "templates": templates.fingerprint(),
        "limits": limits.to_dict(), "isolation": sandbox.isolation,
    }
    try:
        store = Store(store_path)
        run_record, done, programs = store.open_generation_run(
            run_name or _new_run_name(f"{label}-{spec.kind}"), " ".join(sys.argv), label, tasks, settings)
    except StoreError as exc:
        fail(str(exc))
    total = len(tasks) * n
    if programs:
        console.print(f"resuming run {run_record.name}: {len(programs)} of {total} samples exist, "
                      f"{len(done)} judged", highlight=False)
    try:
        model = open_model(spec, concurrency=concurrency, timeout=request_timeout, max_retries=retries, n_ctx=n_ctx)
    except ModelError as exc:
        fail(str(exc))

    with store, sandbox, _progress() as progress:
        tasks = prepare_if_timed(tasks, sandbox)
        by_id = {task.task_id: task for task in tasks}
        unjudged = []
        for position, program in sorted(programs.items()):
            if position not in done:
                task = tasks[position // n]
                unjudged.append(GeneratedSample(position, by_id[task.task_id], position % n, program, None, True))
        cache = CompletionCache(store)
        ledger = Ledger(store, run_record, spec.identity, Prices(price_prompt, price_completion))
        generating = progress.add_task("generating", total=total, completed=len(programs), rate=0.0)
        judging = progress.add_task("judging", total=total, completed=len(done), rate=0.0)
        samples_handle = samples_out.open("w", encoding="utf-8") if samples_out else None
        results_handle = out_path.open("w", encoding="utf-8") if out_path else None
        writer = OrderedWriter(results_handle)
        for position, result in sorted(done.items()):
            writer.add(position, result)
        if samples_handle:
            for position, program in sorted(programs.items()):
                samples_handle.write(json.dumps({"task_id": tasks[position // n].task_id, "solution": program}) + "\n")
            samples_handle.flush()

        def bump(bar: int) -> None:
            state = progress.tasks[bar]
            progress.update(bar, advance=1, rate=(state.completed + 1) / max(state.elapsed or 1e-9, 1e-9))

        def on_sample(sample: GeneratedSample) -> None:
            store.add_sample(run_record, sample.position, sample.task.task_id, sample.sample_index, sample.program)
            programs[sample.position] = sample.program
            if samples_handle:
                samples_handle.write(json.dumps({"task_id": sample.task.task_id, "solution": sample.program}) + "\n")
                samples_handle.flush()
            bump(generating)

        def on_result(position: int, result: Result) -> None:
            store.record(run_record, position, result)
            done[position] = result
            writer.add(position, result)
            bump(judging)

        def interrupted(*_: object) -> None:
            # Everything finished is committed already; leave now rather than wait for a generation in flight.
            progress.stop()
            console.print(f"interrupted: {len(done)} results and {len(programs)} samples of {total} are kept in "
                          f"{store.path}; rerun with --run {run_record.name} to finish", highlight=False,
                          soft_wrap=True)
            os._exit(130)

        signal.signal(signal.SIGINT, interrupted)
        plan = Plan(tasks, model, n, params, mode, templates, have=set(programs))
        try:
            asyncio.run(generate_and_judge(plan, cache, ledger, sandbox, on_sample, on_result, unjudged))
        except ModelError as exc:
            progress.stop()
            fail(f"{exc}; {len(done)} results and {len(programs)} samples of {total} are kept: "
                 f"rerun with --run {run_record.name} to resume")
        except WorkerDied as exc:
            fail(f"the sandbox could not start: {exc}")
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for handle in (samples_handle, results_handle):
                if handle:
                    handle.close()
        store.finish(run_record)
        summary = summarize([done[p] for p in sorted(done)], sandbox.isolation)
        summary["run"] = run_record.name
        summary["model"] = spec.identity
        summary["generation"] = ledger_summary(store, run_record)
        summary["cache"] = {"hits": cache.hits, "misses": cache.misses}
    print_summary(summary)
    if summary_path:
        write_summary(summary, summary_path)

"""`bombe solve`: a test-time search strategy over a benchmark, within a per-task budget; and
`bombe compare`: solve rate and tokens of several runs, side by side, with a curve."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import click
from rich.table import Table

from bombe.benchmarks import UnknownBenchmark, load_benchmark
from bombe.cli import _new_run_name, _open_store, _progress, console, fail, out, prepare_if_timed, open_sandbox
from bombe.sandbox import Limits
from bombe.sandbox.isolation import LEVELS
from bombe.sandbox.pool import WorkerDied
from bombe.store import DEFAULT_PATH as DEFAULT_STORE
from bombe.store import Store, StoreError
from bombe.generation import gather_all
from bombe.strategies import STRATEGY_NAMES
from bombe.task import InputError


def _parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--option {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def _select(tasks, tasks_list: Path | None, limit: int | None, label: str):
    if tasks_list is not None:
        from bombe.strategies.subsets import read_task_list

        try:
            wanted = read_task_list(tasks_list)
        except OSError as exc:
            fail(f"--tasks-list {tasks_list}: cannot read ({exc.strerror or exc})")
        by_id = {t.task_id: t for t in tasks}
        missing = [w for w in wanted if w not in by_id]
        if missing:
            fail(f"--tasks-list {tasks_list}: {len(missing)} task ids not in {label}: {', '.join(missing[:5])}")
        tasks = [by_id[w] for w in wanted]
    return tasks[:limit] if limit else tasks


@click.command()
@click.option("--benchmark", help="A named benchmark (humaneval+, mbpp+, ...) or jsonl:PATH.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Benchmark data directory.")
@click.option("--model", "model_arg", required=True, help="openai:MODEL@URL, gguf:PATH or local:NAME.")
@click.option("--strategy", "strategy_name", required=True, type=click.Choice(STRATEGY_NAMES))
@click.option("--option", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="A strategy option (repeatable), e.g. --option n=10 --option dual=true.")
@click.option("--budget-tokens", type=click.IntRange(min=1), default=None,
              help="Tokens per task, prompt and completion together.")
@click.option("--budget-samples", type=click.IntRange(min=1), default=None, help="Completions per task.")
@click.option("--budget-executions", type=click.IntRange(min=1), default=None, help="Sandbox runs per task.")
@click.option("--budget-seconds", type=click.FloatRange(min=0.1), default=None,
              help="Wall seconds per task: no model call or execution starts after them.")
@click.option("--budget-dollars", type=click.FloatRange(min=0.0), default=None,
              help="Dollars per task (needs --price-prompt/--price-completion).")
@click.option("--tasks-list", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Only these task ids, one a line (e.g. src/bombe/strategies/subsets/humaneval_plus_40.txt).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first K tasks.")
@click.option("-k", "k", type=click.IntRange(min=1), default=1, show_default=True,
              help="Submissions per task; a task is solved when one passes.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True,
              help="Most tokens per completion (the budget may cap it lower).")
@click.option("--temperature", type=click.FloatRange(min=0.0), default=0.8, show_default=True,
              help="Sampling temperature where a strategy does not set its own.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--mode", type=click.Choice(["chat", "completion"]), default=None)
@click.option("--prompt-dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None)
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True,
              help="Requests in flight to a server (in-process models take one at a time).")
@click.option("--parallel-tasks", type=click.IntRange(min=1), default=1, show_default=True,
              help="Tasks solved at once (for servers with several slots).")
@click.option("--request-timeout", type=click.FloatRange(min=1.0), default=600.0, show_default=True)
@click.option("--retries", type=click.IntRange(min=0), default=4, show_default=True)
@click.option("--n-ctx", type=click.IntRange(min=256), default=4096, show_default=True)
@click.option("--price-prompt", type=click.FloatRange(min=0.0), default=None, help="USD per million prompt tokens.")
@click.option("--price-completion", type=click.FloatRange(min=0.0), default=None,
              help="USD per million completion tokens.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Sandbox workers [default: CPU count].")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=10.0, show_default=True,
              help="Wall seconds per judged submission.")
@click.option("--exec-timeout", type=click.FloatRange(min=0.01), default=5.0, show_default=True,
              help="Wall seconds for loading a candidate in the strategy's own executions...")
@click.option("--call-seconds", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="...and for each of its calls there.")
@click.option("--memory-mb", type=click.IntRange(min=16), default=2048, show_default=True)
@click.option("--isolation", type=click.Choice(LEVELS), default=None)
@click.option("--unsafe-no-isolation", is_flag=True)
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Write one JSON line per task (its solve record) here.")
@click.option("--summary", "summary_path", type=click.Path(path_type=Path), default=None,
              help="Write the run's summary as JSON here.")
@click.option("--run", "run_name", default=None, help="Name of the run; an existing name resumes it.")
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=DEFAULT_STORE, show_default=True)
def solve(benchmark, data_dir, model_arg, strategy_name, option_pairs, budget_tokens, budget_samples,
          budget_executions, budget_seconds, budget_dollars, tasks_list, limit, k, max_tokens, temperature, seed, mode,
          prompt_dir, concurrency, parallel_tasks, request_timeout, retries, n_ctx, price_prompt, price_completion,
          workers, timeout, exec_timeout, call_seconds, memory_mb, isolation, unsafe_no_isolation, out_path,
          summary_path, run_name, store_path) -> None:
    """Solve a benchmark's tasks with a test-time search strategy, each within the same budget.

    The strategy sees each task's prompt and visible checks only; its submissions are judged on
    the full (hidden) checks. Every task's result is committed as it finishes: rerun with the
    same --run to resume, with every earlier model completion served from the cache."""
    from bombe.models.cache import CompletionCache, Ledger, Prices
    from bombe.models.client import ModelError, default_mode, open_model
    from bombe.models.prompts import Templates
    from bombe.models.spec import ModelSpecError, parse_model_spec
    from bombe.strategies import Budget, StrategyOptionError, make_strategy
    from bombe.strategies.solve import SolveSettings, run_stats, solve_and_record, solved_records

    if not benchmark:
        fail("--benchmark NAME (or jsonl:PATH) is required")
    try:
        strategy = make_strategy(strategy_name, _parse_options(option_pairs))
        spec = parse_model_spec(model_arg)
        tasks = load_benchmark(benchmark, data_dir)
    except (StrategyOptionError, ModelSpecError, InputError, UnknownBenchmark) as exc:
        fail(str(exc))
    tasks = _select(tasks, tasks_list, limit, benchmark)
    if budget_dollars is not None and price_prompt is None and price_completion is None:
        fail("--budget-dollars needs --price-prompt and/or --price-completion")
    budget = Budget(budget_tokens, budget_samples, budget_executions, budget_seconds, budget_dollars)
    mode = mode or default_mode(spec)
    templates = Templates.load(prompt_dir)
    settings = SolveSettings(strategy, budget, mode, templates, k=k, seed=seed, max_tokens=max_tokens,
                             temperature=temperature, exec_limits=Limits(timeout=exec_timeout, memory_mb=memory_mb),
                             call_seconds=call_seconds, prices=Prices(price_prompt, price_completion))
    limits = Limits(timeout=timeout, memory_mb=memory_mb)
    sandbox = open_sandbox(workers, limits, isolation, unsafe_no_isolation)
    recorded = {
        **settings.as_dict(), "model": spec.identity, "limits": limits.to_dict(), "isolation": sandbox.isolation,
        "templates": templates.fingerprint(),
    }
    try:
        store = Store(store_path)
        run, _, _ = store.open_generation_run(
            run_name or _new_run_name(f"{benchmark}-{strategy_name}"), " ".join(sys.argv), benchmark, tasks, recorded)
        done = solved_records(store, run)
    except StoreError as exc:
        fail(str(exc))
    if done:
        console.print(f"resuming run {run.name}: {len(done)} of {len(tasks)} tasks done", highlight=False)
    try:
        model = open_model(spec, concurrency=concurrency, timeout=request_timeout, max_retries=retries, n_ctx=n_ctx)
    except ModelError as exc:
        fail(str(exc))
    out_handle = out_path.open("a" if done else "w", encoding="utf-8") if out_path else None

    with store, sandbox, _progress() as progress:
        tasks = prepare_if_timed(tasks, sandbox)
        cache = CompletionCache(store)
        ledger = Ledger(store, run, spec.identity, settings.prices)
        bar = progress.add_task(f"solving ({strategy_name})", total=len(tasks), completed=len(done), rate=0.0)
        solved = sum(1 for r in done.values() if r.get("solved"))

        def interrupted(*_: object) -> None:
            progress.stop()
            console.print(f"interrupted: {len(done)} of {len(tasks)} tasks are kept in {store.path}; "
                          f"rerun with --run {run.name} to finish", highlight=False, soft_wrap=True)
            os._exit(130)

        async def one(position: int, task, slots: asyncio.Semaphore) -> None:
            nonlocal solved
            async with slots:
                record = await solve_and_record(task, position, settings, model, sandbox, store, run, cache, ledger)
            done[position] = record
            solved += int(record["solved"])
            if out_handle:
                out_handle.write(json.dumps(record, sort_keys=True, default=str) + "\n")
                out_handle.flush()
            state = progress.tasks[bar]
            progress.update(bar, advance=1, description=f"solving ({strategy_name}): {solved} solved",
                            rate=(state.completed + 1) / max(state.elapsed or 1e-9, 1e-9))

        async def go() -> None:
            await model.check()
            # Tasks in parallel (a server with several slots): each task's own calls stay in
            # order, so its requests, and what the cache answers on a rerun, do not change.
            slots = asyncio.Semaphore(parallel_tasks)
            try:
                await gather_all([one(position, task, slots) for position, task in enumerate(tasks)
                                  if position not in done])
            finally:
                await model.close()

        signal.signal(signal.SIGINT, interrupted)
        try:
            asyncio.run(go())
        except ModelError as exc:
            progress.stop()
            fail(f"{exc}; {len(done)} of {len(tasks)} tasks are kept: rerun with --run {run.name} to resume")
        except WorkerDied as exc:
            fail(f"the sandbox could not start: {exc}")
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if out_handle:
                out_handle.close()
        store.finish(run)
        stats = run_stats(store, run)
        stats["cache"] = {"hits": cache.hits, "misses": cache.misses}
    _print_stats([stats])
    if summary_path:
        summary_path.write_text(json.dumps({k: v for k, v in stats.items()}, indent=2, default=str) + "\n",
                                encoding="utf-8")


def _fmt(value, spec: str = ".1f") -> str:
    return "n/a" if value is None else format(value, spec)


def _print_stats(all_stats: list[dict]) -> None:
    table = Table("run", "strategy", "solved", "solve rate", "tokens /task", "tokens /solved", "execs", "secs",
                  title="solve runs (tokens: prompt + completion)", title_justify="left")
    for s in all_stats:
        table.add_row(s["run"], s["strategy"], f"{s['solved']}/{s['done']}" + ("" if s["done"] == s["tasks"]
                                                                               else f" (of {s['tasks']})"),
                      _fmt(None if s["solve_rate"] is None else 100 * s["solve_rate"], ".1f") + "%",
                      _fmt(s["tokens_per_task"], ".0f"), _fmt(s["tokens_per_solved_task"], ".0f"),
                      _fmt(s["executions"], "d"), _fmt(s["seconds"], ".1f"))
    out.print(table)


def plot_curves(all_stats: list[dict], path: Path) -> None:
    """Solve rate against tokens: for each run, the share of its tasks solved using at most x
    tokens each (a step curve), and a dot at (tokens per task, solve rate)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    for s in all_stats:
        done = max(1, s["done"])
        spent = sorted(t["tokens"] for t in s["per_task"].values() if t["solved"])
        xs, ys = [0], [0.0]
        for i, tokens in enumerate(spent, 1):
            xs.append(tokens)
            ys.append(100 * i / done)
        most = max((t["tokens"] for t in s["per_task"].values()), default=0)
        if most > xs[-1]:  # flat on to the most any task of the run spent
            xs.append(most)
            ys.append(ys[-1])
        label = f"{s['strategy']} ({s['run']})"
        line, = axes.step(xs, ys, where="post", label=label)
        if s["tokens_per_task"] is not None:
            axes.plot([s["tokens_per_task"]], [100 * (s["solve_rate"] or 0)], "o", color=line.get_color())
    axes.set_xlabel("tokens per task (prompt + completion)")
    axes.set_ylabel("tasks solved (%)")
    axes.set_ylim(0, 101)
    axes.set_xlim(left=0)
    axes.set_title("solve rate versus tokens (dot: tokens per task, final solve rate)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


@click.command()
@click.argument("run_names", nargs=-1, required=True)
@click.option("--plot", "plot_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the solve-rate-versus-tokens curves here (PNG).")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the numbers as JSON here.")
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=DEFAULT_STORE, show_default=True)
def compare(run_names: tuple[str, ...], plot_path: Path | None, json_path: Path | None, store_path: Path) -> None:
    """Compare runs (bombe solve, or bombe run): solve rate, tokens per solved task, and a curve."""
    from bombe.strategies.solve import run_stats

    with _open_store(store_path) as store:
        all_stats = []
        for name in run_names:
            try:
                all_stats.append(run_stats(store, store.get_run(name)))
            except StoreError as exc:
                fail(str(exc))
    _print_stats(all_stats)
    if json_path:
        json_path.write_text(json.dumps(all_stats, indent=2, default=str) + "\n", encoding="utf-8")
    if plot_path:
        try:
            plot_curves(all_stats, plot_path)
        except ImportError:
            fail("--plot needs matplotlib: pip install matplotlib")
        console.print(f"plot: {plot_path}", highlight=False)

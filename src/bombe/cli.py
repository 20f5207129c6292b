"""The `bombe` command."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bombe import __version__
from bombe.benchmarks import UnknownBenchmark, load_benchmark
from bombe.reference import ReferenceFailed, prepare
from bombe.sandbox import IsolationUnavailable, Limits, Sandbox
from bombe.sandbox.isolation import LEVELS
from bombe.sandbox.pool import WorkerDied
from bombe.store import DEFAULT_PATH as DEFAULT_STORE
from bombe.store import Store, StoreError
from bombe.task import InputError, load_samples

USAGE_ERROR = 2
console = Console(stderr=True)
out = Console()


def fail(message: str) -> None:
    """One clear line for the user's mistake, and exit code 2."""
    console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)
    sys.exit(USAGE_ERROR)


@click.group()
@click.version_option(__version__, prog_name="bombe")
def main() -> None:
    """bombe: find programs that provably meet a specification, and measure who finds them."""


def open_sandbox(workers: int | None, limits: Limits, isolation: str | None, allow_unsafe: bool) -> Sandbox:
    """The sandbox every command judges with; no usable isolation is one error line."""
    try:
        return Sandbox(workers=workers, limits=limits, isolation_level=isolation, allow_unsafe=allow_unsafe)
    except IsolationUnavailable as exc:
        fail(str(exc))


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>7.1f}/s"), TimeElapsedColumn(), TextColumn("eta"),
        TimeRemainingColumn(), console=console, transient=False,
    )


def print_summary(summary: dict) -> None:
    table = Table(title="summary", show_header=False, title_justify="left")
    if "run" in summary:
        table.add_row("run", summary["run"])
    table.add_row("samples", str(summary["samples"]))
    table.add_row("passed", f"{summary['passed']}/{summary['samples']}")
    table.add_row("tasks solved", f"{summary['tasks_solved']}/{summary['tasks']}")
    if summary.get("no_reference"):
        table.add_row("no reference", f"{len(summary['no_reference'])} tasks not judged")
    for k, value in summary["pass_at_k"].items():
        table.add_row(f"pass@{k}", "n/a" if value is None else f"{value:.4f}")
    table.add_row("statuses", ", ".join(f"{s} {n}" for s, n in summary["status_counts"].items()))
    table.add_row("isolation", summary["isolation"])
    generation = summary.get("generation")
    if generation:
        table.add_row("model", str(summary.get("model", "")))
        table.add_row("tokens", f"{generation['prompt_tokens']} prompt, {generation['completion_tokens']} completion "
                                f"({generation['from_cache']} of {generation['samples_generated']} samples from cache)")
        speed = generation["completion_tokens_per_second"]
        table.add_row("model time", f"{generation['model_seconds']:.1f} s"
                                    + (f", {speed:.1f} completion tokens/s" if speed else ""))
        per_solved = generation["tokens_per_solved_task"]
        table.add_row("tokens per solved task", "n/a" if per_solved is None else f"{per_solved:.0f}")
        if generation.get("cost_usd") is not None:
            table.add_row("cost", f"${generation['cost_usd']:.4f}")
    out.print(table)


@main.command()
@click.option("--tasks", "tasks_path", type=click.Path(path_type=Path), help="Tasks JSONL file.")
@click.option("--benchmark", help="A named benchmark (humaneval) or jsonl:PATH.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where benchmark data files live, or 'hub' to fetch them [default: $BOMBE_DATA].")
@click.option("--samples", "samples_arg", required=True, help="Samples JSONL file, or 'reference'.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), help="Write one result line per sample here.")
@click.option("--summary", "summary_path", type=click.Path(path_type=Path), help="Also write the summary as JSON.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel workers [default: CPU count].")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=10.0, show_default=True,
              help="Wall seconds per sample, loading and all checks.")
@click.option("--memory-mb", type=click.IntRange(min=16), default=2048, show_default=True)
@click.option("--isolation", type=click.Choice(LEVELS), default=None,
              help="Isolation level [default: the strongest that works here].")
@click.option("--unsafe-no-isolation", is_flag=True, help="Allow running with no isolation if nothing else works.")
@click.option("--time-factor", type=click.FloatRange(min=1.0), default=4.0, show_default=True,
              help="Where a benchmark times calls by its reference (HumanEval+, MBPP+): each call may take "
                   "this many times the reference's time...")
@click.option("--min-call-seconds", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="...but never less than this.")
@click.option("--run", "run_name", default=None,
              help="Name of the run in the store; an existing run of that name resumes [default: a new name].")
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=DEFAULT_STORE, show_default=True,
              help="The SQLite store that keeps every result.")
def evaluate(tasks_path, benchmark, data_dir, samples_arg, out_path, summary_path, workers, timeout, memory_mb,
             isolation, unsafe_no_isolation, time_factor, min_call_seconds, run_name, store_path) -> None:
    """Judge samples against a benchmark's or a file's tasks. Every result is committed to the
    store as it is known; rerun with the same --run to resume after an interruption."""
    from bombe.evaluate import reference_samples, write_summary

    if bool(tasks_path) == bool(benchmark):
        fail("give exactly one of --tasks FILE or --benchmark NAME")
    try:
        tasks = load_benchmark(f"jsonl:{tasks_path}" if tasks_path else benchmark, data_dir)
        no_reference: list[str] = []
        if samples_arg == "reference":
            samples = reference_samples(tasks, benchmark or str(tasks_path), no_reference)
        else:
            samples = load_samples(samples_arg, {t.task_id for t in tasks})
    except (InputError, UnknownBenchmark) as exc:
        fail(str(exc))
    if no_reference:
        console.print(f"{len(no_reference)} of {len(tasks)} tasks have no reference solution and are not judged: "
                      + ", ".join(no_reference), highlight=False, soft_wrap=True)
    if not samples:
        fail(f"{samples_arg}: no samples")
    limits = Limits(timeout=timeout, memory_mb=memory_mb)
    sandbox = open_sandbox(workers, limits, isolation, unsafe_no_isolation)
    if sandbox.isolation in ("seccomp", "none"):
        console.print(f"warning: isolation '{sandbox.isolation}' does not make the host read-only: "
                      "candidates can write wherever this user can", highlight=False, soft_wrap=True)
    by_id = {task.task_id: task for task in tasks}
    label = benchmark or f"jsonl:{tasks_path}"
    settings = {"limits": limits.to_dict(), "workers": sandbox.worker_count, "isolation": sandbox.isolation,
                "samples": str(samples_arg)}
    timed_by_reference = any(task.expected_from_reference for task in tasks)
    if timed_by_reference:
        settings.update(time_factor=time_factor, min_call_seconds=min_call_seconds)
    try:
        store = Store(store_path)
        run, done = store.open_run(
            run_name or _new_run_name(label), " ".join(sys.argv), label, tasks, samples,
            [s.program(by_id[s.task_id]) for s in samples], settings,
        )
    except StoreError as exc:
        fail(str(exc))
    if done:
        console.print(f"resuming run {run.name}: {len(done)} of {len(samples)} samples already judged")
    with store, sandbox, _progress() as progress:
        try:
            summary = _judge_run(tasks, samples, sandbox, store, run, done, out_path, progress,
                                 (time_factor, min_call_seconds) if timed_by_reference else None)
        except KeyboardInterrupt:
            progress.stop()
            kept = len(store.results(run))
            console.print(f"interrupted: {kept} of {len(samples)} results are kept in {store.path}; "
                          f"rerun with --run {run.name} to finish", highlight=False, soft_wrap=True)
            sys.exit(130)
        store.finish(run)
    summary["run"] = run.name
    if no_reference:
        summary["no_reference"] = no_reference
    print_summary(summary)
    if summary_path:
        write_summary(summary, summary_path)
    if out_path:
        console.print(f"results: {out_path}")


def _judge_run(tasks, samples, sandbox, store, run, done, out_path, progress, timing) -> dict:
    """Prepare reference-timed tasks, then judge what is not done, each result into the store."""
    from bombe.evaluate import evaluate as run_evaluation

    try:
        if timing is not None:
            # Expected values and per-call limits come from the reference, timed on this machine.
            console.print("running the reference solutions for expected values and time limits (cached)")
            tasks = prepare(tasks, sandbox, *timing)
        bar = progress.add_task("judging", total=len(samples), completed=len(done), rate=0.0)
        started = len(done)

        def advance(_result) -> None:
            elapsed = progress.tasks[bar].elapsed or 1e-9
            progress.update(bar, advance=1, rate=(progress.tasks[bar].completed + 1 - started) / elapsed)

        return run_evaluation(tasks, samples, sandbox, out_path, on_result=advance,
                              record=lambda position, result: store.record(run, position, result), done=done)
    except ReferenceFailed as exc:
        fail(str(exc))
    except WorkerDied as exc:
        fail(f"the sandbox could not start: {exc}")


def prepare_if_timed(tasks: list, sandbox: Sandbox, time_factor: float = 4.0, min_call_seconds: float = 1.0) -> list:
    """Tasks whose expected values and per-call limits come from their reference, prepared on
    this machine (cached); other tasks as they are. A reference that fails is one error line."""
    if not any(task.expected_from_reference for task in tasks):
        return tasks
    console.print("running the reference solutions for expected values and time limits (cached)")
    try:
        return prepare(tasks, sandbox, time_factor, min_call_seconds)
    except (ReferenceFailed, WorkerDied) as exc:
        fail(str(exc))


def _new_run_name(label: str) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{label.replace('/', '_')}-{stamp}-{os.getpid()}"


def _open_store(path: Path) -> Store:
    if not path.exists():
        fail(f"{path}: no store here (run `bombe evaluate` first, or pass --store PATH)")
    try:
        return Store(path)
    except StoreError as exc:
        fail(str(exc))


store_option = click.option("--store", "store_path", type=click.Path(path_type=Path), default=DEFAULT_STORE,
                            show_default=True, help="The SQLite store.")


@main.command()
@store_option
def runs(store_path: Path) -> None:
    """List the runs in the store."""
    with _open_store(store_path) as store:
        table = Table("run", "benchmark", "created", "judged", "passed", "finished")
        for row in store.list_runs():
            table.add_row(row["name"], row["benchmark"], row["created"], f"{row['judged']}/{row['total']}",
                          str(row["passed"]), "yes" if row["finished"] else "no")
        out.print(table)


def _run_summary(store: Store, name: str) -> tuple[dict, list]:
    from bombe.evaluate import summarize

    try:
        run = store.get_run(name)
    except StoreError as exc:
        fail(str(exc))
    results = [r for _, r in sorted(store.results(run).items())]
    summary = summarize(results, run.settings.get("isolation", "unknown"))
    from bombe.models.cache import ledger_summary

    generation = ledger_summary(store, run)
    if generation:
        summary.update(model=run.settings.get("model"), generation=generation)
    summary.update(run=run.name, benchmark=run.row["benchmark"], total_samples=store.sample_count(run),
                   finished=bool(run.row["finished"]), bombe_version=run.row["bombe_version"],
                   python_version=run.row["python_version"], machine=run.row["machine"], settings=run.settings)
    return summary, results


@main.command()
@click.argument("run_name")
@store_option
def show(run_name: str, store_path: Path) -> None:
    """Print a run's summary: pass@k for every k its samples allow, and statuses."""
    with _open_store(store_path) as store:
        summary, _ = _run_summary(store, run_name)
    print_summary(summary)


@main.command()
@click.argument("run_name")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json", "csv"]), default="jsonl", show_default=True)
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Write here instead of standard output.")
@store_option
def export(run_name: str, fmt: str, out_path: Path | None, store_path: Path) -> None:
    """Write a run's per-sample results (jsonl, csv) or its summary with the results (json)."""
    from bombe.export import render

    with _open_store(store_path) as store:
        summary, results = _run_summary(store, run_name)
    text = render(fmt, summary, results)
    if out_path:
        out_path.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


# Commands with modules of their own; imported last because they use the helpers above.
from bombe.run_cli import run as _run_command  # noqa: E402
from bombe.solve_cli import compare, solve  # noqa: E402
from bombe.synth_cli import synth  # noqa: E402

for _command in (_run_command, synth, solve, compare):
    main.add_command(_command)

if __name__ == "__main__":
    main()

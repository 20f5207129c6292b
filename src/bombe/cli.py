"""The `bombe` command."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bombe import __version__
from bombe.benchmarks import UnknownBenchmark, load_benchmark
from bombe.sandbox import IsolationUnavailable, Limits, Sandbox
from bombe.sandbox.isolation import LEVELS
from bombe.sandbox.pool import WorkerDied
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


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>7.1f}/s"), TimeElapsedColumn(), TextColumn("eta"),
        TimeRemainingColumn(), console=console, transient=False,
    )


def print_summary(summary: dict) -> None:
    table = Table(title="summary", show_header=False, title_justify="left")
    table.add_row("samples", str(summary["samples"]))
    table.add_row("passed", f"{summary['passed']}/{summary['samples']}")
    table.add_row("tasks solved", f"{summary['tasks_solved']}/{summary['tasks']}")
    for k, value in summary["pass_at_k"].items():
        table.add_row(f"pass@{k}", "n/a" if value is None else f"{value:.4f}")
    table.add_row("statuses", ", ".join(f"{s} {n}" for s, n in summary["status_counts"].items()))
    table.add_row("isolation", summary["isolation"])
    out.print(table)


@main.command()
@click.option("--tasks", "tasks_path", type=click.Path(path_type=Path), help="Tasks JSONL file.")
@click.option("--benchmark", help="A named benchmark (humaneval) or jsonl:PATH.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where benchmark data files live [default: $BOMBE_DATA].")
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
def evaluate(tasks_path, benchmark, data_dir, samples_arg, out_path, summary_path, workers, timeout, memory_mb,
             isolation, unsafe_no_isolation) -> None:
    """Judge samples against a benchmark's or a file's tasks."""
    from bombe.evaluate import evaluate as run_evaluation
    from bombe.evaluate import reference_samples, write_summary

    if bool(tasks_path) == bool(benchmark):
        fail("give exactly one of --tasks FILE or --benchmark NAME")
    try:
        tasks = load_benchmark(f"jsonl:{tasks_path}" if tasks_path else benchmark, data_dir)
        if samples_arg == "reference":
            samples = reference_samples(tasks, benchmark or str(tasks_path))
        else:
            samples = load_samples(samples_arg, {t.task_id for t in tasks})
    except (InputError, UnknownBenchmark) as exc:
        fail(str(exc))
    if not samples:
        fail(f"{samples_arg}: no samples")
    limits = Limits(timeout=timeout, memory_mb=memory_mb)
    try:
        sandbox = Sandbox(workers=workers, limits=limits, isolation_level=isolation, allow_unsafe=unsafe_no_isolation)
    except IsolationUnavailable as exc:
        fail(str(exc))
    with sandbox, _progress() as progress:
        bar = progress.add_task("judging", total=len(samples), rate=0.0)

        def advance(_result) -> None:
            elapsed = progress.tasks[bar].elapsed or 1e-9
            progress.update(bar, advance=1, rate=(progress.tasks[bar].completed + 1) / elapsed)

        try:
            summary = run_evaluation(tasks, samples, sandbox, out_path, on_result=advance)
        except WorkerDied as exc:
            fail(f"the sandbox could not start: {exc}")
    print_summary(summary)
    if summary_path:
        write_summary(summary, summary_path)
    if out_path:
        console.print(f"results: {out_path}")


if __name__ == "__main__":
    main()

"""`bombe synth`: programming by example with no model, over a suite or a tasks file."""

from __future__ import annotations

import ast
import json
import sys
import warnings
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from bombe.cli import _new_run_name, _progress, console, fail, out, open_sandbox
from bombe.sandbox import Limits
from bombe.sandbox.isolation import LEVELS
from bombe.sandbox.pool import WorkerDied
from bombe.store import DEFAULT_PATH as DEFAULT_STORE
from bombe.store import Store, StoreError
from bombe.task import InputError, Task, load_tasks, parse_record

SUITE_NAMES = ("lambdabeam", "lambdabeam-handwritten", "lambdabeam-synthetic", "bustle", "bustle-new",
               "bustle-sygus", "lambda2", "sygus", "dreamcoder", "demo")


def _load(suite: str | None, tasks_path: Path | None, data_dir: Path | None) -> list[Task]:
    """The tasks to synthesize, each checked to have input/output examples; InputError otherwise."""
    from bombe.benchmarks import resolve_data_dir
    from bombe.benchmarks.pbe import SUITES, SkippedTasks
    from bombe.enumerate.driver import check_synthesizable

    if tasks_path is not None:
        def build(record: dict, path: Path, line: int) -> Task:
            task = parse_record(Task, record, path, line)
            check_synthesizable(task, path, line)
            return task

        return load_tasks(tasks_path, build)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkippedTasks)
        tasks = SUITES[suite](resolve_data_dir(data_dir))
    for warning in caught:
        if issubclass(warning.category, SkippedTasks):
            console.print(f"note: {warning.message}", highlight=False, soft_wrap=True)
    for task in tasks:
        check_synthesizable(task, suite)
    return tasks


def one_line(solution, entry_point: str) -> str:
    """The program in a line, for the per-task report: its return expression when it is one."""
    if solution.program is None:
        said = "not found" if solution.status == "not_found" else "not found within the time limit"
        return said + (f" ({solution.note})" if solution.note else "")
    try:
        tree = ast.parse(solution.program)
    except SyntaxError:
        tree = None
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                    and not isinstance(s, (ast.Import, ast.ImportFrom))]  # the docstring and imports
            if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
                text = ast.get_source_segment(solution.program, body[0].value) or ast.unparse(body[0].value)
                return " ".join(text.split())
    text = solution.expression or f"({len(solution.program.splitlines())}-line program)"
    return text if len(text) <= ONE_LINE_WIDTH else text[:ONE_LINE_WIDTH - 1] + "…"


ONE_LINE_WIDTH = 100
_STATUS_STYLE = {"solved": "green", "not_found": "red", "timeout": "yellow"}


def _report_line(solution, task: Task, resumed: bool, width: int) -> Text:
    hidden = {True: ("hidden pass", "green"), False: ("hidden FAIL", "red"), None: ("", "")}[solution.hidden_passed]
    return Text.assemble(
        (f"{solution.status:<9}", _STATUS_STYLE[solution.status]), " ", (f"{task.task_id:<{width}}", "bold"), "  ",
        f"{solution.seconds:6.2f} s", "  ", (f"{hidden[0]:<11}", hidden[1]), "  ",
        one_line(solution, task.entry_point), (" (stored)" if resumed else "", "dim"),
    )


def print_table(label: str, counts: dict, run_name: str) -> None:
    table = Table(title=f"bombe synth: {label} (run {run_name})", title_justify="left")
    for column in ("tasks", "solved", "hidden passed", "not found", "timeouts", "time", "per task"):
        table.add_column(column, justify="right")
    hidden = f"{counts['hidden_passed']}/{counts['with_hidden']}" if counts["with_hidden"] else "n/a"
    mean = counts["seconds"] / counts["tasks"] if counts["tasks"] else 0.0
    table.add_row(str(counts["tasks"]), f"{counts['solved']}/{counts['tasks']}", hidden, str(counts["not_found"]),
                  str(counts["timeout"]), f"{counts['seconds']:.1f} s", f"{mean:.2f} s")
    out.print(table)


@click.command()
@click.option("--suite", default=None, help=f"A PBE suite: {', '.join(SUITE_NAMES)}.")
@click.option("--tasks", "tasks_path", type=click.Path(path_type=Path),
              help="Tasks JSONL file: bombe tasks whose 'tests' are the visible examples, 'hidden_tests' the held-out.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where the suites' files live (pbe/...) [default: $BOMBE_DATA].")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=10.0, show_default=True,
              help="Seconds of search per task.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N tasks.")
@click.option("--out", "out_path", type=click.Path(path_type=Path),
              help="Write one line per task: task_id, status, program, hidden_passed, seconds.")
@click.option("--show", type=click.IntRange(min=0), default=0, show_default=True,
              help="Print the full source of this many of the programs found.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Sandbox workers that confirm and judge the programs.")
@click.option("--isolation", type=click.Choice(LEVELS), default=None,
              help="Isolation level [default: the strongest that works here].")
@click.option("--unsafe-no-isolation", is_flag=True, help="Allow running with no isolation if nothing else works.")
@click.option("--run", "run_name", default=None,
              help="Name of the run in the store; an existing run of that name resumes [default: a new name].")
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=DEFAULT_STORE, show_default=True,
              help="The SQLite store that keeps every result.")
def synth(suite, tasks_path, data_dir, timeout, limit, out_path, show, workers, isolation, unsafe_no_isolation,
          run_name, store_path) -> None:
    """Find a program for each task from its visible examples, with no model; judge it on the hidden ones.

    Each program is confirmed in the sandbox on the visible examples and judged there on the
    hidden ones; results go to the store as they come, and rerunning with the same --run skips
    the tasks already done."""
    from bombe.enumerate.driver import synthesize_tasks, tally

    if (suite is None) == (tasks_path is None):
        fail("give exactly one of --suite NAME or --tasks FILE")
    if suite is not None and suite not in SUITE_NAMES:
        fail(f"unknown suite {suite!r}; known: {', '.join(SUITE_NAMES)}")
    try:
        tasks = _load(suite, tasks_path, data_dir)
    except InputError as exc:
        fail(str(exc))
    tasks = tasks[:limit] if limit else tasks
    if not tasks:
        fail(f"{tasks_path or suite}: no tasks")
    label = suite or f"jsonl:{tasks_path}"
    limits = Limits(timeout=10.0)  # judging one program; the search's own limit is --timeout
    sandbox = open_sandbox(workers, limits, isolation, unsafe_no_isolation)
    settings = {"generator": "bombe.enumerate", "timeout": timeout, "limits": limits.to_dict(),
                "isolation": sandbox.isolation}
    try:
        store = Store(store_path)
        run, _, _ = store.open_generation_run(run_name or _new_run_name(f"synth-{label}"), " ".join(sys.argv),
                                              label, tasks, settings)
        done = store.syntheses(run)
    except StoreError as exc:
        fail(str(exc))
    if done:
        console.print(f"resuming run {run.name}: {len(done)} of {len(tasks)} tasks already done", highlight=False,
                      soft_wrap=True)
    handle = out_path.open("w", encoding="utf-8") if out_path else None

    def record(position, task, solution, result, program) -> None:
        store.add_sample(run, position, task.task_id, 0, program or "")
        store.record(run, position, result)
        store.record_synthesis(run, position, solution.record())  # last: its presence means done

    with store, sandbox, _progress() as progress:
        bar = progress.add_task("synthesizing", total=len(tasks), completed=len(done), rate=0.0)
        width = min(max(len(task.task_id) for task in tasks), 40)

        def on_solution(position: int, solution, resumed: bool) -> None:
            out.print(_report_line(solution, tasks[position], resumed, width), highlight=False, soft_wrap=True)
            if handle:
                handle.write(json.dumps(solution.line()) + "\n")
                handle.flush()
            if not resumed:
                state = progress.tasks[bar]
                progress.update(bar, advance=1, rate=(state.completed + 1 - len(done)) / max(state.elapsed or 1e-9,
                                                                                            1e-9))

        try:
            solutions = synthesize_tasks(tasks, sandbox, timeout=timeout, done=done, record=record,
                                         on_solution=on_solution)
        except KeyboardInterrupt:
            progress.stop()
            kept = len(store.syntheses(run))
            console.print(f"interrupted: {kept} of {len(tasks)} tasks are kept in {store.path}; "
                          f"rerun with --run {run.name} to finish", highlight=False, soft_wrap=True)
            sys.exit(130)
        except WorkerDied as exc:
            fail(f"the sandbox could not start: {exc}")
        finally:
            if handle:
                handle.close()
        store.finish(run)
    print_table(label, tally(solutions, tasks), run.name)
    shown = [(s, t) for s, t in zip(solutions, tasks) if s.program][:show]
    for solution, task in shown:
        out.print(Text.assemble(("# ", "dim"), (task.task_id, "bold"), (f"  ({solution.seconds:.2f} s)", "dim")))
        out.print(solution.program.rstrip() + "\n", highlight=False, markup=False, soft_wrap=True)
        if solution.ambiguity:
            out.print(f"# note: another program fits the examples; they differ on input "
                      f"{solution.ambiguity['input']!r}", highlight=False, markup=False, soft_wrap=True)
    if out_path:
        console.print(f"results: {out_path}", highlight=False, soft_wrap=True)

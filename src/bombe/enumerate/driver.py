"""Synthesize a program for each task from its visible examples, confirm it, judge the hidden ones.

The synthesizer runs here, in the trusted process: it evaluates only its own DSL. The program
it renders is candidate code like any other: it runs in the sandbox, and only there. It must
reproduce every visible example there (the trust rule: a program the sandbox does not confirm
is reported `not_found` with a note, never `solved`), and the hidden examples it passes there
decide `hidden_passed`.

Each task is handed to `record` the moment it is done (`bombe synth` stores the program as the
run's sample, the sandbox's verdict on all the task's examples as its outcome, and what
synthesis said as its synthesis record); a resumed run passes the records it holds as `done`.
"""

from __future__ import annotations

import ast
import contextlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

from bombe.sandbox import Job, Sandbox
from bombe.task import InputError, Result, Task

SynthStatus = Literal["solved", "not_found", "timeout"]

# A synthesizer that overruns its own limit by this much (and this factor) is stopped from here.
OVERRUN_GRACE_SECONDS = 5.0
OVERRUN_FACTOR = 2.0


@dataclass
class Solution:
    """What synthesis gave for one task, after the sandbox had its say."""

    task_id: str
    status: SynthStatus
    program: str | None
    hidden_passed: bool | None  # None where the task has no hidden examples, or no program
    seconds: float
    expression: str | None = None
    size: int | None = None
    note: str | None = None
    ambiguity: dict | None = None  # {"program": another consistent program, "input": args where they differ}

    def line(self) -> dict:
        """The `--out` record."""
        return {"task_id": self.task_id, "status": self.status, "program": self.program,
                "hidden_passed": self.hidden_passed, "seconds": round(self.seconds, 3)}

    def record(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=repr))

    @classmethod
    def from_record(cls, record: dict) -> Solution:
        return cls(**{k: record.get(k) for k in cls.__dataclass_fields__})


# ---- what a task gives the synthesizer ------------------------------------------------------

def check_synthesizable(task: Task, source: str = "tasks", line: int | None = None) -> None:
    """Raise InputError unless `task` has call/expected `tests` with positional args of one arity."""
    if task.tests is None:
        kind = "test" if task.test is not None else "test_list"
        raise InputError(source, line, "tests",
                         f"task {task.task_id!r} has {kind!r} (assert code); synthesis needs input/output "
                         "examples in 'tests'")
    if not task.tests:
        raise InputError(source, line, "tests", f"task {task.task_id!r} has no visible examples to synthesize from")
    arity = len(task.tests[0].args)
    for field, tests in (("tests", task.tests), ("hidden_tests", task.hidden_tests or [])):
        for index, test in enumerate(tests):
            if test.kwargs:
                raise InputError(source, line, f"{field}.{index}.kwargs", "synthesis takes positional 'args' only")
            if len(test.args) != arity:
                raise InputError(source, line, f"{field}.{index}.args",
                                 f"{len(test.args)} arguments where the first example has {arity}")


def examples_of(task: Task) -> list[tuple[list, Any]]:
    return [(list(test.args), test.expected) for test in task.tests or []]


def arg_names_of(task: Task) -> list[str] | None:
    """The argument names: the task's `arg_names`, else those of the prompt's `def`, if they fit."""
    arity = len(task.tests[0].args) if task.tests else 0
    names = (task.model_extra or {}).get("arg_names")
    if isinstance(names, list) and len(names) == arity and all(isinstance(n, str) and n.isidentifier()
                                                                 for n in names):
        return names
    try:
        tree = ast.parse(task.prompt + "\n    pass\n" if task.prompt.rstrip().endswith(":") else task.prompt)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == task.entry_point:
            names = [a.arg for a in node.args.posonlyargs + node.args.args]
            return names if len(names) == arity else None
    return None


# ---- running the synthesizer ----------------------------------------------------------------

class _Overran(Exception):
    pass


@contextlib.contextmanager
def _stop_after(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (main thread only; elsewhere the synthesizer's own limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def overran(signum: int, frame: Any) -> None:
        raise _Overran()

    previous = signal.signal(signal.SIGALRM, overran)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_synthesizer(task: Task, timeout: float, value_budget: int | None = None) -> tuple[Any, float, str | None]:
    """(Synthesis or None, wall seconds, note) for one task. A synthesizer error is a note, not a crash:
    one task must not end a long run."""
    from bombe.enumerate import synthesize

    options: dict[str, Any] = {"arg_names": arg_names_of(task), "entry_point": task.entry_point, "timeout": timeout}
    if value_budget is not None:
        options["value_budget"] = value_budget
    started = time.perf_counter()
    try:
        with _stop_after(timeout * OVERRUN_FACTOR + OVERRUN_GRACE_SECONDS):
            synthesis = synthesize(examples_of(task), **options)
    except _Overran:
        return None, time.perf_counter() - started, "the synthesizer overran its time limit and was stopped"
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - reported on the task
        return None, time.perf_counter() - started, f"synthesizer error: {type(exc).__name__}: {exc}"
    return synthesis, time.perf_counter() - started, None


def _no_program(task: Task, status: SynthStatus, seconds: float, note: str | None) -> tuple[Solution, Result]:
    reason = note or ("synthesis timed out" if status == "timeout" else "synthesis found no program")
    result = Result(task_id=task.task_id, sample_index=0, status="invalid", passed=False, checks_run=0,
                    checks_passed=0, error=f"no program: {reason} ({seconds:.1f} s)", wall_ms=0.0)
    return Solution(task.task_id, status, None, None, seconds, note=note), result


def confirm(task: Task, synthesis: Any, seconds: float, sandbox: Sandbox) -> tuple[Solution, Result]:
    """Judge a synthesized program in the sandbox: the visible examples confirm it, the hidden judge it.
    The returned Result is the verdict on all the task's examples (what the store keeps)."""
    program = synthesis.program
    whole = Job.for_task(task, program, sandbox.limits)
    if task.hidden_tests:
        visible_only = task.model_copy(update={"hidden_tests": None})
        visible, full = sandbox.run_all([Job.for_task(visible_only, program, sandbox.limits), whole])
    else:
        visible = full = sandbox.run_one(whole)
    ambiguity = None
    if synthesis.ambiguity:
        other, differing = synthesis.ambiguity
        ambiguity = {"program": other, "input": differing}
    solution = Solution(task.task_id, "solved", program, full.passed if task.hidden_tests else None, seconds,
                        expression=synthesis.expression, size=synthesis.size, ambiguity=ambiguity)
    if not visible.passed:
        solution.status, solution.program, solution.hidden_passed = "not_found", None, None
        solution.note = f"the rendered program failed a visible example in the sandbox: {visible.error}"
    return solution, full.result(task.task_id, 0)


def solve(task: Task, sandbox: Sandbox, timeout: float, value_budget: int | None = None
          ) -> tuple[Solution, Result, str | None]:
    """Synthesize, then confirm: (solution, verdict on all examples, the program to store or None)."""
    synthesis, seconds, note = run_synthesizer(task, timeout, value_budget)
    if synthesis is None:
        return *_no_program(task, "timeout" if note and "overran" in note else "not_found", seconds, note), None
    if synthesis.status != "solved" or not synthesis.program:
        status = "timeout" if synthesis.status == "timeout" else "not_found"
        extra = None if synthesis.status in ("timeout", "not_found") else f"synthesizer said {synthesis.status!r}"
        return *_no_program(task, status, seconds, extra), None
    solution, result = confirm(task, synthesis, seconds, sandbox)
    return solution, result, synthesis.program


Record = Callable[[int, Task, Solution, Result, "str | None"], None]


def synthesize_tasks(
    tasks: list[Task], sandbox: Sandbox, *, timeout: float, value_budget: int | None = None,
    done: dict[int, dict] | None = None, record: Record | None = None,
    on_solution: Callable[[int, Solution, bool], None] | None = None,
) -> list[Solution]:
    """Every task's Solution, in task order: those in `done` (a resumed run's synthesis records)
    as recorded, the others synthesized now, each handed to `record` (position, task, solution,
    verdict on all examples, program or None) before the next starts. `on_solution` hears of
    each one, with whether it was already done."""
    done = done or {}
    solutions = []
    for position, task in enumerate(tasks):
        if position in done:
            solution = Solution.from_record(done[position])
            solutions.append(solution)
            if on_solution:
                on_solution(position, solution, True)
            continue
        solution, result, program = solve(task, sandbox, timeout, value_budget)
        if record:
            record(position, task, solution, result, program)
        solutions.append(solution)
        if on_solution:
            on_solution(position, solution, False)
    return solutions


def tally(solutions: list[Solution], tasks: list[Task]) -> dict:
    """Counts for the summary table and JSON."""
    with_hidden = {t.task_id for t in tasks if t.hidden_tests}
    return {
        "tasks": len(solutions),
        "solved": sum(s.status == "solved" for s in solutions),
        "not_found": sum(s.status == "not_found" for s in solutions),
        "timeout": sum(s.status == "timeout" for s in solutions),
        "with_hidden": sum(s.task_id in with_hidden for s in solutions),
        "hidden_passed": sum(bool(s.hidden_passed) for s in solutions),
        "seconds": round(sum(s.seconds for s in solutions), 3),
    }

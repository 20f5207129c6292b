"""Expected values and time limits from reference solutions (differential testing, as EvalPlus).

Some benchmarks ship inputs without outputs: a sample must return what the task's reference
returns. `prepare` runs each such reference on its inputs in the sandbox (references are code
too), fills in the expected values, and sets per-call time limits from the reference's times,
measured by this trusted process's clock between consecutive replies. Results are cached per
task and machine, so a rerun only reads them back.

Task fields read here: `expected_from_reference`, `tests`/`hidden_tests` (their inputs), the
reference program (`Task.reference_solution()`), and two optional extras: `float_atol` and
`float_rtol`, EvalPlus's float rule. With them, a test with no tolerance of its own is compared
within them once an expected value is a float or a non-empty flat list or tuple of floats,
from that test on among the task's visible tests and, separately, among its hidden ones
(EvalPlus judges base and plus inputs in two runs, and its tolerance sticks within a run).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bombe.paths import cache_root
from bombe.sandbox import Job, Sandbox
from bombe.sandbox import codec
from bombe.task import CallTest, InputError, Task

# The wall limit for one reference run on all of its task's inputs. Generous: a reference is
# trusted to be correct, not to be fast, and EvalPlus gives its ground truth no limit at all.
REFERENCE_TIMEOUT = 600.0
_CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    return cache_root() / "reference"


@dataclass(frozen=True)
class ReferenceRun:
    """What a reference returned on each of a task's inputs, and how long each call took."""

    outputs: list[Any]
    seconds: list[float]


class ReferenceFailed(InputError):
    """A reference solution raised, timed out or could not run on some of its inputs."""

    def __init__(self, failures: list[str]):
        self.failures = failures
        shown = "; ".join(failures[:5]) + (f"; and {len(failures) - 5} more" if len(failures) > 5 else "")
        super().__init__("reference solutions", None, None, f"{len(failures)} failed: {shown}")


def machine_fingerprint() -> str:
    """What makes timings (and, rarely, outputs) differ between machines."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    return "|".join([socket.gethostname(), platform.machine(), cpu, str(os.cpu_count()),
                     platform.python_implementation(), platform.python_version()])


def _canonical(value: Any) -> str:
    """A text for `value` that is the same in every process: set elements sorted, ints in hex."""
    kind = type(value)
    if kind in (set, frozenset):
        return kind.__name__ + "{" + ",".join(sorted(_canonical(item) for item in value)) + "}"
    if kind in (list, tuple):
        return kind.__name__ + "[" + ",".join(_canonical(item) for item in value) + "]"
    if kind is dict:
        return "dict{" + ",".join(f"{_canonical(k)}:{_canonical(v)}" for k, v in value.items()) + "}"
    if kind is int:
        return "int:" + format(value, "x")
    return repr(value)


def _inputs_text(tests: list[CallTest]) -> str:
    """All of a task's inputs as text, fast: one repr, unless a set (whose order varies between
    processes) or an int too long to print may be inside."""
    pairs = [(test.args, test.kwargs) for test in tests]
    try:
        text = repr(pairs)
    except ValueError:  # an int past this interpreter's digit limit
        return _canonical(pairs)
    return _canonical(pairs) if "set(" in text or "{" in text else text


def cache_key(task: Task, machine: str | None = None) -> str:
    """A hash of everything a reference run depends on: program, entry points, set-up, inputs."""
    digest = hashlib.sha256()
    for part in (
        str(_CACHE_FORMAT), machine if machine is not None else machine_fingerprint(),
        task.reference_solution() or "", task.entry_point, str(task.call_entry_point),
        task.setup or "", _inputs_text(task.all_call_tests),
    ):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def _untag(tagged: dict) -> Any:
    """json.loads hook that rebuilds the plain-data codec's tagged values: in a cache file every
    JSON object is such a tag, and C-built lists need no walk in Python (codec.from_wire's)."""
    if len(tagged) != 1:
        raise ValueError("not a tag")
    (tag, body), = tagged.items()
    if tag == "t":
        return tuple(body)
    if tag == "d":
        return {key: value for key, value in body}
    if tag in ("s", "f", "i", "u", "b"):
        return codec.from_wire({tag: body})
    raise ValueError(f"unknown tag {tag!r}")


def _read_cache(path: Path, count: int) -> ReferenceRun | None:
    try:
        version, _task_id, outputs, seconds = json.loads(path.read_text(encoding="utf-8"), object_hook=_untag)
    except (OSError, ValueError, TypeError, codec.DecodeError):
        return None
    if version != _CACHE_FORMAT or type(outputs) is not list or type(seconds) is not list:
        return None
    if len(outputs) != count or len(seconds) != count or not all(type(s) in (int, float) and s >= 0 for s in seconds):
        return None
    return ReferenceRun(outputs, [float(s) for s in seconds])


def _write_cache(path: Path, task: Task, run: ReferenceRun) -> None:
    """One JSON array per task: format, task id, outputs in the codec's tagged form, seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = [_CACHE_FORMAT, task.task_id, codec.to_wire(run.outputs), run.seconds]
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False)
    try:
        with handle:
            json.dump(record, handle, separators=(",", ":"))
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _describe_input(test: CallTest) -> str:
    try:
        shown = ", ".join([repr(a) for a in test.args] + [f"{k}={v!r}" for k, v in test.kwargs.items()])
    except ValueError:  # an int past this interpreter's digit limit
        return "an input too long to print"
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _run_references(tasks: list[Task], sandbox: Sandbox) -> tuple[dict[str, ReferenceRun], list[str]]:
    """Run every task's reference on all its inputs, in parallel in the sandbox."""
    limits = sandbox.limits._replace(timeout=max(sandbox.limits.timeout, REFERENCE_TIMEOUT))
    jobs = []
    for task in tasks:
        unlimited = task.model_copy(update={"call_timeouts": None})
        jobs.append(Job.for_task(unlimited, task.reference_solution() or "", limits))
    runs: dict[str, ReferenceRun] = {}
    failures: list[str] = []
    for index, outcome in sandbox.run(jobs):
        task, replies = tasks[index], jobs[index].replies
        tests = task.all_call_tests
        broken = next((i for i, reply in enumerate(replies) if not reply.ok), None)
        if broken is not None:
            reply = replies[broken]
            failures.append(f"{task.task_id}: the reference raised {reply.exc_type} on input {broken + 1} "
                            f"({_describe_input(tests[broken])}): {reply.exc_msg[:120]}")
        elif len(replies) < len(tests):
            why = outcome.error or outcome.status
            if outcome.status == "timeout":
                why = (f"timed out on input {len(replies) + 1} ({_describe_input(tests[len(replies)])}) "
                       f"after {limits.timeout:g} s in all")
            failures.append(f"{task.task_id}: the reference did not run on all {len(tests)} inputs: {why}")
        else:
            # Microseconds, as cached: a rerun from the cache sets the very same limits.
            seconds = [round(reply.seconds or 0.0, 6) for reply in replies]
            runs[task.task_id] = ReferenceRun([reply.value for reply in replies], seconds)
    return runs, failures


def is_floats(value: Any) -> bool:
    """EvalPlus's test for float outputs: a float, or a non-empty list or tuple of floats only."""
    if type(value) is float:
        return True
    if type(value) in (list, tuple) and value:
        return all(type(item) is float for item in value)
    return False


def _filled(task: Task, run: ReferenceRun, factor: float, min_call_seconds: float) -> Task:
    extra = task.model_extra or {}
    float_atol, float_rtol = extra.get("float_atol"), extra.get("float_rtol")

    def fill(tests: list[CallTest], outputs: list[Any]) -> list[CallTest]:
        filled, loose = [], False
        for test, expected in zip(tests, outputs):
            update: dict[str, Any] = {"expected": expected}
            if float_atol and test.atol is None and test.rtol is None:
                loose = loose or is_floats(expected)
                if loose:
                    update.update(atol=float_atol, rtol=float_rtol)
            filled.append(test.model_copy(update=update))
        return filled

    visible = len(task.tests or [])
    update: dict[str, Any] = {
        "tests": fill(list(task.tests or []), run.outputs[:visible]),
        "call_timeouts": [max(min_call_seconds, factor * s) for s in run.seconds],
    }
    if task.hidden_tests is not None:
        update["hidden_tests"] = fill(list(task.hidden_tests), run.outputs[visible:])
    return task.model_copy(update=update)


def prepare(tasks: list[Task], sandbox: Sandbox, factor: float = 4.0, min_call_seconds: float = 1.0,
            cache_dir: Path | None = None) -> list[Task]:
    """Tasks ready to judge: for each task with expected_from_reference, run its reference solution
    on every input in the sandbox, fill in the expected values, and set per-call time limits
    call_timeouts[i] = max(min_call_seconds, factor * reference time of call i), as EvalPlus does.
    Other tasks pass through unchanged. Results are cached (keyed by a hash of the reference program
    and inputs, plus the machine) under cache_dir (default ~/.cache/bombe/reference) so a rerun does
    not recompute them; a reference that raises or times out on an input is reported clearly."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    machine = machine_fingerprint()
    runs: dict[str, ReferenceRun] = {}
    paths: dict[str, Path] = {}
    missing: list[Task] = []
    failures: list[str] = []
    for task in tasks:
        if not task.expected_from_reference or task.tests is None:
            continue
        if task.reference_solution() is None:
            failures.append(f"{task.task_id}: no reference solution to compute expected values from")
            continue
        paths[task.task_id] = path = cache_dir / f"{cache_key(task, machine)}.json"
        cached = _read_cache(path, len(task.all_call_tests))
        if cached is not None:
            runs[task.task_id] = cached
        else:
            missing.append(task)
    if missing:
        computed, failed = _run_references(missing, sandbox)
        failures += failed
        by_id = {task.task_id: task for task in missing}
        for task_id, run in computed.items():
            runs[task_id] = run
            try:
                _write_cache(paths[task_id], by_id[task_id], run)
            except OSError:
                pass  # an unwritable cache costs a recomputation next time, nothing more
    if failures:
        raise ReferenceFailed(failures)
    return [_filled(task, runs[task.task_id], factor, min_call_seconds) if task.task_id in runs else task
            for task in tasks]

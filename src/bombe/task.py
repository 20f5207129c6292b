"""The nouns every other module speaks: Task, its checks, Sample, and Result.

Tasks and samples are read from JSONL, one record a line. A bad record raises
`InputError`, which names the file, the line and the field, so the CLI can print one
clear line instead of a traceback.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

STATUSES = ("pass", "fail", "error", "timeout", "memory", "output_limit", "killed", "invalid")
Status = Literal["pass", "fail", "error", "timeout", "memory", "output_limit", "killed", "invalid"]


class InputError(Exception):
    """A user's file is malformed; the message names file, line and field."""

    def __init__(self, path: str | Path, line: int | None, field: str | None, problem: str):
        self.path, self.line, self.field, self.problem = str(path), line, field, problem
        where = self.path + (f", line {line}" if line else "")
        what = f", field '{field}'" if field else ""
        super().__init__(f"{where}{what}: {problem}")


class CallTest(BaseModel):
    """One call/expected pair: the trusted parent calls entry_point(*args, **kwargs)."""

    model_config = ConfigDict(extra="forbid")
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expected: Any = None
    atol: float | None = None
    rtol: float | None = None
    exact: bool = False  # types must match too, all the way down: (1,) is not [1], 1.0 is not 1


class Task(BaseModel):
    """What to synthesize, with exactly one kind of check."""

    model_config = ConfigDict(extra="allow")
    task_id: str
    prompt: str = ""
    entry_point: str
    tests: list[CallTest] | None = None
    test: str | None = None
    test_list: list[str] | None = None
    setup: str | None = None
    hidden_tests: list[CallTest] | None = None
    canonical_solution: str | None = None
    # "code": samples are programs. "literal": a sample is one Python literal (CRUXEval),
    # judged as the value of a function `answer()` that returns it, and nothing else.
    sample_kind: Literal["code", "literal"] = "code"
    timeout: float | None = None  # wall seconds this task needs at least (slow references)
    value_bytes: int | None = None  # bytes an encoded answer may take at least (huge reference answers)
    # The benchmark has no reference solution for this task (open problems): `--samples reference`
    # leaves it out and counts it instead of refusing the whole run.
    no_reference: bool = False
    # The expected values of `tests` come from running canonical_solution on their inputs
    # (EvalPlus ships inputs, not outputs); see bombe.reference.
    expected_from_reference: bool = False
    # The function the checks actually call in the candidate's process, when an adapter defined
    # in `setup` stands between them and `entry_point` (to carry values that are not plain data).
    # `entry_point` stays the function a generator must write.
    call_entry_point: str | None = None
    call_timeouts: list[float] | None = None  # per-call wall limits, one per test (visible then hidden)

    @model_validator(mode="after")
    def _exactly_one_check_kind(self) -> Task:
        kinds = [k for k in ("tests", "test", "test_list") if getattr(self, k) is not None]
        if not kinds:
            raise ValueError("needs one of 'tests', 'test' or 'test_list'")
        if len(kinds) > 1:
            raise ValueError(f"has {' and '.join(kinds)}; give only one kind of check")
        if self.hidden_tests is not None and self.tests is None:
            raise ValueError("'hidden_tests' needs call/expected 'tests' beside it")
        if self.tests is not None and not self.tests and not self.hidden_tests:
            raise ValueError("'tests' is empty: a task needs at least one check")
        return self

    @property
    def all_call_tests(self) -> list[CallTest]:
        """Visible and hidden pairs: what the judge uses. Generators see `tests` only."""
        return list(self.tests or []) + list(self.hidden_tests or [])

    def reference_solution(self) -> str | None:
        if self.canonical_solution is None:
            return None
        if self.sample_kind == "literal":  # a literal answer stands alone; the prompt is the question
            return self.canonical_solution
        return self.prompt + self.canonical_solution


class Sample(BaseModel):
    """A candidate for a task: a full `solution`, or a `completion` appended to the prompt."""

    model_config = ConfigDict(extra="allow")
    task_id: str
    solution: str | None = None
    completion: str | None = None

    @model_validator(mode="after")
    def _has_code(self) -> Sample:
        if self.solution is None and self.completion is None:
            raise ValueError("needs 'solution' or 'completion'")
        return self

    def program(self, task: Task) -> str:
        if task.sample_kind == "literal":
            return literal_program(self.solution if self.solution is not None else self.completion or "")
        if self.solution is not None:
            return self.solution
        return task.prompt + (self.completion or "")


LITERAL_ENTRY_POINT = "answer"
LITERAL_TEXT = "_TEXT"  # where a literal sample's program keeps the sample's text


def literal_program(text: str) -> str:
    """A program whose `answer()` returns the literal `text` denotes; anything but a literal
    (a call, a name, an expression) fails there, in the candidate's process."""
    return (
        "import ast\n"
        f"{LITERAL_TEXT} = {text.strip()!r}\n"
        f"def {LITERAL_ENTRY_POINT}():\n"
        f"    return ast.literal_eval({LITERAL_TEXT})\n"
    )


class Result(BaseModel):
    """One line of results: the verdict on one sample, decided by trusted code."""

    task_id: str
    sample_index: int
    status: Status
    passed: bool
    checks_run: int
    checks_passed: int
    error: str | None = None
    wall_ms: float


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, record) for each non-blank line; bad JSON is an InputError."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, None, None, "file not found")
    try:
        with _open_text(path) as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(path, number, None, f"not valid JSON ({exc.msg})") from None
                except RecursionError:
                    raise InputError(path, number, None, "not valid JSON (nested too deeply)") from None
                except ValueError as exc:  # e.g. an int past sys.get_int_max_str_digits() digits
                    raise InputError(path, number, None, f"not valid JSON ({str(exc)[:80]})") from None
                if not isinstance(record, dict):
                    raise InputError(path, number, None, "a record must be a JSON object")
                yield number, record
    except UnicodeDecodeError:
        raise InputError(path, None, None, "not UTF-8 text") from None
    except (OSError, EOFError) as exc:
        raise InputError(path, None, None, f"cannot read ({exc})") from None


def _field_of(error: ValidationError) -> tuple[str | None, str]:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"].removeprefix("Value error, ")
    return field, message


def parse_record(model: type[BaseModel], record: dict, path: str | Path, line: int):
    try:
        return model.model_validate(record)
    except ValidationError as error:
        field, message = _field_of(error)
        raise InputError(path, line, field, message) from None


def load_tasks(path: str | Path, build: Callable[[dict, Path, int], Task] | None = None) -> list[Task]:
    """Tasks from a JSONL file, each record made a Task by `build` (default: as written)."""
    tasks: list[Task] = []
    seen: set[str] = set()
    for line, record in read_jsonl(path):
        task = build(record, Path(path), line) if build else parse_record(Task, record, path, line)
        if task.task_id in seen:
            raise InputError(path, line, "task_id", f"duplicate task id {task.task_id!r}")
        seen.add(task.task_id)
        tasks.append(task)
    return tasks


def load_samples(path: str | Path, known_task_ids: set[str] | None = None) -> list[Sample]:
    samples: list[Sample] = []
    for line, record in read_jsonl(path):
        sample = parse_record(Sample, record, path, line)
        if known_task_ids is not None and sample.task_id not in known_task_ids:
            raise InputError(path, line, "task_id", f"no task {sample.task_id!r} in the tasks given")
        samples.append(sample)
    return samples


@dataclass
class Outcome:
    """How one candidate fared on one task's checks, as decided by trusted code."""

    status: Status
    checks_run: int
    checks_passed: int
    error: str | None
    wall_ms: float
    output_tail: str = ""
    max_rss_kb: int = 0
    outputs: list[Any] | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def result(self, task_id: str, sample_index: int) -> Result:
        return Result(
            task_id=task_id, sample_index=sample_index, status=self.status, passed=self.passed,
            checks_run=self.checks_run, checks_passed=self.checks_passed, error=self.error,
            wall_ms=round(self.wall_ms, 3),
        )

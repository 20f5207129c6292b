"""HumanEval+, HumanEval+ Mini and MBPP+ (EvalPlus), read from the release files.

EvalPlus ships inputs, not outputs: a sample passes when it returns what the canonical
solution returns on every input. So each task's `tests` are the base inputs (the original
benchmark's) and its `hidden_tests` the plus inputs, with `expected` left empty and
`expected_from_reference` set: `bombe.reference.prepare` runs the reference on every input
in the sandbox, fills in the expected values and gives each call EvalPlus's time limit
(4 times the reference's time, at least 1 second).

What EvalPlus's judge does beyond `out == expected`, and how each case is reproduced here:

- Floats: a record's nonzero `atol` applies to every output, as numpy's `allclose` with
  rtol 1e-7; with atol 0, outputs are compared within 1e-6 from the first expected float or
  flat list of floats on (`float_atol`, `float_rtol`: the rule is `bombe.reference`'s).
- MBPP inputs that JSON cannot spell (tuples) are rebuilt per task as EvalPlus's
  `mbpp_deserialize_inputs` does (`MBPP_INPUTS`); complex inputs (Mbpp/124, Mbpp/252) are not
  plain data, so they travel as text and become complex in the candidate's process.
- Mbpp/737, 787 and 794 return `re.Match` objects: only whether the output is None counts
  (a bool output is compared as itself).
- Seven MBPP tasks (2, 7, 111, 140, 232, 579, 769) compare `set(out)` with `set(expected)`.

Outputs that are not plain data or too big for the channel are made so the same way: complex
numbers and Counters (Mbpp/88, Mbpp/590), ints of more than 100,000 hex digits (HumanEval/83,
HumanEval/139) and a 1.6-million-item list (Mbpp/255, as a digest of its items).

All of these go through the task's call entry point (`_bombe_call`), a small function in the
task's `setup` that converts inputs and projects outputs inside the candidate's process; a
candidate that tampers with it can only change its own answer, which the parent still judges.
Three of EvalPlus's checks need trusted code that the call/expected comparison cannot express
yet, so these tasks are judged stricter than EvalPlus (a sample must match the reference):
HumanEval/32 (`find_zero`: EvalPlus accepts any x with |poly(xs, x)| <= 1e-4), Mbpp/558 and
Mbpp/581 (EvalPlus also accepts a second reading of the task). Each carries `special_oracle`,
naming the missing check.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bombe.benchmarks import data_file
from bombe.task import CallTest, InputError, Task, load_tasks

HUMANEVAL_PLUS = "humanevalplus/HumanEvalPlus-v0.1.10.jsonl.gz"
HUMANEVAL_PLUS_MINI = "humanevalplus/HumanEvalPlus-Mini-v0.1.10.jsonl.gz"
MBPP_PLUS = "mbppplus/MbppPlus-v0.2.0.jsonl.gz"

FLOAT_ATOL = 1e-6  # EvalPlus's tolerance for float outputs when a task sets none
FLOAT_RTOL = 1e-7  # numpy.allclose's default, which EvalPlus passes explicitly
CALL_ENTRY_POINT = "_bombe_call"

# --- MBPP+ inputs: what EvalPlus's mbpp_deserialize_inputs rebuilds from JSON lists ---------


def _tuple_each(args: list) -> list:
    return [tuple(arg) for arg in args]


def _tuples_inside_each(args: list) -> list:
    return [[tuple(item) for item in arg] for arg in args]


def _tuples_inside_first(args: list) -> list:
    return [[tuple(item) for item in args[0]], args[1]]


def _tuple_second(args: list) -> list:
    return [args[0], tuple(args[1])]


def _tuple_first_of_two(args: list) -> list:
    return [tuple(args[0]), args[1]]


def _tuple_of_tuples_each(args: list) -> list:
    return [tuple(tuple(item) for item in arg) for arg in args]


def _tuple_first_with_inner_tuples(args: list) -> list:
    return [tuple(tuple(item) if isinstance(item, list) else item for item in args[0])]


def _tuple_first_of_three(args: list) -> list:
    return [tuple(args[0]), args[1], args[2]]


def _dict_values_to_tuples(args: list) -> list:
    return [{key: tuple(value) for key, value in args[0].items()}, *args[1:]]


def _sets_or_empty_dicts(args: list) -> list:
    # EvalPlus turns an empty list into {} (an empty dict, not a set): kept as it does.
    return [[set(item) if isinstance(item, list) and item else {} for item in args[0]]]


def _all_lists_to_tuples(args: list) -> list:
    def convert(value: Any) -> Any:
        return tuple(convert(item) for item in value) if isinstance(value, list) else value

    return [convert(arg) for arg in args]


def _table(*groups: tuple[Callable[[list], list], tuple[int, ...]]) -> dict[int, Callable[[list], list]]:
    return {number: rebuild for rebuild, numbers in groups for number in numbers}


MBPP_INPUTS = _table(
    (_tuple_each, (2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630,
                   726, 740, 744, 809)),
    (_tuples_inside_each, (63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780)),
    (_tuples_inside_first, (75, 413, 444, 753)),
    (_tuple_second, (106, 750)),
    (_sets_or_empty_dicts, (115,)),
    (_tuple_first_of_two, (250, 405, 446, 617, 720, 763, 808)),
    (_tuple_of_tuples_each, (259, 401, 445)),
    (_tuple_first_with_inner_tuples, (278,)),
    (_tuple_first_of_three, (307,)),
    (_dict_values_to_tuples, (722,)),
    (_all_lists_to_tuples, (580, 615, 791)),
)

# Inputs that are not plain data travel as JSON has them (text) and are converted in the
# candidate's process, as EvalPlus converts them when loading: task -> expression over `args`.
CONVERTERS = {
    "Mbpp/124": "(float(args[0]), complex(args[1]))",
    "Mbpp/252": "(complex(args[0]),)",
}
# Outputs that EvalPlus does not compare with ==, or that are not plain data: task -> an
# expression over `out`, evaluated in the candidate's process after the call.
NOT_NONE = "out if isinstance(out, bool) else out is not None"  # re.Match objects
SET_EQUAL = "set(out)"
# Complex numbers become ('complex', real, imag), dict subclasses (Counter) dicts.
AS_PLAIN = "_bombe_plain(out)"
# Ints past the plain-data codec's size cap (100,000 hex digits) cannot come back as ints, and
# the parent cannot print one past 4,300 decimal digits: such outputs travel as hex text.
BIG_INT_AS_TEXT = "('int', format(out, 'x')) if type(out) is int and out.bit_length() > 13_000 else out"
# A list too large for the channel (Mbpp/255 builds 1.6 million tuples) travels as a digest of
# its items' reprs, exact for the plain values they hold.
LARGE_AS_DIGEST = "_bombe_digest(out) if type(out) is list and len(out) > 10_000 else out"
PROJECTIONS = {
    **dict.fromkeys(["HumanEval/83", "HumanEval/139"], BIG_INT_AS_TEXT),
    **dict.fromkeys(["Mbpp/737", "Mbpp/787", "Mbpp/794"], NOT_NONE),
    **dict.fromkeys(["Mbpp/2", "Mbpp/7", "Mbpp/111", "Mbpp/140", "Mbpp/232", "Mbpp/249", "Mbpp/579", "Mbpp/769"],
                    SET_EQUAL),
    **dict.fromkeys(["Mbpp/88", "Mbpp/590"], AS_PLAIN),
    "Mbpp/255": LARGE_AS_DIGEST,
}
HELPERS = {
    "_bombe_plain": """\
def _bombe_plain(value):
    kind = type(value)
    if kind is complex:
        return ('complex', value.real, value.imag)
    if kind is list or kind is tuple:
        return kind(_bombe_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _bombe_plain(item) for key, item in value.items()}
    return value
""",
    "_bombe_digest": """\
def _bombe_digest(items):
    import hashlib
    digest = hashlib.sha256()
    for item in items:
        digest.update(repr(item).encode('utf-8', 'surrogatepass') + b'\\0')
    return ('sha256 of item reprs', len(items), digest.hexdigest())
""",
}
# EvalPlus checks that the call/expected comparison cannot express yet (see the module doc).
SPECIAL_ORACLES = {
    "HumanEval/32": "poly_root: pass if abs(poly(xs, out)) <= atol",
    "Mbpp/558": "also accept the digit distance of the numbers zero-padded to one length",
    "Mbpp/581": "also accept round(surface area with `height` read as the pyramid's height), within atol",
    "Mbpp/295": "also accept 0",
    "Mbpp/164": "accept any output",
}


def call_entry_point_source(entry_point: str, convert_args: str | None, project: str | None) -> str:
    """Setup code defining the function calls go to: it converts the plain inputs, calls the
    candidate's entry point by name (so the candidate's own recursion is untouched), and
    projects the output."""
    helpers = [source for name, source in HELPERS.items() if project and name in project]
    lines = [
        f"def {CALL_ENTRY_POINT}(*args):",
        f"    function = globals().get({entry_point!r})",
        "    if function is None:",
        f"        raise NameError({f'no function {entry_point!r}'!r})",
    ]
    if convert_args:
        lines.append(f"    args = {convert_args}")
    lines.append("    out = function(*args)")
    lines.append(f"    return {project or 'out'}")
    return "".join(helpers) + "\n".join(lines) + "\n"


def _inputs(record: dict, key: str, path: Path, line: int) -> list[list]:
    inputs = record.get(key)
    if inputs == {}:  # Mbpp/793 has no plus inputs, written as an empty object
        return []
    if not isinstance(inputs, list) or not all(isinstance(args, list) for args in inputs):
        raise InputError(path, line, key, "must be a list of argument lists")
    return inputs


def _task(record: dict, path: Path, line: int, dataset: str) -> Task:
    for key in ("task_id", "prompt", "entry_point", "canonical_solution"):
        if not isinstance(record.get(key), str):
            raise InputError(path, line, key, "missing or not a string")
    task_id, entry_point = record["task_id"], record["entry_point"]
    base, plus = _inputs(record, "base_input", path, line), _inputs(record, "plus_input", path, line)
    if dataset == "mbpp":
        rebuild = MBPP_INPUTS.get(int(task_id.rsplit("/", 1)[-1]))
        if rebuild is not None:
            base, plus = [rebuild(args) for args in base], [rebuild(args) for args in plus]
    atol = record.get("atol") or 0
    if not isinstance(atol, (int, float)):
        raise InputError(path, line, "atol", "must be a number")
    tolerance = {"atol": float(atol), "rtol": FLOAT_RTOL} if atol else {}

    def calls(inputs: list[list]) -> list[CallTest]:
        # Built without validation: 120,000 of them otherwise cost seconds, and each is plain data.
        return [CallTest.model_construct(args=list(args), kwargs={}, expected=None, atol=tolerance.get("atol"),
                                         rtol=tolerance.get("rtol"), exact=False) for args in inputs]

    fields: dict[str, Any] = {}
    convert, project = CONVERTERS.get(task_id), PROJECTIONS.get(task_id)
    if convert or project:
        fields["setup"] = call_entry_point_source(entry_point, convert, project)
        fields["call_entry_point"] = CALL_ENTRY_POINT
    if task_id in SPECIAL_ORACLES:
        fields["special_oracle"] = SPECIAL_ORACLES[task_id]
    return Task(
        task_id=task_id, prompt=record["prompt"], entry_point=entry_point, tests=calls(base),
        hidden_tests=calls(plus), canonical_solution=record["canonical_solution"], expected_from_reference=True,
        float_atol=FLOAT_ATOL, float_rtol=FLOAT_RTOL, **fields,
    )


def _load(path: Path, dataset: str) -> list[Task]:
    return load_tasks(path, lambda record, where, line: _task(record, where, line, dataset))


def load_humaneval_plus(data_dir: Path | None) -> list[Task]:
    """HumanEval+ v0.1.10: 164 tasks, base inputs visible, plus inputs hidden."""
    return _load(data_file(data_dir, HUMANEVAL_PLUS, "humaneval+"), "humaneval")


def load_humaneval_plus_mini(data_dir: Path | None) -> list[Task]:
    """HumanEval+ Mini v0.1.10: the same 164 tasks with a reduced set of plus inputs."""
    return _load(data_file(data_dir, HUMANEVAL_PLUS_MINI, "humaneval+mini"), "humaneval")


def load_mbpp_plus(data_dir: Path | None) -> list[Task]:
    """MBPP+ v0.2.0: 378 tasks, base inputs visible, plus inputs hidden."""
    return _load(data_file(data_dir, MBPP_PLUS, "mbpp+"), "mbpp")

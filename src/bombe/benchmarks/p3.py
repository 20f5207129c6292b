"""P3, the Python Programming Puzzles (Schuster et al., NeurIPS 2021 Datasets and Benchmarks).

A puzzle is a trusted verifier `sat(x, **params)`; solving it means writing `sol(**params)`
that returns an answer `x` with `sat(x) is True`. bombe judges a candidate program that defines
`sol` (the puzzle's `sol_header`): the judge calls `sol()` through the proxy, so only the answer,
as plain data, crosses into the judge; there it must have the puzzle's `ans_type` exactly
(`type(v) is int`, `type(v) is list`, ... as upstream `type_check` does: a bool is not an int,
an int is not a float, a tuple is not a list) and `sat(answer)` must return literally `True`
(upstream `test_puzzle`: `f(x) is True`, not merely truthy). `sat` runs with its own default
parameters, which are the `sol_header` defaults for every first instance, so `sol()` is called
with no arguments, as the paper's judge does (`assert test_puzzle(f, g())`).

Loaders:
- `p3`: the 397 first instances of `397puzzles.json` (the set of the paper's Codex experiments).
- `p3-train` / `p3-test`: `split.json`'s 155 / 228 problem names, each matched exactly to the record
  named `NAME:0` (its first instance) in `puzzles.json`; 14 HumanEval-derived problems are in neither.

Task ids are the puzzle instance names (`Study_1:0`), the same id in every loader.
Eleven puzzles (open problems such as `Conway99`, and `HelloWorld`, unsolved by design) have no
reference answer: their tasks carry `no_reference=True` and no `canonical_solution`.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

from bombe.benchmarks import data_file
from bombe.task import InputError, Task

NAME = "p3"
PUZZLES_397 = "p3/397puzzles.json.gz"
PUZZLES_ALL = "p3/puzzles.json.gz"
SPLIT = "p3/split.json"

# What every puzzle's code may assume is already imported: the typing names the upstream
# judge put in its environment (solvers/codex/lm_solve/judge.py). Puzzles and references
# import anything else themselves.
PREAMBLE = "from typing import Dict, List, Set, Tuple\n"

# Per-problem wall-clock floors (seconds). Rule: a problem whose reference (sol() then sat())
# takes over 1 s in-process (CPython 3.11, one core of the 2-core development machine) gets a
# 60 s floor, about 30x headroom for slower or loaded machines and the sandbox's own costs; all
# other references take at most 0.4 s, which the default 10 s covers 25 times over.
# Measured: Mastermind 1.8 s (sol 1.4 s + sat 0.4 s; 2-4 s in the sandbox, whatever
# PYTHONHASHSEED); next slowest Kirkman 0.4 s.
SLOW_PROBLEMS: dict[str, float] = {"Mastermind": 60.0}

# Per-problem floors on the encoded answer size (bytes), for answers past the sandbox's default
# 32 MiB `Limits.value_bytes`. Rule: twice the measured size, rounded up to a power of two MiB.
# Measured: ExponentialCoinMoves 67,874,563 bytes (32,805 five-int states, ints up to 2**16385);
# every other reference answer is under 1 MiB. Rides on the task as `value_bytes`, which the
# sandbox honours once Job.for_task raises Limits.value_bytes to it (see docs/benchmarks.md).
LARGE_ANSWERS: dict[str, int] = {"ExponentialCoinMoves": 256 << 20}

_TYPE_NAME = re.compile(r"((?:List\[)*)(bool|int|float|str)(\]*)")


def checkable_type(ans_type: str) -> bool:
    """Whether the judge can check an answer against `ans_type` exactly: (nested) lists of a base type."""
    match = _TYPE_NAME.fullmatch(ans_type)
    return bool(match) and match.group(1).count("[") == len(match.group(3))


# Mirrors upstream puzzle_generator.type_check: exact types, lists only, all the way down.
_TYPE_CHECK = '''
def _p3_has_type(value, type_name):
    depth = type_name.count("List[")
    base = {"bool": bool, "int": int, "float": float, "str": str}[type_name[5 * depth:len(type_name) - depth]]

    def matches(item, level):
        if level == 0:
            return type(item) is base
        return type(item) is list and all(matches(inner, level - 1) for inner in item)

    return matches(value, depth)
'''


def problem_name(instance_name: str) -> str:
    """`Study_1:0` -> `Study_1`."""
    return instance_name.rsplit(":", 1)[0]


def make_prompt(puzzle: dict) -> str:
    """The puzzle as a generator sees it: imports, `sat`, then `sol`'s header and docstring."""
    return f"{PREAMBLE}\n\n{puzzle['sat'].rstrip()}\n\n\n{puzzle['sol_header']}\n{puzzle['sol_docstring'].rstrip()}\n"


def make_test(puzzle: dict) -> str:
    """The judge's check: `sat` is defined here (trusted benchmark code), the answer comes from the proxy."""
    ans_type = puzzle["ans_type"]
    lines = [PREAMBLE, puzzle["sat"].rstrip(), "\n"]
    type_assert = ""
    if checkable_type(ans_type):
        lines.append(_TYPE_CHECK)
        type_assert = (f"    assert _p3_has_type(answer, {ans_type!r}), "
                       f"'the answer is not exactly of type {ans_type}'\n")
    lines.append(
        "def check(candidate):\n"
        "    answer = candidate()\n"
        f"{type_assert}"
        "    assert sat(answer) is True, 'sat(answer) is not True'\n"
    )
    return "\n".join(lines)


def puzzle_task(puzzle: dict) -> Task:
    """One puzzle record (the upstream JSON shape) as a Task; its first reference body is the canonical solution."""
    name = puzzle["name"]
    bodies = puzzle.get("sol_bodies") or []
    extra: dict[str, Any] = {
        "ans_type": puzzle["ans_type"],
        "sat": puzzle["sat"],
        "sol_header": puzzle["sol_header"],
        "module": puzzle.get("module", ""),
        "weight": puzzle.get("weight", 1.0),
        "no_reference": not bodies,
    }
    if problem_name(name) in LARGE_ANSWERS:
        extra["value_bytes"] = LARGE_ANSWERS[problem_name(name)]
    return Task(
        task_id=name,
        prompt=make_prompt(puzzle),
        entry_point="sol",
        test=make_test(puzzle),
        setup=PREAMBLE,
        canonical_solution=(bodies[0].rstrip() + "\n") if bodies else None,
        timeout=SLOW_PROBLEMS.get(problem_name(name)),
        **extra,
    )


def _read_json(path: Path) -> Any:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise InputError(path, exc.lineno, None, f"not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # e.g. an int literal past sys.get_int_max_str_digits()
        raise InputError(path, None, None, f"not valid JSON ({str(exc)[:80]})") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(path, None, None, f"cannot read ({exc})") from None


_FIELDS = ("name", "sat", "ans_type", "sol_header", "sol_docstring", "sol_bodies")


def _read_puzzles(path: Path) -> list[dict]:
    records = _read_json(path)
    if not isinstance(records, list):
        raise InputError(path, None, None, "expected a JSON array of puzzles")
    for index, record in enumerate(records):
        missing = [key for key in _FIELDS if not isinstance(record, dict) or key not in record]
        if missing:
            raise InputError(path, None, f"[{index}].{missing[0]}", "missing from a puzzle record")
    return records


def load(data_dir: Path | None) -> list[Task]:
    """`p3`: the 397 puzzles of the paper's experiments, one instance each."""
    return [puzzle_task(p) for p in _read_puzzles(data_file(data_dir, PUZZLES_397, NAME))]


def _load_split(data_dir: Path | None, part: str) -> list[Task]:
    benchmark = f"{NAME}-{part}"
    split_path = data_file(data_dir, SPLIT, benchmark)
    split = _read_json(split_path)
    if not isinstance(split, dict) or not isinstance(split.get(part), list):
        raise InputError(split_path, None, part, "expected a list of problem names")
    first = {p["name"]: p for p in _read_puzzles(data_file(data_dir, PUZZLES_ALL, benchmark))
             if p["name"].endswith(":0")}
    tasks = []
    for name in split[part]:
        puzzle = first.get(f"{name}:0")
        if puzzle is None:
            raise InputError(split_path, None, part,
                             f"problem {name!r} has no first instance '{name}:0' in puzzles.json")
        tasks.append(puzzle_task(puzzle))
    return tasks


def load_train(data_dir: Path | None) -> list[Task]:
    """`p3-train`: split.json's 155 training problems, first instances from puzzles.json."""
    return _load_split(data_dir, "train")


def load_test(data_dir: Path | None) -> list[Task]:
    """`p3-test`: split.json's 228 test problems, first instances from puzzles.json."""
    return _load_split(data_dir, "test")


def without_reference(tasks: list[Task]) -> list[str]:
    """Ids of the tasks the benchmark ships no reference answer for (open or deliberately unsolved)."""
    return [t.task_id for t in tasks if getattr(t, "no_reference", False)]


def with_reference(tasks: list[Task]) -> list[Task]:
    """The tasks `--samples reference` can check."""
    return [t for t in tasks if t.canonical_solution is not None]

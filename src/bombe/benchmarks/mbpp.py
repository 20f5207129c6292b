"""MBPP, Mostly Basic Python Problems (Austin et al. 2021, arXiv:2108.07732).

Loaders:
- `mbpp`: all 974 tasks of `mbpp.jsonl` (ids 1-974).
- `mbpp-test`: the standard test split, ids 11-510 (500 tasks), the split papers report.
- `mbpp-sanitized`: the 427 hand-verified tasks of `sanitized-mbpp.json`, with their own
  (revised) descriptions and asserts, and their `test_imports`.

Task ids are `Mbpp/<id>`, the form EvalPlus uses, so MBPP+ results line up.

A task is checked with its `test_list` asserts, run in the judge with the function's name bound
to the proxy; a sample passes when every assert holds (the paper's metric). The full file's
`challenge_test_list` (11 tasks, 1-3 extra asserts each) is not part of the standard metric and
is kept out of the check; it rides along as metadata on the tasks that have one.

The prompt follows the paper's (description, then the tests the model must pass), inside a
docstring so that it is valid Python: `prompt + canonical_solution` is the reference program
and `prompt + completion` a completion sample's program. The paper shows all of a task's
tests; so does this prompt.

References use `\\r\\n` line endings (four end in a lone `\\r`); they are normalized to `\\n`.
Names the asserts use besides the function are imported in the set-up when the reference imports
them (`sys` in 596; the sanitized file's `test_imports` are the set-up already). Ten tasks of
the full file and six of the sanitized one pass or get values that are not plain data (objects,
complex numbers, types, Counters, regex matches); they go through an adapter, described below,
and their `call_entry_point` is the adapter's name (`bombe_adapted_<function>`).

Metadata on every task: `function_name` (the function to write), `text` (the description),
`split` (prompt / test / validation / train, by the README's id ranges); where present,
`challenge_test_list` and `adapter` (why the task needs one).
"""

from __future__ import annotations

import ast
import builtins
import functools
import gzip
import json
import warnings
from pathlib import Path
from typing import Any

from bombe.benchmarks import data_file
from bombe.task import InputError, Task

FULL = "mbpp/mbpp.jsonl.gz"
SANITIZED = "mbpp/sanitized-mbpp.json.gz"

PROMPT_HEAD = "You are an expert Python programmer, and here is your task: "
PROMPT_TESTS = " Your code should pass these tests:\n\n"

# Per-task wall-clock floors (seconds), each with its reason; the rule is "a reference that does
# more than 10^7 basic operations gets 60 s". Every other reference is a few list or string
# operations on small inputs, well inside the default 10 s.
SLOW_TASKS: dict[int, tuple[float, str]] = {
    123: (60.0, "the reference's amicable_numbers_sum finds divisors by trial division of every number "
                "below the limit and of its divisor sum: 8.3*10^7 modulo operations over the three asserts"),
}


def split_of(number: int) -> str:
    """The README's split of an MBPP task id."""
    if 1 <= number <= 10:
        return "prompt"
    if 11 <= number <= 510:
        return "test"
    if 511 <= number <= 600:
        return "validation"
    return "train"


def normalize_newlines(code: str) -> str:
    return code.replace("\r\n", "\n").replace("\r", "\n")


@functools.lru_cache(maxsize=8192)
def _parse(source: str) -> ast.Module:
    """Each assert and reference is looked at several times: parse it once. Never mutated."""
    with warnings.catch_warnings():  # upstream code holds regexes like '\d' in plain strings
        warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
        return ast.parse(source)


@functools.lru_cache(maxsize=8192)
def _nodes(source: str) -> tuple[ast.AST, ...]:
    return tuple(ast.walk(_parse(source)))


def _called_names(source: str) -> list[str]:
    """Names called as plain functions, in source order."""
    calls = [node for node in _nodes(source)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    return [node.func.id for node in calls]


def _top_level_functions(code: str) -> list[str]:
    return [node.name for node in _parse(code).body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def find_entry_point(tests: list[str], code: str) -> str:
    """The function every assert calls that the reference defines (first in the first assert);
    else the first non-builtin every assert calls; else the reference's last top-level def."""
    called = [_called_names(test) for test in tests]
    in_all = [name for name in dict.fromkeys(called[0]) if all(name in names for names in called[1:])]
    defined = _top_level_functions(code)
    for name in in_all:
        if name in defined:
            return name
    for name in in_all:
        if not hasattr(builtins, name):
            return name
    if defined:
        return defined[-1]
    raise ValueError("no function found in the asserts or the reference")


def _loaded_names(source: str) -> set[str]:
    return {node.id for node in _nodes(source)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _bound_names(source: str) -> set[str]:
    """Names a piece of set-up code binds at top level."""
    bound: set[str] = set()
    for node in _parse(source).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    bound.add(sub.id)
    return bound


def _reference_imports(code: str) -> dict[str, str]:
    """name -> the import statement that binds it at the reference's top level."""
    found: dict[str, str] = {}
    for node in _parse(code).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                single = type(node)(names=[alias], **({"module": node.module, "level": node.level}
                                                     if isinstance(node, ast.ImportFrom) else {}))
                found[name] = ast.unparse(single)
    return found


def free_names(tests: list[str], entry_point: str, setup: str) -> set[str]:
    """Names the asserts read that are neither builtins, the entry point, nor bound by `setup`."""
    names: set[str] = set()
    for test in tests:
        names |= _loaded_names(test)
    return {name for name in names
            if name != entry_point and not hasattr(builtins, name)} - _bound_names(setup)


# ---------------------------------------------------------------------------------------------
# Adapters. Only plain data crosses between the judge and the candidate's process, and a few
# MBPP asserts pass or get other values: tree objects its set-up code builds (367, 927), objects
# of a class the task asks for (601, `Pair`), complex numbers (124, 590), a type (533),
# `collections.Counter` / `defaultdict` results (40, 88, 653, 902) and `re.Match` results
# (sanitized 737, 787, 794). For those tasks the entry point is an adapter that the set-up code
# defines: the judge-side function of the task's name (which the asserts call, verbatim) hands
# plain stand-ins to the adapter in the candidate's process, which rebuilds the real values
# there (with the candidate's own `Node` / `Pair` class, as the original program did), calls the
# candidate's own function, and turns its result back into plain data; the judge turns that back
# into values and the assert compares them in the judge, as for every other task.
#
# Argument-side needs are found from the asserts; result-side ones are not visible there, so they
# are listed, each found by running the reference (the values its function returns).
RESULT_ADAPTED: dict[str, dict[int, str]] = {
    FULL: {
        40: "returns a collections.Counter, compared with a dict",
        88: "returns a collections.Counter, compared with a dict",
        590: "returns a complex number",
        653: "returns a collections.defaultdict, compared with a dict",
        902: "returns a collections.Counter, compared with a dict",
    },
    SANITIZED: {
        88: "returns a collections.Counter, compared with a dict",
        590: "returns a complex number",
        737: "returns an re.Match (or None), tested for truth",
        787: "returns an re.Match (or None), tested for truth",
        794: "returns an re.Match (or None), tested for truth",
    },
}

ADAPTER_PREFIX = "bombe_adapted_"

_ADAPTER = '''
# bombe adapter for this task: {why}.
# Such values cannot cross between the judge's process and the candidate's as plain data, so
# the judge's `{name}` below sends plain stand-ins to `{entry}`
# in the candidate's process, which rebuilds the values there, calls the candidate's own
# `{name}` (whose definition replaces the one below) and sends the result back as plain data.
import builtins as _bombe_builtins
import re as _bombe_re

_BOMBE_TAG = "bombe:value"
_BOMBE_TYPES = ("int", "float", "complex", "str", "bytes", "bool", "list", "tuple", "dict", "set", "frozenset")
_BOMBE_SETUP = {setup!r}
_bombe_setup_names = None


def _bombe_to_plain(value):
    kind = type(value)
    if kind is complex:
        return {{_BOMBE_TAG: ["complex", value.real, value.imag]}}
    if isinstance(value, type) and value.__name__ in _BOMBE_TYPES and getattr(_bombe_builtins, value.__name__) is value:
        return {{_BOMBE_TAG: ["type", value.__name__]}}
    if isinstance(value, _bombe_re.Match):
        return True  # the asserts only test whether there was a match
    if isinstance(value, dict):  # a Counter or defaultdict compares as the dict it holds
        return {{_bombe_to_plain(key): _bombe_to_plain(item) for key, item in dict.items(value)}}
    if kind in (list, tuple, set, frozenset):
        return kind(_bombe_to_plain(item) for item in value)
    return value


def _bombe_missing(name):
    return NameError(f"name {{name!r}} is not defined")


def _bombe_from_plain(value, in_candidate):
    kind = type(value)
    if kind is dict and len(value) == 1 and _BOMBE_TAG in value and type(value[_BOMBE_TAG]) is list:
        what, *rest = value[_BOMBE_TAG]
        if what == "complex":
            return complex(*rest)
        if what == "type" and rest and rest[0] in _BOMBE_TYPES:
            return getattr(_bombe_builtins, rest[0])
        if in_candidate and what == "setup":  # a value the task's set-up code builds
            global _bombe_setup_names
            if _bombe_setup_names is None:  # run once, after the candidate's code, as MBPP did
                _bombe_setup_names = dict(globals())
                exec(_BOMBE_SETUP, _bombe_setup_names)
            return _bombe_setup_names[rest[0]]
        if in_candidate and what == "new":  # an object of a class the candidate defines
            cls = globals().get(rest[0])
            if cls is None or getattr(cls, "_bombe_stand_in", False):
                raise _bombe_missing(rest[0])
            return cls(*_bombe_from_plain(rest[1], in_candidate))
        return value
    if kind is dict:
        return {{_bombe_from_plain(k, in_candidate): _bombe_from_plain(v, in_candidate) for k, v in value.items()}}
    if kind in (list, tuple, set, frozenset):
        return kind(_bombe_from_plain(item, in_candidate) for item in value)
    return value
{stand_ins}

def {name}(*args, **kwargs):  # the judge's; there the proxy is bound to `{entry}`
    return _bombe_from_plain({entry}(*_bombe_to_plain(args), **_bombe_to_plain(kwargs)), False)


{name}._bombe_stand_in = True


def {entry}(*args, **kwargs):  # the candidate's entry point
    function = globals().get({name!r})
    if function is None or getattr(function, "_bombe_stand_in", False):
        raise _bombe_missing({name!r})
    return _bombe_to_plain(function(*_bombe_from_plain(args, True), **_bombe_from_plain(kwargs, True)))
'''

_SETUP_STAND_IN = '''
{name} = {{_BOMBE_TAG: ["setup", {name!r}]}}
'''

_CLASS_STAND_IN = '''

def {name}(*args):
    return {{_BOMBE_TAG: ["new", {name!r}, list(args)]}}


{name}._bombe_stand_in = True
'''


def _argument_needs(tests: list[str], entry_point: str) -> list[str]:
    """Why the asserts' arguments to the entry point are not all plain data, if they are not."""
    needs, types = [], []
    for test in tests:
        for node in _nodes(test):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point):
                continue
            for arg in [*node.args, *(keyword.value for keyword in node.keywords)]:
                called = {id(sub.func) for sub in ast.walk(arg) if isinstance(sub, ast.Call)}
                for sub in ast.walk(arg):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, complex):
                        needs.append("its asserts pass complex numbers")
                    elif (isinstance(sub, ast.Name) and id(sub) not in called
                          and isinstance(getattr(builtins, sub.id, None), type)):
                        types.append(sub.id)
    if types:
        needs.append("its asserts pass types (" + ", ".join(dict.fromkeys(types)) + ")")
    return list(dict.fromkeys(needs))


def adapter_setup(name: str, why: str, setup_code: str = "", setup_names: list[str] = (),
                  classes: list[str] = ()) -> str:
    """Set-up code defining the judge-side `name` and the candidate-side adapter entry point."""
    stand_ins = "".join(_SETUP_STAND_IN.format(name=n) for n in setup_names)
    stand_ins += "".join(_CLASS_STAND_IN.format(name=n) for n in classes)
    return _ADAPTER.format(why=why, name=name, entry=ADAPTER_PREFIX + name, setup=setup_code, stand_ins=stand_ins)


def make_prompt(text: str, tests: list[str]) -> str:
    """The paper's prompt (without its few-shot examples) as a docstring: valid Python."""
    body = PROMPT_HEAD + " ".join(text.split()) + PROMPT_TESTS + "\n".join(test.strip() for test in tests) + "\n"
    for quote in ('"""', "'''"):
        if quote not in body:
            prompt = ("r" if "\\" in body else "") + quote + "\n" + body + quote + "\n"
            break
    else:
        prompt = "".join(f"# {line}\n" for line in body.splitlines())
    ast.parse(prompt)
    return prompt


def build_task(number: int, text: str, code: str, tests: list[str], setup: str, which: str,
               **extra: Any) -> Task:
    """One MBPP task from a record's fields; `which` is the data file (FULL or SANITIZED)."""
    code = normalize_newlines(code)
    setup = normalize_newlines(setup).strip()
    entry_point = find_entry_point(tests, code)
    defined = set(_top_level_functions(code))
    classes = {node.name for node in _parse(code).body if isinstance(node, ast.ClassDef)}
    needs: list[str] = []

    # Set-up code that builds objects of the reference's own classes runs after the candidate's
    # code, in its process (MBPP ran code, then set-up, then asserts, in one namespace).
    setup_in_candidate, setup_names = "", []
    if setup and (_loaded_names(setup) - _bound_names(setup)) & (classes | defined):
        setup_in_candidate, setup = setup, ""
        setup_names = sorted(set().union(*map(_loaded_names, tests)) & _bound_names(setup_in_candidate))
        built = sorted((_loaded_names(setup_in_candidate) - _bound_names(setup_in_candidate)) & classes)
        needs.append(f"its set-up code builds {', '.join(setup_names)} from the candidate's "
                     f"{', '.join(built)} class")
    free = free_names(tests, entry_point, setup) - set(setup_names)

    # Modules the asserts use that the reference imports (`sys` in 596): imported in the set-up.
    imports = _reference_imports(code)
    setup = "\n".join([setup] * bool(setup) + [imports[name] for name in sorted(free) if name in imports])
    free -= set(imports)

    new_classes = sorted(free & classes)
    if new_classes:
        needs.append(f"its asserts build {', '.join(new_classes)} objects, a class the candidate defines")
    free -= classes
    if free:
        raise ValueError(f"the asserts use {', '.join(sorted(free))}, which neither the reference "
                         "nor the set-up code defines")
    needs += _argument_needs(tests, entry_point)
    if number in RESULT_ADAPTED[which]:
        needs.append("its reference " + RESULT_ADAPTED[which][number])

    fields: dict[str, Any] = {"entry_point": entry_point}
    if needs:
        why = "; ".join(needs)
        adapter = adapter_setup(entry_point, why, setup_in_candidate, setup_names, new_classes)
        setup = (setup + "\n" if setup else "") + adapter
        fields = {"entry_point": entry_point, "call_entry_point": ADAPTER_PREFIX + entry_point, "adapter": why}
    slow = SLOW_TASKS.get(number)
    return Task(
        task_id=f"Mbpp/{number}",
        prompt=make_prompt(text, tests),
        test_list=list(tests),
        setup=setup or None,
        canonical_solution=code if code.endswith("\n") else code + "\n",
        timeout=slow[0] if slow else None,
        text=text,
        split=split_of(number),
        function_name=entry_point,
        **fields,
        **extra,
    )


def _records_full(path: Path) -> list[tuple[int, dict]]:
    from bombe.task import read_jsonl

    return list(read_jsonl(path))


def _records_sanitized(path: Path) -> list[tuple[int, dict]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            records = json.load(handle)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, None, None, f"cannot read ({exc})") from None
    if not isinstance(records, list):
        raise InputError(path, None, None, "expected a JSON array of records")
    return list(enumerate(records, 1))


def _load(data_dir: Path | None, benchmark: str, which: str) -> list[Task]:
    path = data_file(data_dir, which, benchmark)
    full = which == FULL
    tasks = []
    for where, record in (_records_full(path) if full else _records_sanitized(path)):
        line = where if full else None  # the sanitized file is one JSON array: name the record
        context = "" if full else f"record {where}: "

        def field(name: str, kind: type) -> Any:
            value = record.get(name)
            if not isinstance(value, kind) or (kind is list and not all(type(item) is str for item in value)):
                raise InputError(path, line, name, f"{context}missing or not a {kind.__name__}"
                                 + (" of strings" if kind is list else ""))
            return value

        if not isinstance(record, dict):
            raise InputError(path, line, None, f"{context}not a JSON object")
        number, code, tests = field("task_id", int), field("code", str), field("test_list", list)
        if not tests:
            raise InputError(path, line, "test_list", f"{context}no asserts")
        if full:
            text, setup = field("text", str), field("test_setup_code", str)
            challenge = field("challenge_test_list", list)
            extra = {"challenge_test_list": challenge} if challenge else {}
        else:
            text, setup, extra = field("prompt", str), "\n".join(field("test_imports", list)), {}
        try:
            tasks.append(build_task(number, text, code, tests, setup, which, **extra))
        except (SyntaxError, ValueError) as exc:
            raise InputError(path, line, None, f"{context}task {number}: {exc}") from None
    return tasks


def load(data_dir: Path | None) -> list[Task]:
    """All 974 MBPP tasks (ids 1-974), checked with each task's three `test_list` asserts."""
    return _load(data_dir, "mbpp", FULL)


def load_test(data_dir: Path | None) -> list[Task]:
    """The standard test split: ids 11-510, 500 tasks."""
    return [task for task in _load(data_dir, "mbpp-test", FULL) if task.split == "test"]


def load_sanitized(data_dir: Path | None) -> list[Task]:
    """The 427 hand-verified tasks of sanitized-mbpp.json, with their `test_imports` as set-up."""
    return _load(data_dir, "mbpp-sanitized", SANITIZED)

"""Programming-by-example suites: input/output pairs in, a function out.

Each loader reads one published suite from the data directory (`pbe/...` under `--data-dir`
or `$BOMBE_DATA`; see each folder's SOURCE.md) and yields bombe Tasks whose `tests` are the
visible examples (what a synthesizer may look at) and whose `hidden_tests` are the held-out
ones (None where the suite has none). Every check is `exact`: a program returning True or
1.0 where 1 is expected, or a tuple where a list is, does not reproduce the example.

| suite | file | tasks | held out |
| --- | --- | --- | --- |
| `lambdabeam` (`-handwritten`, `-synthetic`) | lambdabeam/lambdabeam_tasks_200.json | 100 + 100 | 3 per task |
| `bustle-new` | bustle/bustle_new_38.json | 38 | `testExamples` |
| `bustle-sygus` | bustle/bustle_sygus_89.json | 89 | none (train == test) |
| `lambda2` | lambda2/*.json (Lisp syntax) | 44 | none |
| `sygus` | sygus_pbe_slia_2019/parsed_examples.json | 209 of 210 | none |
| `dreamcoder` | dreamcoder_lists/dreamcoder_list_tasks_218.json | 218 | 10 of 15 |

SyGuS's `max3.sl` has no examples (a logical spec), so it is left out with a `SkippedTasks`
warning. lambda^2's trees are no Python type: a tree `{v c1 c2}` becomes the list
`[v, c1, c2]` and the empty tree `{}` the empty list, and those tasks carry
`needs_tree: true` (a list synthesizer will not find their recursive programs).

Where the data directory lacks a file that is an unchanged copy of an upstream file (BUSTLE,
lambda^2), `fetch` downloads it from the upstream repository at the commit SOURCE.md names
into the cache (`$BOMBE_CACHE/pbe/...`); `BOMBE_PBE_MIRROR` replaces
`https://raw.githubusercontent.com` for a mirror. The other files were converted by hand from
upstream formats (Python literals, SyGuS-IF, pickles) and must come from a data directory.
"""

from __future__ import annotations

import builtins
import functools
import importlib.resources
import json
import keyword
import os
import re
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bombe.benchmarks import MissingData, data_file
from bombe.paths import cache_root
from bombe.task import CallTest, InputError, Task, load_tasks

RAW = "https://raw.githubusercontent.com"
_CROSSBEAM = "google-research/crossbeam/c43cb523fa9887513fb18bf088eb588f3fec5835"
_L2 = "jfeser/L2/053b59c789967e16bdc761c17a61f86e2a4a4e4c"

LAMBDA2_NAMES = (
    "Dedup", "Reverse", "add", "append", "appendt", "concat", "count_leaves", "count_nodes", "cprod",
    "droplast", "dropmax", "dropmins", "dupli", "evens", "flatten", "flattenl", "height", "incrs", "incrt",
    "insertn", "intersect", "join", "largest_n", "last", "leaves", "length", "max", "maxt", "member", "membert",
    "multfirst", "multlast", "prependt", "replacet", "searchnodes", "selectnodes", "shiftl", "shiftr", "sum",
    "sumnodes", "sums", "sumt", "sumtrees", "tconcat",
)

# Data-directory file -> its upstream path under RAW, for the files that are unchanged copies.
UPSTREAM: dict[str, str] = {
    "pbe/bustle/bustle_new_38.json": f"{_CROSSBEAM}/crossbeam/data/new/new_benchmarks.json",
    "pbe/bustle/bustle_sygus_89.json": f"{_CROSSBEAM}/crossbeam/data/sygus/sygus_benchmarks.json",
    **{f"pbe/lambda2/{name}.json": f"{_L2}/bench/{name}.json" for name in LAMBDA2_NAMES},
}

DEMO_RESOURCE = "demo_tasks.jsonl"  # in the bombe.enumerate package


class SkippedTasks(UserWarning):
    """A suite holds tasks that cannot be PBE tasks here; the message names them and why."""


class FetchFailed(Exception):
    """An upstream file could not be downloaded."""


# ---- finding files -------------------------------------------------------------------------

def cache_dir() -> Path:
    return cache_root()


def upstream_url(relative: str) -> str:
    base = os.environ.get("BOMBE_PBE_MIRROR") or RAW
    return f"{base.rstrip('/')}/{UPSTREAM[relative]}"


def fetch(relative: str, root: Path | None = None, timeout: float = 30.0) -> Path:
    """Download one upstream file into the cache (once) and return its path there."""
    if relative not in UPSTREAM:
        raise FetchFailed(f"{relative} has no unchanged upstream copy to fetch")
    target = (root or cache_dir()) / relative
    if target.is_file():
        return target
    url = upstream_url(relative)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
        json.loads(body)  # an error page or a cut-off body is no data file
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchFailed(f"could not fetch {url}: {exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(body)
    partial.replace(target)  # a fetch cut short never leaves a file that looks complete
    return target


def pbe_file(data_dir: Path | None, relative: str, suite: str) -> Path:
    """The suite's file from the data directory, else from the cache, else fetched upstream."""
    try:
        return data_file(data_dir, relative, suite)
    except MissingData as missing:
        if relative not in UPSTREAM:
            raise
        cached = cache_dir() / relative
        if cached.is_file():
            return cached
        try:
            return fetch(relative)
        except FetchFailed as exc:
            raise MissingData(missing.path, None, None, f"{missing.problem}; {exc}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, None, None, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, exc.lineno, None, f"not valid JSON ({exc.msg})") from None
    except OSError as exc:
        raise InputError(path, None, None, f"cannot read ({exc})") from None


# ---- building tasks ------------------------------------------------------------------------

_RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist)


def entry_point_for(name: str, arg_names: list[str] = ()) -> str:
    """A Python function name for a task name that no builtin, keyword or argument shadows:
    a program that calls `sum` must not be named `sum`."""
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name.removesuffix(".sl")).lower()
    text = re.sub(r"\W+", "_", text).strip("_") or "f"
    if text[0].isdigit():
        text = "f_" + text
    while text in _RESERVED or text in arg_names:
        text += "_fn"
    return text


def _prompt(entry_point: str, arg_names: list[str], doc: str) -> str:
    doc = doc.replace("\\", "\\\\").replace('"""', "'''")
    return f'def {entry_point}({", ".join(arg_names)}):\n    """{doc}"""\n'


def _calls(pairs: list[tuple[list, Any]]) -> list[CallTest]:
    return [CallTest(args=list(args), expected=expected, exact=True) for args, expected in pairs]


def _task(suite: str, name: str, arg_names: list[str], doc: str, visible: list, hidden: list | None,
          **extra: Any) -> Task:
    entry_point = entry_point_for(name.split(":")[-1], arg_names)
    return Task(task_id=f"{suite}/{name}", prompt=_prompt(entry_point, arg_names, doc), entry_point=entry_point,
                tests=_calls(visible), hidden_tests=_calls(hidden) if hidden else None,
                no_reference=True,  # the suites' solutions are in their own DSLs, not Python
                arg_names=arg_names, pbe_suite=suite, **extra)


def _records(path: Path, data: Any, key: str | None = None) -> list[dict]:
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(path, None, key, "expected a JSON list of task objects")
    return data


class _Fields:
    """Reads one record's fields; a missing or mistyped one is an InputError naming it."""

    def __init__(self, path: Path, index: int, record: dict):
        self.path, self.index, self.record = path, index, record

    def error(self, field: str, problem: str) -> InputError:
        name = self.record.get("name")
        label = f"record {self.index}" + (f" ({name})" if isinstance(name, str) else "")
        return InputError(self.path, None, f"{label}: {field}", problem)

    def get(self, field: str, kind: type | tuple[type, ...], record: dict | None = None, where: str = "") -> Any:
        record = self.record if record is None else record
        if field not in record:
            raise self.error(where + field, "missing")
        value = record[field]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.error(where + field, f"expected {names}, got {type(value).__name__}")
        return value

    def examples(self, field: str, arity: int | None = None,
                 inputs: Callable[[Any, str], list] | None = None) -> list[tuple[list, Any]]:
        pairs = []
        for number, example in enumerate(self.get(field, list)):
            where = f"{field}[{number}]."
            if not isinstance(example, dict):
                raise self.error(where.rstrip("."), "expected an object with 'inputs' and 'output'")
            if "output" not in example:
                raise self.error(where + "output", "missing")
            args = inputs(self.get("inputs", (list, dict), example, where), where) if inputs else \
                self.get("inputs", list, example, where)
            if arity is not None and len(args) != arity:
                raise self.error(where + "inputs", f"{len(args)} inputs, expected {arity}")
            pairs.append((args, example["output"]))
        return pairs


def _inputs_by_name(fields: _Fields, arg_names: list[str], inputs: Any, where: str) -> list:
    """LambdaBeam's inputs are an object by argument name: positional, in `arg_names` order."""
    if not isinstance(inputs, dict) or set(inputs) != set(arg_names):
        raise fields.error(where + "inputs", f"expected an object with keys {arg_names}")
    return [inputs[a] for a in arg_names]


def load_lambdabeam(data_dir: Path | None, split: str | None = None) -> list[Task]:
    """LambdaBeam's 200 list tasks (100 handwritten, 100 synthetic), or one split."""
    suite = "lambdabeam" if split is None else f"lambdabeam-{split}"
    path = pbe_file(data_dir, "pbe/lambdabeam/lambdabeam_tasks_200.json", suite)
    tasks = []
    for index, record in enumerate(_records(path, _read_json(path))):
        fields = _Fields(path, index, record)
        name = fields.get("name", str)
        task_split = fields.get("split", str)
        if split is not None and task_split != split:
            continue
        arg_names = fields.get("arg_names", list)
        by_name = functools.partial(_inputs_by_name, fields, arg_names)
        visible = fields.examples("train_examples", inputs=by_name)
        hidden = fields.examples("held_out_examples", inputs=by_name)
        tasks.append(_task("lambdabeam", name, arg_names, f"LambdaBeam {task_split} task {name}.", visible, hidden,
                           split=task_split, category=record.get("category"),
                           dsl_solution=record.get("reference_solution")))
    return tasks


def load_lambdabeam_handwritten(data_dir: Path | None) -> list[Task]:
    return load_lambdabeam(data_dir, "handwritten")


def load_lambdabeam_synthetic(data_dir: Path | None) -> list[Task]:
    return load_lambdabeam(data_dir, "synthetic")


def _load_bustle(data_dir: Path | None, variant: str) -> list[Task]:
    suite = f"bustle-{variant}"
    relative = {"new": "pbe/bustle/bustle_new_38.json", "sygus": "pbe/bustle/bustle_sygus_89.json"}[variant]
    path = pbe_file(data_dir, relative, suite)
    tasks = []
    for index, record in enumerate(_records(path, _read_json(path))):
        fields = _Fields(path, index, record)
        name = fields.get("name", str)
        visible = fields.examples("trainExamples")
        held_out = fields.examples("testExamples") if "testExamples" in record else []
        arity = len(visible[0][0]) if visible else 0
        if not visible:
            raise fields.error("trainExamples", "no examples")
        for args, output in visible + held_out:
            if len(args) != arity or not all(isinstance(a, str) for a in args) or not isinstance(output, str):
                raise fields.error("trainExamples", f"every example needs {arity} string inputs and a string output")
        hidden = None if held_out == visible else held_out  # the SyGuS set repeats its examples
        description = record.get("description") or name
        tasks.append(_task(suite, name, [f"var_{i}" for i in range(arity)], f"BUSTLE: {description}", visible, hidden,
                           expected_program=record.get("expectedProgram"), tags=record.get("tags")))
    return tasks


def load_bustle_new(data_dir: Path | None) -> list[Task]:
    return _load_bustle(data_dir, "new")


def load_bustle_sygus(data_dir: Path | None) -> list[Task]:
    return _load_bustle(data_dir, "sygus")


def load_bustle(data_dir: Path | None) -> list[Task]:
    return load_bustle_new(data_dir) + load_bustle_sygus(data_dir)


def load_sygus(data_dir: Path | None) -> list[Task]:
    """The SyGuS-Comp 2019 PBE strings track; evaluation-only (never tune to it)."""
    path = pbe_file(data_dir, "pbe/sygus_pbe_slia_2019/parsed_examples.json", "sygus")
    tasks, skipped = [], []
    for index, record in enumerate(_records(path, _read_json(path))):
        fields = _Fields(path, index, record)
        name = fields.get("name", str)
        params = fields.get("params", list)
        if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in params):
            raise fields.error("params", "expected [[name, sort], ...]")
        arg_names = [p[0] for p in params]
        visible = fields.examples("examples", arity=len(arg_names))
        if not visible:
            skipped.append(name)
            continue
        tasks.append(_task("sygus", name, arg_names, f"SyGuS-Comp 2019 PBE strings task {record.get('file', name)}.",
                           visible, None, return_type=record.get("return_type"),
                           grammar_constants=record.get("grammar_constants")))
    if skipped:
        warnings.warn(SkippedTasks(f"sygus: {len(skipped)} task(s) without examples left out: {', '.join(skipped)}"),
                      stacklevel=2)
    return tasks


DREAMCODER_VISIBLE = 5  # the suggested protocol: synthesize from 5 examples, judge on the other 10


def load_dreamcoder(data_dir: Path | None) -> list[Task]:
    """DreamCoder's 218 list tasks; evaluation-only (never tune to it)."""
    path = pbe_file(data_dir, "pbe/dreamcoder_lists/dreamcoder_list_tasks_218.json", "dreamcoder")
    tasks, seen = [], set()
    for index, record in enumerate(_records(path, _read_json(path))):
        fields = _Fields(path, index, record)
        name = fields.get("name", str)
        examples = fields.examples("examples", arity=1)
        if len(examples) <= DREAMCODER_VISIBLE:
            raise fields.error("examples", f"{len(examples)} examples; need more than {DREAMCODER_VISIBLE}")
        label = name if name not in seen else f"{name} #{record.get('id', index)}"
        seen.add(name)
        tasks.append(_task("dreamcoder", label, ["xs"], f"DreamCoder list task: {name}.",
                           examples[:DREAMCODER_VISIBLE], examples[DREAMCODER_VISIBLE:]))
    return tasks


# ---- lambda^2 ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(->)|([()\[\]{}])|(#t|#f)|(-?\d+)(?![\w-])|([^\s()\[\]{}]+))")


class LispSyntaxError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise LispSyntaxError(f"cannot read {text[position:position + 20]!r}")
        tokens.append(match.group(match.lastindex))
        position = match.end()
    return tokens


class _Reader:
    def __init__(self, tokens: list[str]):
        self.tokens, self.at, self.tree = tokens, 0, False

    def next(self) -> str:
        if self.at >= len(self.tokens):
            raise LispSyntaxError("ends too early")
        self.at += 1
        return self.tokens[self.at - 1]

    def value(self) -> Any:
        token = self.next()
        if token in ("[", "{"):
            closing = "]" if token == "[" else "}"
            self.tree |= token == "{"
            items = []
            while self.at < len(self.tokens) and self.tokens[self.at] != closing:
                items.append(self.value())
            self.next()
            return items
        if token in ("#t", "#f"):
            return token == "#t"
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        raise LispSyntaxError(f"unexpected {token!r}")


def parse_l2_example(text: str) -> tuple[str, list, Any, bool]:
    """`(name arg ...) -> output` in L2's syntax: (name, args, output, whether a tree appears).
    Lists `[1 2]`, bools `#t`/`#f`, ints; a tree `{v c1 c2}` becomes `[v, c1, c2]`, `{}` is `[]`."""
    tokens = _tokens(text)
    if "->" not in tokens:
        raise LispSyntaxError("no '->' between the call and its output")
    arrow = tokens.index("->")
    call, output = _Reader(tokens[:arrow]), _Reader(tokens[arrow + 1:])
    if call.next() != "(":
        raise LispSyntaxError("the call must start with '('")
    head = call.next()
    if not re.fullmatch(r"[^\s()\[\]{}#\d-][^\s()\[\]{}]*", head):
        raise LispSyntaxError(f"the call needs a function name, got {head!r}")
    args = []
    while call.at < len(call.tokens) and call.tokens[call.at] != ")":
        args.append(call.value())
    call.next()
    value = output.value()
    if call.at != len(call.tokens) or output.at != len(output.tokens):
        raise LispSyntaxError("text after the example")
    return head, args, value, call.tree or output.tree


def load_lambda2(data_dir: Path | None) -> list[Task]:
    """lambda^2's 44 problems (Feser et al., PLDI 2015), examples parsed from L2's Lisp syntax."""
    tasks = []
    for name in LAMBDA2_NAMES:
        path = pbe_file(data_dir, f"pbe/lambda2/{name}.json", "lambda2")
        record = _read_json(path)
        if not isinstance(record, dict):
            raise InputError(path, None, None, "expected a JSON object")
        fields = _Fields(path, 0, record)
        contents = fields.get("contents", dict)
        examples = fields.get("examples", list, contents, "contents.")
        pairs, needs_tree, arity = [], False, None
        for number, text in enumerate(examples):
            where = f"contents.examples[{number}]"
            if not isinstance(text, str):
                raise fields.error(where, "expected a string like '(f [1 2]) -> 3'")
            try:
                _, args, output, tree = parse_l2_example(text)
            except LispSyntaxError as exc:
                raise fields.error(where, f"{exc} in {text!r}") from None
            if arity is not None and len(args) != arity:
                raise fields.error(where, f"{len(args)} arguments, the other examples have {arity}")
            arity = len(args)
            needs_tree |= tree
            pairs.append((args, output))
        if not pairs:
            raise fields.error("contents.examples", "no examples")
        arg_names = ["x", "y", "z", "w"][:arity] if arity <= 4 else [f"x{i}" for i in range(arity)]
        background = [b[0] for b in contents.get("background") or [] if isinstance(b, list) and b]
        doc = record.get("description") or f"lambda^2 problem {name}."
        extra: dict[str, Any] = {"background": background} if background else {}
        if needs_tree:
            extra.update(needs_tree=True, tree_encoding="a tree {v c1 c2} is the list [v, c1, c2]; {} is []")
        tasks.append(_task("lambda2", name, arg_names, doc, pairs, None, **extra))
    return tasks


# ---- bombe's own demo suite ----------------------------------------------------------------

def load_demo(data_dir: Path | None = None) -> list[Task]:
    """The list and string tasks bombe ships (needs no data directory)."""
    resource = importlib.resources.files("bombe.enumerate").joinpath(DEMO_RESOURCE)
    with importlib.resources.as_file(resource) as path:
        return load_tasks(path)


SUITES: dict[str, Callable[[Path | None], list[Task]]] = {
    "lambdabeam": load_lambdabeam,
    "lambdabeam-handwritten": load_lambdabeam_handwritten,
    "lambdabeam-synthetic": load_lambdabeam_synthetic,
    "bustle": load_bustle,
    "bustle-new": load_bustle_new,
    "bustle-sygus": load_bustle_sygus,
    "lambda2": load_lambda2,
    "sygus": load_sygus,
    "dreamcoder": load_dreamcoder,
    "demo": load_demo,
}

"""What a strategy may see of a task: its prompt, its entry point and its *visible* checks.

The judge's checks (HumanEval+'s base and plus inputs, MBPP's other asserts, a task's
`hidden_tests`) stay in the `Task`, which no strategy ever receives: `visible_task` copies the
fields a strategy may read into a frozen `VisibleTask` and keeps no reference to the task.

Visible checks are, in order of preference:
- the examples written in the prompt (HumanEval docstrings: `>>> f(x)` then its value, or
  `f(x) == y`, `f(x) ➞ y`, `f(x) ==> y`, `f(x) should return y`; MBPP+ prompts' `assert f(x) == y`),
  parsed into call/expected pairs where arguments and value are literals;
- for MBPP-style tasks (`test_list`), the first assert only;
- for tasks that split their pairs into `tests` and `hidden_tests` themselves (and whose
  expected values are not the reference's), the `tests`.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from dataclasses import dataclass
from typing import Any

from bombe.sandbox.codec import EncodeError, to_wire
from bombe.task import CallTest, Task

FLOAT_ATOL = 1e-6
FLOAT_RTOL = 1e-7


@dataclass(frozen=True, slots=True)
class VisibleCall:
    """One visible check: entry_point(*args, **kwargs) should equal `expected`."""

    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()
    expected: Any = None
    atol: float | None = None
    rtol: float | None = None

    def call_test(self) -> CallTest:
        return CallTest(args=list(_thaw(self.args)), kwargs={k: _thaw(v) for k, v in self.kwargs},
                        expected=_thaw(self.expected), atol=self.atol, rtol=self.rtol)

    @property
    def inputs(self) -> tuple[list, dict]:
        return list(_thaw(self.args)), {k: _thaw(v) for k, v in self.kwargs}

    def describe(self, entry_point: str) -> str:
        parts = [_short(a) for a in _thaw(self.args)] + [f"{k}={_short(_thaw(v))}" for k, v in self.kwargs]
        return f"{entry_point}({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class VisibleTask:
    """A task as a strategy sees it. No hidden check, no reference solution, no Task inside."""

    task_id: str
    prompt: str
    entry_point: str
    calls: tuple[VisibleCall, ...] = ()
    asserts: tuple[str, ...] = ()  # visible assert-style checks that are not call/expected pairs
    # Trusted adapter code some tasks call through (EvalPlus's output projections): not a check.
    setup: str = ""
    call_entry_point: str | None = None

    @property
    def has_checks(self) -> bool:
        return bool(self.calls or self.asserts)


class _Frozen(tuple):
    """A list, frozen so that VisibleTask stays immutable; `_thaw` gives the list back."""


class _FrozenDict(tuple):
    pass


def _freeze(value: Any) -> Any:
    kind = type(value)
    if kind is list:
        return _Frozen(_freeze(v) for v in value)
    if kind is tuple:
        return tuple(_freeze(v) for v in value)
    if kind is dict:
        return _FrozenDict((_freeze(k), _freeze(v)) for k, v in value.items())
    if kind is set:
        return frozenset(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    kind = type(value)
    if kind is _Frozen:
        return [_thaw(v) for v in value]
    if kind is _FrozenDict:
        return {_thaw(k): _thaw(v) for k, v in value}
    if kind is tuple:
        return tuple(_thaw(v) for v in value)
    if kind is frozenset:
        return {_thaw(v) for v in value}
    return value


def _short(value: Any, width: int = 80) -> str:
    try:
        text = repr(value)
    except ValueError:
        return "<an int too long to print>"
    return text if len(text) <= width else text[: width - 3] + "..."


def _has_float(value: Any) -> bool:
    if type(value) is float:
        return True
    if type(value) in (list, tuple, set, frozenset):
        return any(_has_float(v) for v in value)
    if type(value) is dict:
        return any(_has_float(v) for v in value.values())
    return False


def make_call(args: list, kwargs: dict, expected: Any) -> VisibleCall:
    loose = _has_float(expected)
    return VisibleCall(tuple(_freeze(a) for a in args), tuple((k, _freeze(v)) for k, v in kwargs.items()),
                       _freeze(expected), FLOAT_ATOL if loose else None, FLOAT_RTOL if loose else None)


# --- examples in a prompt --------------------------------------------------------------------

_SEPARATOR = re.compile(r"^\s*(?:#\s*)?(==>|=>|➞|->|→|==|=(?!=)|,?\s*should\s+return|should\s+be|returns?|gives|is)\s*",
                        re.IGNORECASE)


def _literal(text: str) -> tuple[bool, Any]:
    if text in ("true", "false"):  # docstrings written for other languages
        return True, text == "true"
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _longest_literal(text: str) -> tuple[bool, Any]:
    """The value of the longest prefix of `text` that is a Python literal, ending at a word edge."""
    text = text.strip()
    ends = [len(text)] + [m.start() for m in re.finditer(r"[\s,.;:)](?=\s|$)|\s", text)][::-1]
    seen = set()
    for end in ends:
        if end in seen or end <= 0:
            continue
        seen.add(end)
        ok, value = _literal(text[:end].strip().rstrip(".,;:"))
        if ok:
            return True, value
    return False, None


# "19 - 5 - 6 = 8": numbers and operators, then the result; prose ("because x = 2") is not working
_WORKING = re.compile(r"^[\d\s.()+\-*/%]+?=+\s*")


def _stated_value(text: str) -> tuple[bool, Any]:
    """The value a docstring states after its separator. A worked computation
    (`f(x) -> 19 - 5 - 6 = 8`, `== 1 + 9 + 0 = 10`) states its value after the last `=`."""
    text = text.strip()
    ok, value = _literal(text.rstrip(".,;:").strip())
    if ok:
        return ok, value
    if _WORKING.match(text):
        return _longest_literal(re.split(r"=+", text)[-1])
    return _longest_literal(text)


def _call_end(text: str, open_at: int) -> int | None:
    """Index just past the parenthesis closing the one at `open_at`, skipping string literals."""
    depth, i, quote = 0, open_at, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif ch == "\n" and depth > 3:
            return None
        i += 1
    return None


def _call_arguments(source: str, entry_point: str) -> tuple[list, dict] | None:
    try:
        node = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point):
        return None
    try:
        args = [ast.literal_eval(a) for a in node.args if not isinstance(a, ast.Starred)]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if len(args) != len(node.args) or len(kwargs) != len(node.keywords):
        return None
    return args, kwargs


def parse_examples(prompt: str, entry_point: str) -> list[VisibleCall]:
    """The call/expected examples written in a prompt, in order, each input once.

    Some prompts' examples call the function by another name (HumanEval/81's
    `numerical_letter_grade` shows `grade_equation(...) ==> ...`): when none call the entry
    point, examples of the one name the prompt calls but never defines stand for it."""
    found = _examples_of(prompt, entry_point, entry_point)
    if not found:
        aliases = _undefined_names_called(prompt, entry_point)
        if len(aliases) == 1:
            found = _examples_of(prompt, entry_point, aliases[0])
    return found


def _undefined_names_called(prompt: str, entry_point: str) -> list[str]:
    """Names called after the entry point's signature, in examples (a call that states a
    value), that the prompt neither defines nor imports and that are not builtins: in the order
    first called. Words of prose before parentheses ("numbers (ints)") state no value."""
    signature = re.search(rf"def\s+{re.escape(entry_point)}\s*\(", prompt)
    body = prompt[signature.end():] if signature else prompt
    imported = re.findall(r"import\s+([\w, ]+)", prompt)
    defined = set(re.findall(r"(?:def|class)\s+(\w+)", prompt)) | {
        name for names in imported for name in re.split(r"[\s,]+", names) if name}
    names: list[str] = []
    for name in re.findall(r"(?<![\w.])([A-Za-z_]\w*)\s*\(", body):
        if name in defined or name in names or name == entry_point or hasattr(builtins, name) \
                or keyword.iskeyword(name):
            continue
        if _examples_of(prompt, entry_point, name):
            names.append(name)
    return names


def _examples_of(prompt: str, entry_point: str, called: str) -> list[VisibleCall]:
    """Examples calling `called` (the entry point, or the name the prompt's examples use for it)."""
    found: list[tuple[list, dict, Any, str]] = []  # args, kwargs, value, the text that stated it
    seen: set[str] = set()
    pattern = re.compile(rf"(?<![\w.]){re.escape(called)}\s*\(")
    # Skip the signature itself: examples live after the `def` line.
    start = 0
    signature = re.search(rf"def\s+{re.escape(entry_point)}\s*\(", prompt)
    if signature:
        end = _call_end(prompt, prompt.index("(", signature.start()))
        start = end if end else signature.end()
    for match in pattern.finditer(prompt, start):
        end = _call_end(prompt, match.end() - 1)
        if end is None:
            continue
        arguments = _call_arguments(prompt[match.start():end], called)
        if arguments is None:
            continue
        line_start = prompt.rfind("\n", 0, match.start()) + 1
        line_end = prompt.find("\n", end)
        line_end = len(prompt) if line_end == -1 else line_end
        rest = prompt[end:line_end]
        before = prompt[line_start:match.start()].strip()
        ok, expected, stated = False, None, ""
        separator = _SEPARATOR.match(rest)
        if separator and rest[separator.end():].strip():
            stated = rest[separator.end():].strip()
            ok, expected = _stated_value(stated)
        elif separator or rest.strip().lower() == "should" or (before.endswith(">>>") and not rest.strip()) or (before == "assert" and not rest.strip()):
            # the value is on the next non-empty line (`>>> f(x)` then `y`, or "should\n return y")
            following = prompt[line_end + 1:].lstrip("\n")
            next_line = following.split("\n", 1)[0].strip()
            if not next_line.startswith(">>>"):
                if not separator and before.endswith(">>>"):
                    ok, expected = _literal(next_line)
                else:
                    joined = " ".join((rest + " " + next_line).split())
                    again = _SEPARATOR.match(joined)
                    if again:
                        stated = joined[again.end():]
                        ok, expected = _stated_value(stated)
        if not ok:
            continue
        args, kwargs = arguments
        key = _short((args, sorted(kwargs.items())), 10_000)
        if key in seen:
            continue
        seen.add(key)
        found.append((args, kwargs, expected, stated))
    # `bf("Earth", "Mercury") ==> ("Venus")` beside examples that state tuples means a 1-tuple,
    # though Python reads the parentheses as grouping.
    tuples = any(type(value) is tuple for _, _, value, _ in found)
    return [make_call(args, kwargs, (value,) if tuples and stated.startswith("(") and type(value) is not tuple
                      else value) for args, kwargs, value, stated in found]


def _assert_call(code: str, entry_point: str) -> VisibleCall | None:
    """`assert f(x) == y` (either side) as a call/expected pair; None for any other assert."""
    try:
        tree = ast.parse(code.strip())
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    test = tree.body[0].test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    for call, value in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
        arguments = _call_arguments(ast.unparse(call), entry_point) if isinstance(call, ast.Call) else None
        if arguments is None:
            continue
        try:
            expected = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        return make_call(*arguments, expected)
    return None


def _crosses(call: VisibleCall, expected: bool) -> bool:
    """Whether the call's inputs (and, where no projection turns it into plain data first, its
    expected value) are plain data that can cross between the judge and the program."""
    try:
        to_wire([call.inputs, _thaw(call.expected) if expected else None])
    except EncodeError:
        return False
    return True


def _holds_bool(value: Any) -> bool:
    if type(value) is bool:
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_bool(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_bool(k) or _holds_bool(v) for k, v in value.items())
    return False


def _assert_inputs_cross(code: str, entry_point: str) -> bool:
    """False when an assert calls the entry point with a literal that is not plain data."""
    try:
        tree = ast.parse(code.strip())
    except SyntaxError:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point:
            arguments = _call_arguments(ast.unparse(node), entry_point)
            if arguments is not None and not _crosses(make_call(*arguments, None), expected=False):
                return False
    return True


def visible_task(task: Task) -> VisibleTask:
    """The part of `task` a strategy may see. Copies plain fields; keeps no reference to `task`."""
    entry_point = task.entry_point
    calls: list[VisibleCall] = []
    asserts: list[str] = []
    projected = task.call_entry_point is not None
    if task.test_list is not None:  # MBPP: the first assert only
        first = task.test_list[0] if task.test_list else None
        if first is not None:
            # An adapted task (values that are not plain data) is judged by its asserts, run
            # as they are through the adapter its set-up defines; so is its visible one. So is
            # one that expects a bool: the judge's `==` takes 0 for False (Mbpp/414's reference).
            call = None if projected else _assert_call(first, entry_point)
            if call is not None and _crosses(call, expected=True) and not _holds_bool(_thaw(call.expected)):
                calls.append(call)
            else:
                asserts.append(str(first))
    else:
        calls = parse_examples(task.prompt, entry_point)
        if not calls:  # the asserts the prompt shows: pairs where they are (`assert (f(x)) == y`),
            # else run as they are (MBPP+: `assert set(f(x)) == ...`)
            for line in task.prompt.splitlines():
                line = line.strip()
                if line.startswith("assert ") and entry_point in line:
                    # Inputs that cannot reach the program (MBPP+ 124's `1j`: its hidden inputs
                    # are plain data that its converter turns into complex numbers) make no check.
                    call = _assert_call(line, entry_point)
                    if call is not None:
                        calls.append(call)
                    elif _assert_inputs_cross(line, entry_point):
                        asserts.append(line)
        calls = [call for call in calls if _crosses(call, expected=not projected)]
        if not calls and not asserts and task.tests is not None and task.hidden_tests is not None \
                and not task.expected_from_reference:
            calls = [make_call(list(t.args), dict(t.kwargs), t.expected) for t in task.tests]
    return VisibleTask(
        task_id=str(task.task_id), prompt=str(task.prompt), entry_point=str(entry_point), calls=tuple(calls),
        asserts=tuple(asserts), setup=str(task.setup or ""),
        call_entry_point=str(task.call_entry_point) if task.call_entry_point else None)

"""CodeARC (Wei et al., 2025), first attempt: write a function that reproduces 10 example calls.

CodeARC hides a reference function and shows 10 invocations `print('Result 1: ' + str(CALL))`
with the captured stdout. Its full protocol then lets the solver query the hidden function and
call a differential-testing oracle; the hidden functions are not in the data here, so these
tasks score the first attempt: a candidate program must reproduce the 10 examples.

A candidate is a program defining the target function (`function_name`). Each usable example
is one assert in the judge. The judge sends the example's CALL text to the candidate's process,
where `_codearc_show` (the task's entry point, defined by the task's setup) evaluates it among
the candidate's definitions, as CodeARC's print did, and returns `str(value)` with the value
itself when it is plain data. So whatever the function returns (a Counter, a generator the call
wraps in `list(...)`, a dict subclass the call indexes) is shown as print would show it; and
since the candidate controls that text anyway, computing it in the candidate's process gives it
no power it lacks. The judge decides:

- a printed example passes when `(prefix + text).strip()` is the captured stdout (CodeARC strips
  it), or, when the value is plain and holds a dict or set, when the captured text is a literal
  equal to the value with identical types (key and element order aside);
- an errored example, where the hidden function raised, passes when the call raises too: any
  exception type, message not compared (the data keeps only `str(exception)`); a program that
  lacks the target function raises nothing that counts.

Skipped, as no evidence about the hidden function: errored examples whose invocation does not
parse, or calls a name other than the target (CodeARC's generator wrote broken calls), and
examples that hit a limit of the machine that made the data (its 10-second timeout, Python's
4300-digit int-to-str limit). The target is the function the calls use most (see `target_name`);
calls to a second function of the hidden file (problem 341) are skipped too: the task asks for
the target only. Every skip is kept on the task in `examples` with its reason.
"""

from __future__ import annotations

import ast
import builtins
import gzip
import json
import warnings
from collections import Counter
from pathlib import Path

from bombe.benchmarks import data_file
from bombe.task import Task

VARIANTS = {
    "annotated": "codearc/invocations_annotated_n10.json.gz",
    "anonymous": "codearc/invocations_anonymous_n10.json.gz",
}
# The target where the invocations call several names equally often: the hidden file's last
# top-level def, CodeARC's own rule (utils.extract_function_names), read from the upstream files.
_TARGET_OVERRIDES = {
    ("annotated", "341"): "is_wall_coverable_by_pixels",  # 5 calls each to it and is_equal_to_three
    ("anonymous", "341"): "solution",                      # 5 calls each to it and equals_three
    ("anonymous", "670"): "solution",                      # calls a, p, b, ... that the file nests in solution
}
_LIMIT_ERRORS = ("Execution timed out after", "Exceeds the limit (4300) for integer string conversion")
_BUILTIN_NAMES = frozenset(dir(builtins))

SHOW = "_codearc_show"  # the entry point: evaluates one example's call in the candidate's process

# The task's setup, run in the candidate's process before its code and in the judge before the
# checks. In the judge `_codearc_show` is then bound to the proxy of the candidate's one.
SETUP = '''\
class CodeARCMissingFunction(Exception):
    \"\"\"The program does not define the function the examples call.\"\"\"


def _codearc_show(call):
    \"\"\"Evaluate one example's call here, as CodeARC's print did: (str(value), value if plain).\"\"\"
    if not callable(globals().get(_CODEARC_FUNCTION)):
        raise CodeARCMissingFunction(_CODEARC_FUNCTION)
    value = eval(call, globals())
    text = str(value)
    from bombe.sandbox.codec import to_wire
    try:
        to_wire(value)
    except Exception:
        return text, None
    return text, value


def _codearc_printed(prefix, shown, captured):
    \"\"\"Would print(prefix + text) be captured, stripped as CodeARC does, as `captured`?\"\"\"
    text, value = shown
    if type(text) is not str:
        return False
    if (prefix + text).strip() == captured:
        return True
    if not _codearc_unordered(value) or not captured.startswith(prefix):
        return False
    import ast
    from bombe.sandbox.codec import exactly_equal
    try:
        literal = ast.literal_eval(captured[len(prefix):])
    except Exception:
        return False
    return exactly_equal(value, literal)


def _codearc_unordered(value):
    if type(value) in (dict, set, frozenset):
        return True
    return type(value) in (list, tuple) and any(_codearc_unordered(item) for item in value)


def _codearc_raises(call):
    \"\"\"Does the call raise, as the hidden function did? A missing function or a reply that
    could not cross is no raise.\"\"\"
    try:
        call()
    except Exception as exc:
        return not (type(exc).__name__ == "CandidateRaised"
                    and str(exc).startswith(("NotPlainData", "CodeARCMissingFunction")))
    return False
'''


def setup(target: str) -> str:
    """The setup of a task whose examples call `target`."""
    return f"_CODEARC_FUNCTION = {target!r}\n\n\n" + SETUP


PROMPT_HEAD = """\
# Implement the Python function `{name}`. It is a black box known only from the calls below and
# what each one printed; your implementation must work for all valid inputs, not just these.
# Answer with the complete implementation: `def {name}(...)` and anything it needs.
#
# Function invocations:
"""


def _parse(source: str) -> ast.Module | None:
    with warnings.catch_warnings():  # some calls hold strings like '\ ' with invalid escapes
        warnings.simplefilter("ignore")
        try:
            return ast.parse(source)
        except SyntaxError:
            return None


def parse_invocation(source: str) -> tuple[str, ast.expr] | None:
    """('Result i: ', CALL) from `print('Result i: ' + str(CALL))`, or None for another shape."""
    module = _parse(source)
    if module is None:
        return None
    if len(module.body) != 1 or not isinstance(module.body[0], ast.Expr):
        return None
    printed = module.body[0].value
    if not (isinstance(printed, ast.Call) and isinstance(printed.func, ast.Name) and printed.func.id == "print"
            and len(printed.args) == 1 and not printed.keywords):
        return None
    text = printed.args[0]
    if not (isinstance(text, ast.BinOp) and isinstance(text.op, ast.Add) and isinstance(text.left, ast.Constant)
            and type(text.left.value) is str and isinstance(text.right, ast.Call)
            and isinstance(text.right.func, ast.Name) and text.right.func.id == "str" and len(text.right.args) == 1):
        return None
    return text.left.value, text.right.args[0]


def _names(expression: ast.expr) -> set[str]:
    """The names an expression uses, builtins aside."""
    return {node.id for node in ast.walk(expression) if isinstance(node, ast.Name)} - _BUILTIN_NAMES


def target_name(variant: str, number: str, parsed: list[tuple[str, ast.expr] | None]) -> str:
    """The function the examples are about: the name their calls use most.

    Usually the file's last def, CodeARC's target, but in four anonymous problems (19, 78, 91,
    92) every call goes to a function of the hidden file other than `solution`, and the examples
    say nothing about `solution` itself; those tasks target the function the examples call.
    """
    if (variant, number) in _TARGET_OVERRIDES:
        return _TARGET_OVERRIDES[(variant, number)]
    counts = Counter(name for p in parsed if p is not None for name in _names(p[1])).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        raise ValueError(f"CodeARC {variant} problem {number}: cannot tell the target function from {counts}")
    return counts[0][0]


def example_check(invocation: dict, parsed: tuple[str, ast.expr] | None, target: str) -> tuple[str | None, str]:
    """(assert source, how) for one example; source None when the example is skipped, `how` says why."""
    captured = invocation["output"]
    if parsed is None:
        return None, "skipped: the invocation does not parse as print('Result i: ' + str(CALL))"
    prefix, expression = parsed
    others = _names(expression) - {target}
    if others:
        return None, f"skipped: calls {', '.join(sorted(others))}, not the target {target}"
    call = ast.unparse(expression)  # the same call, with string escapes normalised
    if invocation["errored"]:
        if captured.startswith(_LIMIT_ERRORS):
            return None, "skipped: hit a limit of the machine that made the data"
        return f"assert _codearc_raises(lambda: {SHOW}({call!r}))", "raises"
    return f"assert _codearc_printed({prefix!r}, {SHOW}({call!r}), {captured!r})", "printed"


def _commented(text: str) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in text.split("\n"))


def prompt(target: str, invocations: list[dict]) -> str:
    """CodeARC's first-attempt prompt, as Python comments: invocations, then what each printed."""
    shown = [f"error: {i['output']}" if i["errored"] else i["output"] for i in invocations]
    return (PROMPT_HEAD.format(name=target) + "".join(_commented(i["input"]) for i in invocations)
            + "#\n# Corresponding outputs:\n" + "".join(_commented(text) for text in shown) + "\n")


def task(variant: str, number: str, examples: dict[str, dict]) -> Task:
    invocations = [examples[key] for key in sorted(examples, key=int)]
    parsed = [parse_invocation(invocation["input"]) for invocation in invocations]
    target = target_name(variant, number, parsed)
    checks, kept = [], []
    for invocation, parts in zip(invocations, parsed):
        check, how = example_check(invocation, parts, target)
        if check is not None:
            checks.append(check)
        kept.append({**invocation, "check": how})
    return Task(
        task_id=f"CodeARC-{variant}/{number}",
        prompt=prompt(target, invocations),
        entry_point=SHOW,
        function_name=target,
        test_list=checks,
        setup=setup(target),
        examples=kept,
        codearc_variant=variant,
        codearc_id=int(number),
    )


def load_variant(data_dir: Path | None, variant: str) -> list[Task]:
    path = data_file(data_dir, VARIANTS[variant], f"codearc-start-{variant}")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        problems = json.load(handle)
    return [task(variant, number, problems[number]) for number in sorted(problems, key=int)]


def load_annotated(data_dir: Path | None) -> list[Task]:
    """CodeARC's 1114 annotated problems (real function names), first attempt from 10 examples."""
    return load_variant(data_dir, "annotated")


def load_anonymous(data_dir: Path | None) -> list[Task]:
    """CodeARC's 1114 anonymised problems (every target is `solution`), first attempt from 10 examples."""
    return load_variant(data_dir, "anonymous")

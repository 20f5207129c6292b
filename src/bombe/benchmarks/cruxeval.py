"""CRUXEval (Gu et al., 2024): predict a short function's output (CRUXEval-O) or an input (CRUXEval-I).

Both read `cruxeval/cruxeval.jsonl.gz`: 800 records of `code` (a function `f`), `input` (the
argument text of a call `f(...)`) and `output` (the literal the call returns). A sample is one
answer text, not a program (`sample_kind="literal"`), and only literals are accepted.

- CRUXEval-O: the answer is a literal for the output. It must denote the dataset's output
  value with identical types all the way down (`True` is not `1`, a tuple is not a list);
  dict and set order do not matter, as under `==`. No code of the benchmark runs at all:
  both sides are literals, parsed by `ast.literal_eval`.
- CRUXEval-I: the answer is the text that goes between the parentheses of `f(...)`, exactly
  as in CRUXEval's `assert f(??) == output`: `[1, 2], 'a'` is two arguments, `(1, 2)` is one
  tuple, `'a',` is one string, an empty answer is no arguments, `key=1` a keyword argument.
  Each argument must be a literal. A whole call `f(...)` (CRUXEval's own answer format) is
  read the same way. The candidate's process only turns the text into plain argument values;
  the judge, which never loads candidate code, runs the benchmark's `f` on them and demands
  the dataset's output with identical types. Any input that gives the output passes.

Two CRUXEval-I tasks (sample_344, sample_364) can only be solved by passing a function, which
no literal is: they stay in the benchmark, unsolvable here, marked `literal_answer=False`.
"""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path
from typing import Any

from bombe.benchmarks import data_file
from bombe.task import LITERAL_ENTRY_POINT, LITERAL_TEXT, CallTest, Task

DATA_FILE = "cruxeval/cruxeval.jsonl.gz"
CALL_ARGS = "call_args"  # CRUXEval-I's entry point: the candidate's answer read as call arguments

# Inputs the dataset writes as expressions, with the argument values they evaluate to: the
# reference answers must be literals like everyone else's.
_EXPRESSION_INPUTS: dict[str, tuple] = {
    "sample_152": ("A" * 20,),                                            # ''.join(['A'] * 20)
    "sample_239": ("0 t 1cos ", "st 0\t\n  "),                            # 'st ' + '0\t\n  '
    "sample_258": ([1, 2, 7, 9], 3, 3, 2),                                # thigh_o_two[:]
    "sample_378": ({"did": 0}, "u"),                                      # dict(did=0)
    "sample_459": (["b", "vzjmc", "f", "ae", "0"], {}),                   # dict()
    "sample_522": (list(range(100, 120)),),                               # range(100, 120)
    "sample_694": ({"e": 1, "d": 2, "c": 3},),                            # dict(e=1, d=2, c=3)
    "sample_720": (["bfreratrrbdbzagbretaredtroefcoiqrrneaosf"], "n"),    # '...'.split('-')
    "sample_760": ({"f": 1, "h": 2, "j": 3, "k": 4},),                    # dict(f = 1, ...)
    "sample_770": ("$78", "$"),                                           # '$78'.upper()
}
# Inputs that pass a function (a lambda): no literal can, so no reference answer passes.
NEEDS_A_FUNCTION = frozenset({"sample_344", "sample_364"})

OUTPUT_PROMPT = """\
You are given a Python function and an assertion containing an input to the function. Complete the \
assertion with a literal (no unsimplified expressions, no function calls) containing the output when \
executing the provided code on the given input, even if the function is incorrect or incomplete. \
Answer with the literal only.

[PYTHON]
{code}
assert f({input}) == ??
[/PYTHON]
"""

INPUT_PROMPT = """\
You will be given a function f and an output in the form f(??) == output. Find any input such that \
executing f on the input leads to the given output. There may be multiple answers; give only one. \
Answer with the arguments only, exactly as they would appear between the parentheses of f(...), \
each one a literal (no expressions, no function calls): for example `[1, 2], 'a'` for two arguments.

[PYTHON]
{code}
assert f(??) == {output}
[/PYTHON]
"""

# Runs first in the candidate's process (and harmlessly in the judge): reads the sample's text,
# which the literal wrapper keeps in LITERAL_TEXT, as the arguments of a call to f. Whatever plain
# values come back, the judge decides by running f on them.
CALL_ARGS_SETUP = f'''\
def {CALL_ARGS}():
    """The answer text as the arguments of f(...): [positional values], {{keyword: value}}."""
    import ast
    call = ast.parse("f(" + {LITERAL_TEXT} + "\\n)", mode="eval").body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "f"):
        raise ValueError("the answer is not an argument list for f(...)")
    inner = call.args[0] if len(call.args) == 1 and not call.keywords else None
    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "f":
        call = inner  # the whole call f(...) was given
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(k.arg is None for k in call.keywords):
        raise ValueError("no *args or **kwargs in the answer")
    return ([ast.literal_eval(arg) for arg in call.args],
            {{k.arg: ast.literal_eval(k.value) for k in call.keywords}})
'''

# The judge's check: the benchmark's own f, run on the candidate's arguments in trusted code.
INPUT_CHECK = '''\
{code}


def check(candidate):
    import ast
    from bombe.sandbox.codec import exactly_equal
    args, kwargs = candidate()
    assert type(args) is list and type(kwargs) is dict, "the answer must be an argument list"
    expected = ast.literal_eval({output!r})
    assert exactly_equal(f(*args, **kwargs), expected), "f(answer) is not the expected output"
'''


def read_records(data_dir: Path | None, benchmark: str) -> list[dict]:
    path = data_file(data_dir, DATA_FILE, benchmark)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def output_value(record: dict) -> Any:
    """The dataset's output, parsed by trusted code: the value a CRUXEval-O answer must denote."""
    return ast.literal_eval(record["output"])


def reference_input(record: dict) -> str:
    """The dataset's input text, or for an expression input the literal arguments it denotes."""
    if record["id"] in _EXPRESSION_INPUTS:
        return ", ".join(repr(value) for value in _EXPRESSION_INPUTS[record["id"]])
    return record["input"]


def _number(record: dict) -> str:
    return record["id"].removeprefix("sample_")


def output_task(record: dict) -> Task:
    return Task(
        task_id=f"CRUXEval-O/{_number(record)}",
        prompt=OUTPUT_PROMPT.format(code=record["code"], input=record["input"]),
        entry_point=LITERAL_ENTRY_POINT,
        tests=[CallTest(args=[], expected=output_value(record), exact=True)],
        canonical_solution=record["output"],
        sample_kind="literal",
        cruxeval_id=record["id"], code=record["code"], input=record["input"], output=record["output"],
    )


def input_task(record: dict) -> Task:
    return Task(
        task_id=f"CRUXEval-I/{_number(record)}",
        prompt=INPUT_PROMPT.format(code=record["code"], output=record["output"]),
        entry_point=CALL_ARGS,
        test=INPUT_CHECK.format(code=record["code"], output=record["output"]),
        setup=CALL_ARGS_SETUP,
        canonical_solution=reference_input(record),
        sample_kind="literal",
        literal_answer=record["id"] not in NEEDS_A_FUNCTION,
        cruxeval_id=record["id"], code=record["code"], input=record["input"], output=record["output"],
    )


def load_output(data_dir: Path | None) -> list[Task]:
    """CRUXEval-O's 800 tasks: predict the output literal."""
    return [output_task(record) for record in read_records(data_dir, "cruxeval-o")]


def load_input(data_dir: Path | None) -> list[Task]:
    """CRUXEval-I's 800 tasks: predict arguments for which f returns the given output."""
    return [input_task(record) for record in read_records(data_dir, "cruxeval-i")]

"""CodeARC, first attempt: a program must reproduce the 10 printed example calls."""

from __future__ import annotations

import ast
from collections import Counter

import pytest

from bombe.benchmarks import MissingData, codearc, load_benchmark
from bombe.sandbox import Job, Limits, Sandbox
from bombe.task import Outcome, Task

from benchkit import DATA
pytestmark = pytest.mark.skipif(
    not all((DATA / path).is_file() for path in codearc.VARIANTS.values()),
    reason=f"CodeARC data not found under {DATA / 'codearc'}")

# Every task has checks but anonymous/670, whose 10 calls all name functions nested in the target.
NO_CHECKS = {"CodeARC-anonymous/670"}


@pytest.fixture(scope="module")
def annotated() -> list[Task]:
    return load_benchmark("codearc-start-annotated", DATA)


@pytest.fixture(scope="module")
def anonymous() -> list[Task]:
    return load_benchmark("codearc-start-anonymous", DATA)


def judge(sandbox: Sandbox, pairs: list[tuple[Task, str]]) -> list[Outcome]:
    jobs = [Job.for_task(task, code) for task, code in pairs]
    return sandbox.run_all(jobs)


# --- loaders ---------------------------------------------------------------------------------------


def test_1114_tasks_per_variant(annotated, anonymous):
    for variant, tasks in (("annotated", annotated), ("anonymous", anonymous)):
        assert len(tasks) == 1114
        assert [t.task_id for t in tasks] == [f"CodeARC-{variant}/{n}" for n in range(1114)]
        assert all(len(t.examples) == 10 for t in tasks)
    assert all(t.entry_point == codearc.SHOW for t in annotated + anonymous)
    assert annotated[0].function_name == "get_decimal_part" and anonymous[0].function_name == "solution"
    # anonymous problems whose examples all call another function of the hidden file
    assert [anonymous[n].function_name for n in (19, 78, 91, 92)] == [
        "encode_shift", "differ_At_One_Bit_Pos", "string_to_list", "div_sum"]


def test_errored_examples_demand_a_raise_or_are_skipped_with_a_reason(annotated, anonymous):
    counts = Counter(example["check"].split(":")[0] for t in annotated + anonymous for example in t.examples)
    assert counts == {"printed": 11068 + 11056, "raises": 46 + 52, "skipped": 26 + 32}
    for task in annotated + anonymous:
        for example in task.examples:
            assert example["check"] in ("printed", "raises") or example["check"].startswith("skipped: ")
            assert (example["check"] == "printed") <= (not example["errored"])
            assert (example["check"] == "raises") <= example["errored"]
        assert len(task.test_list) == sum(e["check"] in ("printed", "raises") for e in task.examples)
    assert {t.task_id for t in annotated + anonymous if not t.test_list} == NO_CHECKS


def test_prompt_lists_the_calls_then_what_they_printed(annotated):
    task = annotated[96]
    assert task.function_name == "find_max_occurrences"
    assert "# print('Result 7: ' + str(find_max_occurrences([])))\n" in task.prompt
    assert "# Result 1: 1\n" in task.prompt and "# error: max() arg is an empty sequence\n" in task.prompt
    compile(task.prompt, task.task_id, "exec")  # comments only: a completion may follow it
    assert task.test_list[6] == "assert _codearc_raises(lambda: _codearc_show('find_max_occurrences([])'))"
    assert task.test_list[0] == "assert _codearc_printed('Result 1: ', " \
                                "_codearc_show('find_max_occurrences([1, 2, 3, 1, 2, 1])'), 'Result 1: 1')"
    assert task.setup.startswith("_CODEARC_FUNCTION = 'find_max_occurrences'\n")


def _stand_in(example: dict, wrong: bool = False):
    """A stand-in for the hidden function on one example: what it printed, or its exception."""
    def hidden(*args, **kwargs):
        if wrong:
            return "\x00 not what it printed"
        if example["check"] == "raises":
            raise ValueError("as the hidden function did")
        prefix, _ = codearc.parse_invocation(example["input"])
        captured = example["output"]
        return captured[len(prefix):] if captured.startswith(prefix) else ""
    return hidden


def check_tasks(tasks: list[Task]) -> int:
    """Run each task's checks here, the candidate's side and the judge's side each in a namespace
    of its own: a stand-in for the hidden function passes each, a wrong one fails each. Checks
    whose call's value is indexed or wrapped (not printed as is) only compile and name nothing
    but the target here; the sandbox tests judge a few of them."""
    decided = 0
    for task in tasks:
        candidate: dict = {}
        exec(compile(task.setup, "<setup>", "exec"), candidate)
        judge_side: dict = {}
        exec(compile(task.setup, "<setup>", "exec"), judge_side)
        judge_side[task.entry_point] = candidate[task.entry_point]
        usable = [e for e in task.examples if e["check"] in ("printed", "raises")]
        assert len(usable) == len(task.test_list)
        for source, example in zip(task.test_list, usable):
            code = compile(source, task.task_id, "exec")
            _, call = codearc.parse_invocation(example["input"])
            assert codearc._names(call) <= {task.function_name}
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id == task.function_name):
                continue
            candidate[task.function_name] = _stand_in(example)
            exec(code, judge_side)
            candidate[task.function_name] = _stand_in(example, wrong=True)
            with pytest.raises(AssertionError):
                exec(code, judge_side)
            decided += 1
    return decided


def test_sampled_tasks_parse_into_checks_that_decide(annotated, anonymous):
    sample = [t for t in annotated + anonymous if t.codearc_id % 50 == 0 or t.codearc_id in (96, 131, 341, 660)]
    assert check_tasks(sample) > 500


@pytest.mark.slow
def test_every_task_parses_into_checks_that_decide(annotated, anonymous):
    """All 2 x 1114 tasks: their 22,222 checks compile, and all but the 50 whose call's value is
    wrapped or indexed (problems 405, 808 in both variants, annotated 670) decide here."""
    assert check_tasks(annotated + anonymous) == 11068 + 11056 + 46 + 52 - 50


def test_missing_data_names_the_file(tmp_path):
    with pytest.raises(MissingData, match="invocations_annotated_n10.json.gz"):
        load_benchmark("codearc-start-annotated", tmp_path)
    with pytest.raises(MissingData, match="invocations_anonymous_n10.json.gz"):
        load_benchmark("codearc-start-anonymous", tmp_path)


# --- judging hand-written solutions ------------------------------------------------------------------

MAX_OCCURRENCES = "def find_max_occurrences(items):\n    return max(items, key=items.count)\n"
MAX_PRODUCT_PAIR = """\
def find_max_product_pair(numbers):
    pairs = [(a, b) for i, a in enumerate(numbers) for b in numbers[i + 1:] if a != b]
    return max(pairs, key=lambda pair: pair[0] * pair[1])
"""
PREFIXED_DICT = """\
def create_prefixed_dict(d):
    # a plain dict with every prefix as a key: the examples index it by prefix
    return {key[:n]: d[min(k for k in d if k.startswith(key[:n]))] for key in d for n in range(1, len(key) + 1)}
"""


HTML_TAGS = """\
def generate_html_tags():
    def tag(name):
        return lambda content: f"<{name}>{content}</{name}>"
    tags = {name: tag(name) for name in ("a", "b", "p", "body", "div", "span", "title")}
    tags["comment"] = lambda content: f"<!--{content}-->"
    return tags
"""
# Like CodeARC's own hidden functions for annotated 405 and 808, these return a generator and a
# dict subclass; the examples' calls wrap and index them, in the candidate's process.
SPLIT_GENERATOR = "def split_string_by_delimiter(s, sep=None):\n    yield from s.split(sep)\n"
PREFIX_DICT_SUBCLASS = """\
class PrefixDict(dict):
    def __getitem__(self, prefix):
        return super().__getitem__(min(key for key in self if key.startswith(prefix)))


def create_prefixed_dict(d):
    return PrefixDict(d)
"""


def test_hand_written_solutions_pass_and_wrong_ones_fail(sandbox, annotated, anonymous):
    cases = [
        (annotated[96], MAX_OCCURRENCES, "pass"),                       # example 7 must raise, and does
        (annotated[96], "def find_max_occurrences(items):\n    return items[0] if items else None\n", "fail"),
        (annotated[96], "def max_occurrences(items):\n    return max(items, key=items.count)\n", "error"),
        (annotated[131], MAX_PRODUCT_PAIR, "pass"),                     # prints tuples, raises on [4]*5
        (annotated[131], MAX_PRODUCT_PAIR + "\n_pair = find_max_product_pair\n"
         "def find_max_product_pair(numbers):\n    return list(_pair(numbers))\n", "fail"),  # lists, not tuples
        (anonymous[0], "def solution(x):\n    return x % 1\n", "pass"),
        (anonymous[0], "def solution(x):\n    return round(x % 1, 2)\n", "fail"),
        (annotated[0], "def get_decimal_part(x):\n    return x - int(x)\n", "pass"),
        (annotated[808], PREFIXED_DICT, "pass"),                        # a plain dict of every prefix
        (annotated[808], PREFIX_DICT_SUBCLASS, "pass"),
        (annotated[808], "def create_prefixed_dict(d):\n    return dict(d)\n", "error"),  # KeyError: 'ap'
        (annotated[405], "def split_string_by_delimiter(s, sep=None):\n    return s.split(sep)\n", "pass"),
        (annotated[405], SPLIT_GENERATOR, "pass"),
        (annotated[88], "from collections import Counter\ndef count_frequencies(items):\n    return Counter(items)\n",
         "pass"),                                                       # prints Counter({...})
        (annotated[88], "def count_frequencies(items):\n    return {i: items.count(i) for i in items}\n", "fail"),
        (annotated[670], HTML_TAGS, "pass"),                            # the calls call what it returns
        (annotated[341], "def is_wall_coverable_by_pixels(w, p):\n    return w % p == 0\n", "pass"),
        (anonymous[670], "def solution():\n    return {}\n", "error"),  # no usable example: nothing passes
    ]
    outcomes = judge(sandbox, [(task, code) for task, code, _ in cases])
    for (task, code, status), outcome in zip(cases, outcomes):
        assert outcome.status == status, (task.task_id, code, outcome)
    assert outcomes[0].checks_run == outcomes[0].checks_passed == 10
    assert outcomes[2].checks_passed == 0     # without the function even the raising example fails
    assert outcomes[16].checks_run == 5       # calls to is_equal_to_three are skipped


def test_dict_order_is_free_but_types_are_not(sandbox):
    task = Task(task_id="demo/dict", entry_point=codearc.SHOW, setup=codearc.setup("f"), test_list=[
        "assert _codearc_printed('Result 1: ', _codearc_show('f()'), \"Result 1: {'a': 1, 'b': (2, 3)}\")"])
    cases = [
        ("def f():\n    return {'a': 1, 'b': (2, 3)}\n", "pass"),
        ("def f():\n    return {'b': (2, 3), 'a': 1}\n", "pass"),
        ("def f():\n    return {'b': [2, 3], 'a': 1}\n", "fail"),
        ("def f():\n    return \"{'a': 1, 'b': (2, 3)}\"\n", "pass"),   # printed the same
        ("def f():\n    return {'a': True, 'b': (2, 3)}\n", "fail"),
    ]
    outcomes = judge(sandbox, [(task, code) for code, _ in cases])
    assert [o.status for o in outcomes] == [status for _, status in cases]


def test_a_raise_must_come_from_the_candidate():
    task = Task(task_id="demo/raise", entry_point=codearc.SHOW, setup=codearc.setup("f"),
                test_list=["assert _codearc_raises(lambda: _codearc_show('f([])'))"])
    cases = [
        ("def f(xs):\n    return max(xs)\n", "pass"),
        ("def f(xs):\n    raise KeyError('x')\n", "pass"),
        ("def f(xs):\n    return None\n", "fail"),
        ("def f(xs):\n    return iter(xs)\n", "fail"),                     # a value, even one that is not plain
        ("def g(xs):\n    return max(xs)\n", "fail"),                      # no f: its absence is no raise
        ("import os\ndef f(xs):\n    os._exit(1)\n", "error"),               # dying is no raise
        ("def f(xs):\n    while True:\n        pass\n", "timeout"),
    ]
    with Sandbox(workers=2, limits=Limits(timeout=1)) as quick:
        outcomes = judge(quick, [(task, code) for code, _ in cases])
    assert [o.status for o in outcomes] == [status for _, status in cases], outcomes

"""MBPP: loaders, prompts, entry points, the adapters for non-plain values, and reference fidelity."""

from __future__ import annotations

import ast
import warnings
from collections import Counter

import pytest

from bombe.benchmarks import MissingData, load_benchmark
from bombe.benchmarks import mbpp
from bombe.evaluate import evaluate, reference_samples
from bombe.sandbox import Job, Sandbox
from bombe.task import Outcome, Sample, Task

from benchkit import DATA
pytestmark = pytest.mark.skipif(
    not all((DATA / name).is_file() for name in (mbpp.FULL, mbpp.SANITIZED)),
    reason=f"MBPP data not found under {DATA / 'mbpp'}")

ADAPTED_FULL = {40, 88, 124, 367, 533, 590, 601, 653, 902, 927}
ADAPTED_SANITIZED = {88, 124, 590, 737, 787, 794}
CHALLENGED = {11, 16, 20, 23, 25, 26, 28, 42, 43, 44, 47}


@pytest.fixture(scope="module")
def full() -> dict[str, Task]:
    return {task.task_id: task for task in load_benchmark("mbpp", DATA)}


@pytest.fixture(scope="module")
def sanitized() -> dict[str, Task]:
    return {task.task_id: task for task in load_benchmark("mbpp-sanitized", DATA)}


def judge(sandbox: Sandbox, pairs: list[tuple[Task, str]]) -> list[Outcome]:
    """Judge (task, full program) pairs; outcomes in input order."""
    return sandbox.run_all(Job.for_task(task, code, sandbox.limits) for task, code in pairs)


def number(task: Task) -> int:
    return int(task.task_id.removeprefix("Mbpp/"))


# --- loaders ---------------------------------------------------------------------------------------


def test_full_mbpp_has_974_tasks_with_evalplus_ids_and_the_readme_splits(full):
    assert set(full) == {f"Mbpp/{n}" for n in range(1, 975)}
    assert all(len(task.test_list) == 3 for task in full.values())
    assert Counter(task.split for task in full.values()) == {"prompt": 10, "test": 500, "validation": 90,
                                                              "train": 374}


def test_the_test_split_is_ids_11_to_510(full):
    tasks = load_benchmark("mbpp-test", DATA)
    assert [task.task_id for task in tasks] == [f"Mbpp/{n}" for n in range(11, 511)]
    assert all(task == full[task.task_id] for task in tasks)


def test_sanitized_has_427_tasks_with_its_own_asserts_and_imports(sanitized, full):
    assert len(sanitized) == 427
    assert Counter(task.split for task in sanitized.values()) == {"prompt": 7, "test": 257, "validation": 43,
                                                                   "train": 120}
    assert sanitized["Mbpp/2"].test_list[0].startswith("assert set(similar_elements(")
    assert full["Mbpp/2"].test_list[0].startswith("assert similar_elements(")
    with_math = [task.task_id for task in sanitized.values() if (task.setup or "").startswith("import math\n")
                 or task.setup == "import math"]
    assert len(with_math) == 13 and "Mbpp/82" in with_math


def test_entry_points_are_the_functions_the_asserts_call(full, sanitized):
    assert full["Mbpp/2"].entry_point == "similar_elements"
    assert full["Mbpp/126"].entry_point == "sum"  # the reference shadows a builtin
    for task in [*full.values(), *sanitized.values()]:
        defined = set(mbpp._top_level_functions(task.canonical_solution))
        assert task.function_name in defined, task.task_id
        assert all(task.function_name + "(" in test.replace(" (", "(") for test in task.test_list), task.task_id
        adapted = getattr(task, "adapter", None) is not None
        assert task.entry_point == task.function_name, task.task_id
        assert task.call_entry_point == (mbpp.ADAPTER_PREFIX + task.function_name if adapted else None), task.task_id


def test_prompts_are_python_holding_the_description_and_every_assert(full, sanitized):
    for task in [*full.values(), *sanitized.values()]:
        assert isinstance(ast.parse(task.prompt).body[0].value, ast.Constant), task.task_id  # a docstring
        assert " ".join(task.text.split()) in task.prompt
        assert all(test.strip() in task.prompt for test in task.test_list)
        assert "\r" not in task.canonical_solution
        with warnings.catch_warnings():  # upstream references hold regexes like '\d' in plain strings
            warnings.simplefilter("ignore", DeprecationWarning)
            compile(task.reference_solution(), task.task_id, "exec")
    assert full["Mbpp/73"].prompt.startswith('r"""')  # asserts with backslashes, shown verbatim


def test_challenge_tests_ride_along_but_are_not_checked(full):
    challenged = {number(task) for task in full.values() if getattr(task, "challenge_test_list", None)}
    assert challenged == CHALLENGED
    for n in CHALLENGED:
        task = full[f"Mbpp/{n}"]
        assert not set(task.challenge_test_list) & set(task.test_list)


def test_set_up_imports_what_the_asserts_use_from_the_reference(full, sanitized):
    assert full["Mbpp/596"].setup == "import sys"  # `sys.getsizeof` in the asserts
    assert sanitized["Mbpp/596"].setup == "import sys"


def test_exactly_the_tasks_with_non_plain_values_are_adapted(full, sanitized):
    assert {number(t) for t in full.values() if getattr(t, "adapter", None)} == ADAPTED_FULL
    assert {number(t) for t in sanitized.values() if getattr(t, "adapter", None)} == ADAPTED_SANITIZED
    assert "Node" in full["Mbpp/367"].adapter and "Pair" in full["Mbpp/601"].adapter


def test_only_the_slow_reference_gets_a_longer_timeout(full, sanitized):
    for tasks in (full, sanitized):
        assert {t.task_id: t.timeout for t in tasks.values() if t.timeout is not None} == {"Mbpp/123": 60.0}


def test_missing_data_names_the_file(tmp_path):
    with pytest.raises(MissingData, match="mbpp.jsonl.gz"):
        load_benchmark("mbpp", tmp_path)
    with pytest.raises(MissingData, match="--data-dir"):
        load_benchmark("mbpp-sanitized", None)


def test_a_malformed_record_names_file_line_and_field(tmp_path):
    import gzip

    (tmp_path / "mbpp").mkdir()
    with gzip.open(tmp_path / mbpp.FULL, "wt") as handle:
        handle.write('{"task_id": 1, "text": "t", "code": "def f(): pass", "test_list": "assert f()",'
                     ' "test_setup_code": "", "challenge_test_list": []}\n')
    with pytest.raises(mbpp.InputError, match=r"line 1, field 'test_list'"):
        load_benchmark("mbpp", tmp_path)


# --- judging ---------------------------------------------------------------------------------------

SAMPLED_FULL = [2, 11, 73, 126, 217, 596, *sorted(ADAPTED_FULL)]  # 123 (2-10 s) is left to the sweep
SAMPLED_SANITIZED = [2, 82, 596, *sorted(ADAPTED_SANITIZED)]


def test_sampled_references_pass(sandbox, full, sanitized):
    tasks = [full[f"Mbpp/{n}"] for n in SAMPLED_FULL] + [sanitized[f"Mbpp/{n}"] for n in SAMPLED_SANITIZED]
    outcomes = judge(sandbox, [(task, task.reference_solution()) for task in tasks])
    failed = [(task.task_id, o.status, o.error) for task, o in zip(tasks, outcomes) if not o.passed]
    assert not failed
    assert all(o.checks_run == o.checks_passed == len(t.test_list) for t, o in zip(tasks, outcomes))


NODE = "class Node:\n    def __init__(self, data):\n        self.data, self.left, self.right = data, None, None\n"
HEIGHT = "def height(n):\n    return 0 if n is None else 1 + max(height(n.left), height(n.right))\n"


def test_wrong_programs_fail(sandbox, full, sanitized):
    cases = [  # (task, program, checks it should pass)
        (full["Mbpp/2"], "def similar_elements(a, b):\n    return tuple(a)\n", 0),
        (full["Mbpp/126"], "def sum(a, b):\n    return a + b\n", 0),
        # a tree that is always "balanced": wrong on root and root2
        (full["Mbpp/367"], NODE + "def is_tree_balanced(root):\n    return True\n", 1),
        # no Pair class: the asserts cannot build their arguments, as in MBPP
        (full["Mbpp/601"], "def max_chain_length(arr, n):\n    return n\n", 0),
        (full["Mbpp/927"], NODE + HEIGHT + "def max_height(node):\n    return height(node) + 1\n", 0),
        (full["Mbpp/88"], "from collections import Counter\ndef freq_count(xs):\n    return Counter(xs[1:])\n", 0),
        (full["Mbpp/88"], "class Yes(dict):\n    def __eq__(self, other):\n        return True\n"
                          "def freq_count(xs):\n    return Yes()\n", 0),
        (full["Mbpp/124"], "def angle_complex(a, b):\n    return abs(a + b)\n", 0),
        (full["Mbpp/533"], "def remove_datatype(t, kind):\n    return [x for x in t if isinstance(x, kind)]\n", 0),
        (full["Mbpp/590"], "def polar_rect(x, y):\n    return ((0.0, 0.0), 1j)\n", 0),
        (sanitized["Mbpp/737"], "import re\ndef check_str(s):\n    return re.search('.*', s)\n", 2),
        # the function is missing altogether: the judge-side stand-in is not taken for it
        (full["Mbpp/601"], "class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n", 0),
        (full["Mbpp/367"], NODE, 0),
    ]
    outcomes = judge(sandbox, [(task, code) for task, code, _ in cases])
    for (task, _, passes), outcome in zip(cases, outcomes):
        assert not outcome.passed, task.task_id
        assert outcome.checks_passed == passes, (task.task_id, outcome)


def test_right_programs_other_than_the_reference_pass(sandbox, full, sanitized):
    cases = [
        # the candidate's own Pair class, with its own attribute names, is what the asserts build
        (full["Mbpp/601"], "class Pair:\n    def __init__(self, first, last):\n        self.first, self.last = first, last\n"
                           "def max_chain_length(arr, n):\n    best = [1] * n\n    for i in range(n):\n"
                           "        for j in range(i):\n            if arr[i].first > arr[j].last:\n"
                           "                best[i] = max(best[i], best[j] + 1)\n    return max(best)\n"),
        (full["Mbpp/927"], NODE + HEIGHT + "def max_height(node):\n    return height(node)\n"),
        (full["Mbpp/88"], "def freq_count(xs):\n    return {x: xs.count(x) for x in xs}\n"),
        (sanitized["Mbpp/737"], "def check_str(s):\n    return s[0] in 'aeiouAEIOU'\n"),
        (full["Mbpp/533"], "def remove_datatype(t, kind):\n    return [x for x in t if type(x) is not kind]\n"),
    ]
    outcomes = judge(sandbox, cases)
    assert [(task.task_id, o.status, o.error) for (task, _), o in zip(cases, outcomes) if not o.passed] == []


def test_a_completion_sample_runs_after_the_prompt(sandbox, full):
    task = full["Mbpp/2"]
    program = Sample(task_id=task.task_id, completion=task.canonical_solution).program(task)
    assert program == task.reference_solution()
    assert judge(sandbox, [(task, program)])[0].passed


# --- the full sweep --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("benchmark, count", [("mbpp", 974), ("mbpp-sanitized", 427)])
def test_every_reference_passes(benchmark, count):
    tasks = load_benchmark(benchmark, DATA)
    with Sandbox(workers=2) as box:
        summary = evaluate(tasks, reference_samples(tasks), box)
    assert (summary["samples"], summary["passed"]) == (count, count), summary["status_counts"]

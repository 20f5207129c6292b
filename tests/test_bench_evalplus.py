"""HumanEval+, HumanEval+ Mini and MBPP+: loaders, EvalPlus's special checks, reference fidelity."""

from __future__ import annotations

import time

import pytest

from bombe.benchmarks import MissingData, load_benchmark
from bombe.benchmarks import evalplus
from bombe.evaluate import evaluate, reference_samples
from bombe.reference import prepare
from bombe.sandbox import Limits, Sandbox
from bombe.task import Result, Sample, Task

from benchkit import DATA
pytestmark = pytest.mark.skipif(
    not all((DATA / name).is_file() for name in (evalplus.HUMANEVAL_PLUS, evalplus.HUMANEVAL_PLUS_MINI,
                                                  evalplus.MBPP_PLUS)),
    reason=f"EvalPlus data not found under {DATA}")

# Tasks that exercise each special case; their hidden inputs are cut to a few in the fast tests.
SAMPLE = ["HumanEval/0", "HumanEval/32", "HumanEval/83", "Mbpp/2", "Mbpp/88", "Mbpp/124", "Mbpp/590",
          "Mbpp/737", "Mbpp/793", "Mbpp/257", "Mbpp/600"]


@pytest.fixture(scope="module")
def benchmarks() -> dict[str, list[Task]]:
    return {name: load_benchmark(name, DATA) for name in ("humaneval+", "humaneval+mini", "mbpp+")}


@pytest.fixture(scope="module")
def tasks(benchmarks) -> dict[str, Task]:
    return {task.task_id: task for task in benchmarks["humaneval+"] + benchmarks["mbpp+"]}


@pytest.fixture(scope="module")
def sample(tasks, sandbox, tmp_path_factory) -> dict[str, Task]:
    """The SAMPLE tasks with at most 12 hidden inputs each (plus HumanEval/83's giant), prepared."""
    cut = []
    for task_id in SAMPLE:
        task = tasks[task_id]
        hidden = task.hidden_tests[:12]
        if task_id == "HumanEval/83":
            hidden.append(max(task.hidden_tests, key=lambda test: test.args[0]))
        cut.append(task.model_copy(update={"hidden_tests": hidden}))
    ready = prepare(cut, sandbox, cache_dir=tmp_path_factory.mktemp("reference"))
    return {task.task_id: task for task in ready}


def judge(sandbox: Sandbox, task: Task, *completions: str, solution: bool = False) -> list[Result]:
    samples = [Sample(task_id=task.task_id, **{"solution" if solution else "completion": c}) for c in completions]
    results: list[Result] = []
    evaluate([task], samples, sandbox, on_result=results.append)
    return sorted(results, key=lambda r: r.sample_index)


# --- loaders -----------------------------------------------------------------------------------


def test_sizes_and_the_visible_hidden_split(benchmarks):
    for name, count, visible, hidden in (("humaneval+", 164, 1570, 122683), ("humaneval+mini", 164, 1570, 1107),
                                         ("mbpp+", 378, 1174, 39841)):
        loaded = benchmarks[name]
        assert len(loaded) == count
        assert sum(len(t.tests) for t in loaded) == visible, "base inputs are what generators see"
        assert sum(len(t.hidden_tests) for t in loaded) == hidden, "plus inputs are hidden"
        assert all(t.expected_from_reference and t.reference_solution() for t in loaded)
        assert all(c.expected is None for t in loaded for c in t.all_call_tests)


def test_a_missing_data_directory_is_named(tmp_path):
    with pytest.raises(MissingData, match="humaneval\\+"):
        load_benchmark("humaneval+", tmp_path)


def test_mbpp_inputs_are_rebuilt_as_evalplus_does(tasks):
    assert tasks["Mbpp/2"].tests[0].args == [(3, 4, 5, 6), (5, 7, 4, 10)]
    assert tasks["Mbpp/75"].tests[0].args == [[(6, 24, 12), (7, 9, 6), (12, 18, 21)], 6]
    assert tasks["Mbpp/580"].tests[0].args == [(4, 5, (7, 6, (2, 4)), 6, 8)]
    assert tasks["Mbpp/722"].tests[0].args[0]["Pierre Cox"] == (5.8, 66)
    assert tasks["Mbpp/124"].tests[0].args == ["0", "1j"], "complex numbers travel as text"
    assert tasks["Mbpp/793"].hidden_tests == []


def test_tolerances_from_the_record(tasks):
    assert tasks["HumanEval/32"].tests[0].atol == 1e-4
    assert tasks["Mbpp/82"].tests[0].atol == 1e-4 and tasks["Mbpp/82"].tests[0].rtol == 1e-7
    assert tasks["HumanEval/0"].tests[0].atol is None
    assert tasks["HumanEval/0"].float_atol == 1e-6


# --- the special cases, judged ------------------------------------------------------------------


def test_references_pass_on_the_sample(sample, sandbox):
    samples = reference_samples(sample.values())
    results: list[Result] = []
    evaluate(list(sample.values()), samples, sandbox, on_result=results.append)
    assert [(r.task_id, r.status) for r in results if not r.passed] == []


def test_a_wrong_solution_fails(sample, sandbox):
    (result,) = judge(sandbox, sample["HumanEval/0"], "    return False\n")
    assert result.status == "fail"


def test_find_zero_is_compared_with_the_reference_root_within_the_task_atol(sample, sandbox):
    # find_zero's reference root, nudged by 1e-6: inside the task's atol of 1e-4; by 1e-2: outside.
    task = sample["HumanEval/32"]
    code = task.canonical_solution.replace("    return x\n", "    return x + {}\n")
    close, far = judge(sandbox, task, code.format("1e-6"), code.format("1e-2"))
    assert (close.status, far.status) == ("pass", "fail")


def test_huge_int_outputs_are_compared_exactly(sample, sandbox):
    task = sample["HumanEval/83"]
    assert task.hidden_tests[-1].args[0] > 100_000
    right, wrong = judge(sandbox, task, task.canonical_solution, "    return 1 if n == 1 else 18 * 10 ** (n - 2) + 1\n")
    assert (right.status, wrong.status) == ("pass", "fail")


def test_set_equal_tasks_accept_any_order(sample, sandbox):
    task = sample["Mbpp/2"]
    ordered = "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))\n"
    as_list = "def similar_elements(a, b):\n    return [x for x in b if x in a]\n"
    wrong = "def similar_elements(a, b):\n    return tuple(set(a) | set(b))\n"
    statuses = [r.status for r in judge(sandbox, task, ordered, as_list, wrong, solution=True)]
    assert statuses == ["pass", "pass", "fail"]


def test_regex_tasks_check_only_whether_there_is_a_match(sample, sandbox):
    task = sample["Mbpp/737"]
    as_bool = "import re\ndef check_str(s):\n    return bool(re.match('[aeiouAEIOU]', s))\n"
    as_match = "import re\ndef check_str(s):\n    return re.match('[aeiouAEIOU]', s)\n"
    inverted = "import re\ndef check_str(s):\n    return not re.match('[aeiouAEIOU]', s)\n"
    statuses = [r.status for r in judge(sandbox, task, as_bool, as_match, inverted, solution=True)]
    assert statuses == ["pass", "pass", "fail"]


def test_complex_inputs_and_outputs(sample, sandbox):
    angle = sample["Mbpp/124"]
    right = "import cmath\ndef angle_complex(a, b):\n    return cmath.phase(complex(a, b.imag))\n"
    wrong = "def angle_complex(a, b):\n    return b.imag\n"
    assert [r.status for r in judge(sandbox, angle, right, wrong, solution=True)] == ["pass", "fail"]
    polar = sample["Mbpp/590"]
    assert polar.tests[0].expected == ((5.0, 0.9272952180016122), ("complex", -2.0, 2.4492935982947064e-16))


def test_a_counter_compares_as_the_dict_it_is(sample, sandbox):
    as_dict = ("def freq_count(xs):\n    out = {}\n    for x in xs:\n        out[x] = out.get(x, 0) + 1\n"
               "    return out\n")
    (result,) = judge(sandbox, sample["Mbpp/88"], as_dict, solution=True)
    assert result.status == "pass"


def test_a_candidate_without_the_function_is_an_error(sample, sandbox):
    (result,) = judge(sandbox, sample["Mbpp/2"], "def other():\n    pass\n", solution=True)
    assert result.status == "error" and "similar_elements" in result.error


# --- where bombe and EvalPlus still disagree (shared-code changes they need are in the report) ---


NEWTON_FROM_50 = """\
    dxs = [xs[i] * i for i in range(1, len(xs))]
    x = 50.0
    for _ in range(1000):
        fx = poly(xs, x)
        if abs(fx) < 1e-5:
            break
        x = x - fx / poly(dxs, x)
    return x
"""


@pytest.mark.xfail(strict=True, reason="EvalPlus accepts any root of HumanEval/32; bombe needs a trusted "
                                       "poly_root check in the verdict and compares with the reference's root")
def test_find_zero_accepts_any_root(sample, sandbox):
    (result,) = judge(sandbox, sample["HumanEval/32"], NEWTON_FROM_50)
    assert result.status == "pass"


@pytest.mark.xfail(strict=True, reason="EvalPlus compares with ==, where a list is not a tuple; "
                                       "values_match lets a list stand for a tuple")
def test_a_list_is_not_the_tuple_expected(sample, sandbox):
    (result,) = judge(sandbox, sample["Mbpp/257"], "def swap_numbers(a, b):\n    return [b, a]\n", solution=True)
    assert result.status == "fail"


@pytest.mark.xfail(strict=True, reason="EvalPlus compares with ==, where 1 == True; values_match keeps bools apart")
def test_one_and_zero_stand_for_true_and_false(sample, sandbox):
    (result,) = judge(sandbox, sample["Mbpp/600"], "def is_Even(n):\n    return 1 - n % 2\n", solution=True)
    assert result.status == "pass"


# --- reference fidelity -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name, count", [("humaneval+mini", 164), ("humaneval+", 164), ("mbpp+", 378)])
def test_every_reference_passes(name, count, tmp_path):
    loaded = load_benchmark(name, DATA)
    with Sandbox(workers=2, limits=Limits(timeout=10)) as box:
        started = time.monotonic()
        ready = prepare(loaded, box, cache_dir=tmp_path)
        cold = time.monotonic() - started
        started = time.monotonic()
        prepare(loaded, box, cache_dir=tmp_path)
        cached = time.monotonic() - started
        results: list[Result] = []
        started = time.monotonic()
        summary = evaluate(ready, reference_samples(ready), box, on_result=results.append)
        judged = time.monotonic() - started
    print(f"\n{name}: prepare {cold:.1f} s cold, {cached:.1f} s cached; judging {judged:.1f} s")
    assert [(r.task_id, r.status, r.error) for r in results if not r.passed] == []
    assert summary["passed"] == count

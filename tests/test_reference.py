"""bombe.reference.prepare: expected values and per-call limits from running the reference."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bombe import reference
from bombe.evaluate import evaluate, reference_samples
from bombe.reference import ReferenceFailed, cache_key, prepare
from bombe.sandbox import Limits, Sandbox
from bombe.task import CallTest, Sample, Task

SQUARE = Task(
    task_id="demo/square", prompt="def square(x):\n", entry_point="square",
    canonical_solution="    import time\n    if x == 3:\n        time.sleep(0.4)\n    return x * x\n",
    tests=[CallTest(args=[1]), CallTest(args=[2])], hidden_tests=[CallTest(args=[3]), CallTest(args=[-4])],
    expected_from_reference=True,
)
GIVEN = Task(task_id="demo/given", prompt="def one():\n", entry_point="one", canonical_solution="    return 1\n",
             tests=[CallTest(args=[], expected=1)])


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2, limits=Limits(timeout=5)) as box:
        yield box


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One cache for the tests that are not about caching: SQUARE's reference runs once."""
    return tmp_path_factory.mktemp("reference")


class NoSandbox:
    """Stands in for the sandbox where nothing may run: every result must come from the cache."""

    limits = Limits()

    def run(self, jobs):
        raise AssertionError("the reference ran again")


def test_expected_values_and_call_limits_come_from_the_reference(sandbox, cache):
    square, given = prepare([SQUARE, GIVEN], sandbox, factor=4.0, min_call_seconds=0.5, cache_dir=cache)
    assert [t.expected for t in square.tests] == [1, 4]
    assert [t.expected for t in square.hidden_tests] == [9, 16]
    assert len(square.call_timeouts) == 4
    assert square.call_timeouts[2] >= 4 * 0.4, "four times the reference's 0.4 s on that input"
    assert [square.call_timeouts[i] for i in (0, 1, 3)] == [0.5, 0.5, 0.5], "the floor elsewhere"
    assert given is GIVEN, "tasks with their own expected values pass through"
    assert SQUARE.tests[0].expected is None and SQUARE.call_timeouts is None, "the input tasks are not changed"


def test_prepared_tasks_judge_samples(sandbox, cache):
    (square,) = prepare([SQUARE], sandbox, cache_dir=cache)
    right = reference_samples([square])[0]
    wrong = Sample(task_id=square.task_id, completion="    return x * x if x < 3 else 0\n")
    slow = Sample(task_id=square.task_id, completion="    import time\n    time.sleep(1.5 if x == 1 else 0)\n"
                                                       "    return x * x\n")
    results = []
    evaluate([square], [right, wrong, slow], sandbox, on_result=results.append)
    by_status = sorted(r.status for r in results)
    assert by_status == ["fail", "pass", "timeout"], "the slow one exceeds input 1's limit of 1 s"


def test_a_rerun_reads_the_cache(sandbox, tmp_path):
    first = prepare([SQUARE], sandbox, cache_dir=tmp_path)
    again = prepare([SQUARE], NoSandbox(), cache_dir=tmp_path)
    assert again[0].tests == first[0].tests and again[0].call_timeouts == first[0].call_timeouts
    changed = SQUARE.model_copy(update={"hidden_tests": [CallTest(args=[5])]})
    with pytest.raises(AssertionError, match="ran again"):
        prepare([changed], NoSandbox(), cache_dir=tmp_path)


def test_the_cache_key_covers_program_inputs_and_machine():
    key = cache_key(SQUARE, "machine A")
    assert key == cache_key(SQUARE.model_copy(), "machine A")
    assert key != cache_key(SQUARE, "machine B")
    assert key != cache_key(SQUARE.model_copy(update={"canonical_solution": "    return x ** 2\n"}), "machine A")
    assert key != cache_key(SQUARE.model_copy(update={"tests": [CallTest(args=[(1,)])] * 2}), "machine A")
    assert key != cache_key(SQUARE.model_copy(update={"tests": [CallTest(args=[[1]])] * 2}), "machine A")


def test_the_cache_key_of_set_inputs_is_the_same_in_every_process():
    code = (
        "from bombe.reference import cache_key\nfrom bombe.task import CallTest, Task\n"
        "words = ['pear', 'fig', 'apple', 'kiwi', 'plum', 'lime', 'date']\n"
        "task = Task(task_id='t', entry_point='f', canonical_solution='', tests=[CallTest(args=[set(words), "
        "{frozenset(words[:3]): words}])])\nprint(cache_key(task, 'm'))\n"
    )
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(keys) == 1


def test_a_corrupt_cache_file_is_recomputed(sandbox, tmp_path):
    prepare([SQUARE], sandbox, cache_dir=tmp_path)
    (path,) = tmp_path.glob("*.json")
    path.write_text("[1, ")
    (square,) = prepare([SQUARE], sandbox, cache_dir=tmp_path)
    assert [t.expected for t in square.all_call_tests] == [1, 4, 9, 16]


def test_a_reference_that_raises_is_reported_by_task_and_input(sandbox, tmp_path):
    broken = SQUARE.model_copy(update={"canonical_solution": "    return 1 // (x - 2)\n"})
    with pytest.raises(ReferenceFailed) as caught:
        prepare([broken], sandbox, cache_dir=tmp_path)
    (failure,) = caught.value.failures
    assert "demo/square" in failure and "ZeroDivisionError on input 2 (2)" in failure
    assert not list(tmp_path.glob("*.json")), "nothing cached for a failed reference"


def test_a_reference_returning_what_is_not_plain_data_is_reported(sandbox, tmp_path):
    odd = SQUARE.model_copy(update={"canonical_solution": "    return object()\n"})
    with pytest.raises(ReferenceFailed, match="NotPlainData on input 1"):
        prepare([odd], sandbox, cache_dir=tmp_path)


def test_a_reference_that_times_out_is_reported(sandbox, tmp_path, monkeypatch):
    monkeypatch.setattr(reference, "REFERENCE_TIMEOUT", 0.5)
    with Sandbox(workers=1, limits=Limits(timeout=0.5)) as box:
        slow = SQUARE.model_copy(update={"canonical_solution": "    while x == 2:\n        pass\n    return x\n"})
        with pytest.raises(ReferenceFailed, match=r"demo/square: .*timed out on input 2 \(2\)"):
            prepare([slow], box, cache_dir=tmp_path)


def test_a_task_without_a_reference_is_reported(sandbox, tmp_path):
    with pytest.raises(ReferenceFailed, match="no reference solution"):
        prepare([SQUARE.model_copy(update={"canonical_solution": None})], sandbox, cache_dir=tmp_path)


def test_evalplus_float_rule_tolerates_floats_from_the_first_float_on(sandbox, tmp_path):
    # Outputs per input: 1 (int), 0.5 (float), [1, 2] (ints), 2.5: within the visible tests the
    # tolerance starts at the first float output and stays; the hidden tests start over.
    code = "    return {0: 1, 1: 0.5, 2: [1, 2], 3: 2.5, 4: 7, 5: [0.5, 1.5]}[x]\n"
    task = Task(task_id="demo/floats", prompt="def f(x):\n", entry_point="f", canonical_solution=code,
                tests=[CallTest(args=[i]) for i in range(4)],
                hidden_tests=[CallTest(args=[4]), CallTest(args=[5]), CallTest(args=[0], atol=0.1)],
                expected_from_reference=True, float_atol=1e-6, float_rtol=1e-7)
    (ready,) = prepare([task], sandbox, cache_dir=tmp_path)
    assert [t.atol for t in ready.tests] == [None, 1e-6, 1e-6, 1e-6]
    assert [t.rtol for t in ready.tests] == [None, 1e-7, 1e-7, 1e-7]
    assert [t.atol for t in ready.hidden_tests] == [None, 1e-6, 0.1], "a test's own tolerance stays"

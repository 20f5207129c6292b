"""The Sandbox API: what a caller relies on beyond the hostile suite."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from bombe.sandbox import Job, Limits, Sandbox, available_levels
from bombe.sandbox.channel import CandidateChannel, CandidateGone
from bombe.sandbox.isolation import IsolationUnavailable, choose_level
from bombe.task import CallTest

DOUBLE = "def f(x):\n    return x * 2\n"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2, limits=Limits(timeout=3)) as box:
        yield box


def test_batch_yields_every_job_once_as_it_finishes(sandbox):
    slow = Job("import time\ndef f(x):\n    time.sleep(0.5)\n    return x * 2\n", "f",
               calls=[CallTest(args=[1], expected=2)])
    fast = Job(DOUBLE, "f", calls=[CallTest(args=[1], expected=2)])
    order = [index for index, outcome in sandbox.run([slow, fast, fast, fast]) if outcome.passed]
    assert sorted(order) == [0, 1, 2, 3]
    assert order[-1] == 0, "the slow job finishes last, and is yielded when it finishes"


def test_outputs_are_returned_as_plain_values(sandbox):
    job = Job("def f(x):\n    return (x, [x], {x: x})\n", "f", calls=[CallTest(args=[3], expected=[3, [3], {}])])
    outcome = sandbox.run_one(job)
    assert outcome.status == "fail"
    assert outcome.outputs == [(3, [3], {3: 3})]


def test_judge_proxy_copies_in_place_changes_back(sandbox):
    code = "def f(xs):\n    xs.sort()\n"
    test = "def check(candidate):\n    data = [3, 1, 2]\n    candidate(data)\n    assert data == [1, 2, 3]\n"
    assert sandbox.run_one(Job(code, "f", checks=[test], call_check=True)).status == "pass"


def test_builtin_exceptions_reach_the_tests_as_themselves(sandbox):
    code = "def f(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x\n"
    test = (
        "def check(candidate):\n    try:\n        candidate(-1)\n    except ValueError:\n        pass\n"
        "    else:\n        assert False\n    assert candidate(2) == 2\n"
    )
    assert sandbox.run_one(Job(code, "f", checks=[test], call_check=True)).status == "pass"


def test_uncaught_candidate_exception_is_an_error_naming_its_type(sandbox):
    outcome = sandbox.run_one(Job("def f(x):\n    return 1 / 0\n", "f", checks=["assert f(1) == 1"]))
    assert outcome.status == "error"
    assert "ZeroDivisionError" in outcome.error


def test_setup_runs_before_the_candidate_in_call_tasks(sandbox):
    job = Job("def f(x):\n    return x + OFFSET\n", "f", calls=[CallTest(args=[1], expected=11)], setup="OFFSET = 10")
    assert sandbox.run_one(job).status == "pass"


def test_test_list_counts_each_assert(sandbox):
    checks = ["assert f(1) == 2", "assert f(2) == 5", "assert f(3) == 6"]
    outcome = sandbox.run_one(Job(DOUBLE, "f", checks=checks))
    assert (outcome.status, outcome.checks_run, outcome.checks_passed) == ("fail", 3, 2)
    assert "check 2" in outcome.error


def test_per_job_limits_override_the_pool_default(sandbox):
    loop = "def f(x):\n    while True:\n        pass\n"
    started = time.monotonic()
    outcome = sandbox.run_one(Job(loop, "f", calls=[CallTest(args=[1], expected=1)], limits=Limits(timeout=0.5)))
    assert outcome.status == "timeout"
    assert time.monotonic() - started < 2.5


def test_a_lost_worker_is_replaced(sandbox):
    sandbox.run_one(Job(DOUBLE, "f", calls=[CallTest(args=[1], expected=2)]))
    for worker in sandbox._workers:
        os.kill(worker.candidates.process.pid, signal.SIGKILL)
    statuses = [o.status for _, o in sandbox.run([Job(DOUBLE, "f", calls=[CallTest(args=[1], expected=2)])] * 4)]
    assert statuses.count("killed") <= 2  # at most the job each dead worker was handed
    assert sandbox.run_one(Job(DOUBLE, "f", calls=[CallTest(args=[1], expected=2)])).status == "pass"


@pytest.mark.parametrize("level", [lv for lv in available_levels() if lv != "none"])
def test_every_available_level_judges_and_keeps_the_network_out(level):
    probe = (
        "import socket\n"
        "def f(x):\n"
        "    try:\n"
        "        socket.create_connection(('1.1.1.1', 53), timeout=1)\n"
        "        return 'connected'\n"
        "    except OSError:\n"
        "        return x * 2\n"
    )
    with Sandbox(workers=1, limits=Limits(timeout=5), isolation_level=level) as box:
        assert box.isolation == level
        assert box.run_one(Job(probe, "f", calls=[CallTest(args=[2], expected=4)])).status == "pass"
        assert box.run_one(Job(DOUBLE, "f", checks=["assert f(2) == 4"])).status == "pass"


def test_no_isolation_needs_explicit_consent():
    with pytest.raises(IsolationUnavailable):
        choose_level("none", allow_unsafe=False)
    assert choose_level("none", allow_unsafe=True) == "none"


def test_a_job_with_no_checks_never_passes(sandbox):
    assert sandbox.run_one(Job(DOUBLE, "f", calls=[])).status == "error"
    assert sandbox.run_one(Job(DOUBLE, "f", checks=[])).status != "pass"


def test_a_broken_test_is_the_judges_error_not_the_candidates(sandbox):
    # set-up that loads in the candidate's process (where __candidate__ exists) but breaks in the judge
    setup = "import sys\nif '__candidate__' not in sys.modules:\n    raise RuntimeError('broken on the judge side')"
    outcome = sandbox.run_one(Job(DOUBLE, "f", checks=["assert f(1) == 2"], setup=setup))
    assert outcome.status == "error" and outcome.error.startswith("judge:")


def test_an_assert_failing_after_a_caught_candidate_exception_is_a_fail(sandbox):
    code = "def f(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x\n"
    test = ("def check(candidate):\n    try:\n        candidate(-1)\n    except ValueError:\n        pass\n"
            "    assert candidate(2) == 3\n")
    outcome = sandbox.run_one(Job(code, "f", checks=[test], call_check=True))
    assert outcome.status == "fail" and "AssertionError" in outcome.error


def test_a_channel_closed_before_the_program_is_sent_is_a_gone_candidate():
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    theirs.close()
    channel = CandidateChannel(ours, 1 << 16, time.monotonic() + 1)
    with pytest.raises(CandidateGone):
        channel.load(DOUBLE, "f")
    assert channel.gone == "channel closed"
    ours.close()


def test_a_harness_error_is_reported_and_the_worker_starts_afresh(monkeypatch):
    from bombe.sandbox import pool

    with Sandbox(workers=1, limits=Limits(timeout=3)) as box:
        job = Job(DOUBLE, "f", calls=[CallTest(args=[1], expected=2)])
        assert box.run_one(job).passed
        before = box._workers[0].candidates.process.pid
        real = pool.verdict.judge_calls

        def broken_once(*args, **kwargs):
            monkeypatch.setattr(pool.verdict, "judge_calls", real)
            raise RuntimeError("a bug in the harness")
        monkeypatch.setattr(pool.verdict, "judge_calls", broken_once)
        outcome = box.run_one(job)
        assert outcome.status == "killed" and "RuntimeError: a bug in the harness" in outcome.error
        assert box._workers[0].candidates.process.pid != before
        assert box.run_one(job).passed


def test_inputs_that_are_not_plain_data_are_refused_before_a_candidate_starts():
    good = Job(DOUBLE, "f", calls=[CallTest(args=[1], expected=2)])
    with Sandbox(workers=1, limits=Limits(timeout=3)) as box:
        assert box.run_one(good).passed
        pid = box._workers[0].candidates.process.pid
        bad = Job(DOUBLE, "f", calls=[CallTest(args=[1], expected=2), CallTest(args=[1j], expected=2j)])
        outcome = box.run_one(bad)
        assert outcome.status == "killed" and "not plain data" in outcome.error and outcome.checks_run == 0
        # No candidate ran, so nothing was left half-done: the worker keeps its zygote.
        assert box._workers[0].candidates.process.pid == pid
        assert box.run_one(good).passed

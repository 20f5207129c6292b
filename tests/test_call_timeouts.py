"""Per-call time limits: each reply has its own deadline on the parent's clock."""

from __future__ import annotations

import time

import pytest

from bombe.sandbox import Job, Limits, Sandbox
from bombe.sandbox.pool import CALLS_TIME_CAP, whole_timeout
from bombe.task import CallTest, Task

# Instant on every input but 2, where it sleeps 0.8 s.
SLOW_ON_TWO = "import time\ndef f(x):\n    if x == 2:\n        time.sleep(0.8)\n    return x * 2\n"
CALLS = [CallTest(args=[x], expected=2 * x) for x in (1, 2, 3)]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2, limits=Limits(timeout=5)) as box:
        yield box


def test_a_call_over_its_own_limit_times_out_though_the_total_would_fit(sandbox):
    job = Job(SLOW_ON_TWO, "f", calls=CALLS, call_timeouts=[0.4, 0.4, 0.4], limits=Limits(timeout=5))
    started = time.monotonic()
    outcome = sandbox.run_one(job)
    assert outcome.status == "timeout"
    assert (outcome.checks_run, outcome.checks_passed) == (1, 1), "the first call passed, the second timed out"
    assert time.monotonic() - started < 2.5, "decided at the call's limit, not the job's 5 s"


def test_without_call_limits_the_same_candidate_passes(sandbox):
    assert sandbox.run_one(Job(SLOW_ON_TWO, "f", calls=CALLS, limits=Limits(timeout=5))).status == "pass"


def test_each_call_within_its_limit_passes(sandbox):
    job = Job(SLOW_ON_TWO, "f", calls=CALLS, call_timeouts=[0.4, 1.5, 0.4], limits=Limits(timeout=5))
    assert sandbox.run_one(job).status == "pass"


def test_replies_carry_the_seconds_the_parent_waited_for_them(sandbox):
    job = Job(SLOW_ON_TWO, "f", calls=CALLS)
    assert sandbox.run_one(job).status == "pass"
    seconds = [reply.seconds for reply in job.replies]
    assert seconds[1] >= 0.8
    # The sleep is the second call's alone (not a fixed bound: a loaded machine slows every call).
    assert seconds[0] + seconds[2] < seconds[1]


def test_a_candidate_stuck_after_replying_early_still_times_out(sandbox):
    # Fast first, then an endless loop: the second call's limit, not the job's, ends it.
    code = "def f(x):\n    while x == 2:\n        pass\n    return x * 2\n"
    job = Job(code, "f", calls=CALLS, call_timeouts=[0.3, 0.3, 0.3], limits=Limits(timeout=5))
    started = time.monotonic()
    assert sandbox.run_one(job).status == "timeout"
    assert time.monotonic() - started < 2.5


def _task(call_timeouts: list[float] | None, **extra) -> Task:
    return Task(task_id="t/1", prompt="", entry_point="f", tests=CALLS[:2], hidden_tests=CALLS[2:],
                call_timeouts=call_timeouts, **extra)


def test_the_whole_limit_grows_to_fit_loading_and_every_call_at_its_limit(sandbox):
    # 0.8 s of calls under a 0.5 s job limit: the per-call limits raise the whole limit.
    job = Job.for_task(_task([0.4, 1.5, 0.4]), SLOW_ON_TWO, Limits(timeout=0.5))
    assert job.call_timeouts == [0.4, 1.5, 0.4]
    assert job.limits.timeout == pytest.approx(0.5 + 2.3)
    assert sandbox.run_one(job).status == "pass"


def test_the_whole_limit_is_bounded():
    assert whole_timeout(10.0, [1.0] * 1000) == 10.0 + CALLS_TIME_CAP
    job = Job.for_task(_task([1.0] * 3).model_copy(update={"hidden_tests": [CallTest(args=[1])] * 999,
                                                           "call_timeouts": [1.0] * 1001}), "", Limits(timeout=10))
    assert job.limits.timeout == 10.0 + CALLS_TIME_CAP


def test_tasks_without_call_limits_keep_the_pool_default():
    job = Job.for_task(_task(None), SLOW_ON_TWO)
    assert job.call_timeouts is None and job.limits is None


def test_one_limit_per_call_is_required():
    with pytest.raises(ValueError, match="2 call timeouts for 3"):
        Job.for_task(_task([1.0, 1.0]), SLOW_ON_TWO)
    with pytest.raises(ValueError):
        Job(SLOW_ON_TWO, "f", calls=CALLS, call_timeouts=[1.0])


def test_a_task_may_route_calls_through_its_setup(sandbox):
    # The call entry point converts text to complex in the candidate's process.
    setup = "def _call(*args):\n    return f(complex(args[0])).real\n"
    task = Task(task_id="t/2", prompt="", entry_point="f", tests=[CallTest(args=["1+2j"], expected=2.0)],
                setup=setup, call_entry_point="_call")
    job = Job.for_task(task, "def f(z):\n    return z * 2\n")
    assert job.entry_point == "_call"
    assert sandbox.run_one(job).status == "pass"

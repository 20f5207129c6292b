"""Trusted decisions: turn what came back from a candidate into an Outcome.

Nothing here trusts the candidate's process: a pass needs every expected value matched
here, or every assert-style check passed in the judge, which never loaded candidate code.
"""

from __future__ import annotations

import signal

from bombe.sandbox.channel import Reply
from bombe.sandbox.codec import values_match
from bombe.task import CallTest, Outcome

_MEMORY_ERRORS = {"MemoryError"}


def _ending(report: dict, checks_run: int, gone: str | None = None) -> tuple[str, str]:
    """Why the candidate stopped before finishing its checks: the zygote's report on how the
    process ended, and `gone`, what the reading side saw (a timeout, a broken protocol)."""
    at = f" (after {checks_run} checks)"
    if report.get("spawn_error"):
        return "killed", f"the sandbox could not start the candidate: {report['spawn_error']}"
    if report.get("output_exceeded"):
        return "output_limit", f"output exceeded {report.get('output_bytes', 0)} bytes{at}"
    if report.get("timed_out") or gone == "timeout":
        return "timeout", f"timed out{at}"
    sig = report.get("signal")
    if sig == signal.SIGXCPU:
        return "timeout", f"CPU time limit{at}"
    if report.get("killed_by_us") or (gone and gone.startswith("protocol violation")):
        # still running when its checks ended, or it broke the protocol: it stopped answering
        return "error", f"stopped answering: {gone or 'no reply'}{at}"
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return "killed", f"killed by {name}{at}"
    code = report.get("exit_code")
    if code is not None:
        return "error", f"exited with code {code}{at}"
    return "killed", f"stopped{at}"


def _exception_status(exc_type: str) -> str:
    return "memory" if exc_type in _MEMORY_ERRORS else "error"


def _load_failure(load: dict) -> tuple[str, str]:
    if load["status"] == "invalid":
        return "invalid", f"{load['exc']}: {load['msg']}"
    return _exception_status(load["exc"]), f"{load['exc']} while loading: {load['msg']}"


def _show(value: object, width: int) -> str:
    try:
        return repr(value)[:width]
    except ValueError:  # an int past sys.get_int_max_str_digits()
        return "<an int too long to print>"


def _describe_call(test: CallTest, index: int) -> str:
    args = ", ".join([_show(a, 60) for a in test.args] + [f"{k}={_show(v, 60)}" for k, v in test.kwargs.items()])
    return f"check {index + 1}: f({args})"


def _from_report(report: dict, status: str, run: int, passed: int, error: str | None,
                 outputs: list | None = None) -> Outcome:
    """An Outcome carrying what the zygote measured of the candidate's process."""
    return Outcome(status, run, passed, error, report.get("wall_ms", 0.0), report.get("output_tail", ""),
                   report.get("max_rss_kb", 0), outputs=outputs)


def judge_calls(
    tests: list[CallTest], load: dict | None, replies: list[Reply], gone: str | None, report: dict
) -> Outcome:
    """Compare a candidate's replies with the expected values, here in the trusted parent."""
    outputs = [r.value if r.ok else None for r in replies]

    def outcome(status: str, passed: int, error: str | None, run: int | None = None) -> Outcome:
        return _from_report(report, status, len(replies) if run is None else run, passed, error, outputs)

    if report.get("output_exceeded"):
        return outcome("output_limit", 0, _ending(report, len(replies))[1])
    if load is None:
        status, error = _ending(report, 0, gone)
        return outcome(status, 0, error, 0)
    if load["status"] != "ready":
        status, error = _load_failure(load)
        return outcome(status, 0, error, 0)
    if not tests:  # nothing was checked, so nothing was shown: never a pass
        return outcome("error", 0, "the task has no checks", 0)
    passed, failure = 0, None
    for index, (test, reply) in enumerate(zip(tests, replies)):
        if reply.ok and values_match(reply.value, test.expected, test.atol, test.rtol, test.exact):
            passed += 1
        elif failure is None:
            if reply.ok:
                failure = ("fail", f"wrong answer at {_describe_call(test, index)}: got {_show(reply.value, 80)}")
            else:
                failure = (_exception_status(reply.exc_type or ""),
                           f"{reply.exc_type} at {_describe_call(test, index)}: {reply.exc_msg[:120]}")
    if len(replies) < len(tests):
        status, error = _ending(report, len(replies), gone)
        if failure is None or gone:
            return outcome(status, passed, error if failure is None else f"{failure[1]}; then {error}")
    if failure is not None:
        return outcome(failure[0], passed, failure[1])
    return outcome("pass", passed, None)


def judge_asserts(judged: dict, report: dict) -> Outcome:
    """Turn the judge's report (and how the candidate ended) into an Outcome."""
    run, passed = int(judged.get("checks_run", 0)), int(judged.get("checks_passed", 0))

    def outcome(status: str, error: str | None) -> Outcome:
        return _from_report(report, status, run, passed, error)

    if report.get("output_exceeded"):
        return outcome("output_limit", _ending(report, run)[1])
    load = judged.get("load")
    if load is not None and load["status"] != "ready":
        return outcome(*_load_failure(load))
    failure = judged.get("failure")
    if failure is None and load is not None and run > 0 and passed == run:
        return outcome("pass", None)
    kind = (failure or {}).get("kind")
    error = (failure or {}).get("error", "no checks ran")
    if kind == "judge_error":  # the harness's or the test's own failure: say so, blame no candidate
        return outcome("error", f"judge: {error}")
    if kind == "judge_timeout":
        return outcome("timeout", error)
    if kind == "candidate_gone" or load is None:
        status, ending = _ending(report, run, (failure or {}).get("gone"))
        return outcome(status, ending if kind != "candidate_gone" else f"{error}; {ending}")
    if kind == "candidate_raised":
        exc_type = error.split(" ", 1)[0]
        return outcome(_exception_status(exc_type), error)
    if kind == "assertion":
        return outcome("fail", error)
    return outcome("error", error)

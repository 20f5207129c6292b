"""The judge: runs a benchmark's assert-style tests in a process that never loads candidate code.

The `candidate` handed to the tests is a proxy. Each call sends the arguments to the
candidate's process and receives plain values back (the return value and any in-place
changes to the arguments), so `assert candidate(x) == y` compares two plain values here.
"""

from __future__ import annotations

import builtins
import functools
import socket
import sys
import traceback
from typing import Any

from bombe.sandbox.channel import CandidateChannel, CandidateGone


_NOT_REBUILT = (StopIteration, StopAsyncIteration)


class CandidateRaised(Exception):
    """The candidate raised an exception that is not a builtin one."""


class CandidateProxy:
    def __init__(self, channel: CandidateChannel, name: str):
        self._channel = channel
        self.__name__ = name
        self.raised: str | None = None  # the type name of what the candidate last raised
        self.raised_here: BaseException | None = None  # the exception this proxy made of it

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        reply = self._channel.call(list(args), kwargs, want_args=True)
        if reply.ok:
            _copy_back(args, reply.args or [])
            return reply.value
        self.raised = reply.exc_type
        builtin = getattr(builtins, reply.exc_type or "", None)
        # StopIteration re-raised here would end the test's own map()/all() early, silently.
        if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin not in _NOT_REBUILT:
            self.raised_here = builtin(reply.exc_msg)  # a fresh, trusted instance of the builtin type
        else:
            self.raised_here = CandidateRaised(f"{reply.exc_type}: {reply.exc_msg}")
        raise self.raised_here


def _copy_back(originals: tuple, updated: list) -> None:
    """Apply the candidate's in-place changes to the judge's own argument objects."""
    if len(updated) != len(originals):
        return
    for original, new in zip(originals, updated):
        if type(original) is list and type(new) is list:
            original[:] = new
        elif type(original) is dict and type(new) is dict:
            original.clear()
            original.update(new)
        elif type(original) is set and type(new) is set:
            original.clear()
            original.update(new)


@functools.lru_cache(maxsize=4096)
def _compiled(source: str, filename: str):
    """Tests and prompts repeat across a task's samples: compile each once per judge."""
    return compile(source, filename, "exec")


def _failing_line(exc: BaseException, filename: str, source: str) -> str:
    lines = source.splitlines()
    for frame, lineno in reversed(list(traceback.walk_tb(exc.__traceback__))):
        if frame.f_code.co_filename == filename and 0 < lineno <= len(lines):
            return lines[lineno - 1].strip()[:200]
    return ""


def _describe_failure(exc: BaseException, proxy: CandidateProxy, where: str, line: str) -> dict:
    if isinstance(exc, CandidateGone):
        return {"kind": "candidate_gone", "gone": str(exc), "error": f"candidate stopped during {where}: {exc}"}
    if exc is proxy.raised_here:  # the candidate's exception, uncaught by the test
        kind, name = "candidate_raised", proxy.raised
    elif isinstance(exc, AssertionError):
        kind, name = "assertion", "AssertionError"
    else:
        kind, name = "test_error", type(exc).__name__
    text = f"{name} in {where}" + (f": {line}" if line else "")
    return {"kind": kind, "error": text}


def run_tests(channel: CandidateChannel, job: dict) -> dict:
    """Load the candidate through the channel, then run the task's tests against the proxy."""
    report = {"checks_run": 0, "checks_passed": 0, "failure": None}
    load = channel.load(job["code"], job["entry_point"], job.get("setup") or "")
    report["load"] = load
    if load["status"] != "ready":
        return report
    proxy = CandidateProxy(channel, job["entry_point"])
    namespace: dict[str, Any] = {"__name__": "__judge__", "__builtins__": builtins}
    for label, source in (("prompt", job.get("prelude")), ("setup", job.get("setup"))):
        if source:
            try:
                exec(_compiled(source, f"<{label}>"), namespace)
            except Exception:
                if label == "setup":
                    raise
    namespace[job["entry_point"]] = proxy
    namespace["candidate"] = proxy
    checks = job["checks"]
    for index, source in enumerate(checks):
        filename = f"<check {index + 1}>"
        report["checks_run"] += 1
        proxy.raised = proxy.raised_here = None
        try:
            exec(_compiled(source, filename), namespace)
            if job.get("call_check"):
                namespace["check"](proxy)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported, none is fatal
            if channel.gone and not isinstance(exc, CandidateGone):
                exc = CandidateGone(channel.gone)
            if report["failure"] is None:
                where = "check" if job.get("call_check") else f"check {index + 1}"
                report["failure"] = _describe_failure(exc, proxy, where, _failing_line(exc, filename, source))
            if isinstance(exc, CandidateGone):
                break
            continue
        if channel.gone:  # the test swallowed the candidate's death; it still failed
            report["failure"] = report["failure"] or _describe_failure(
                CandidateGone(channel.gone), proxy, f"check {index + 1}", "")
            break
        report["checks_passed"] += 1
    return report


def main(channel_sock: socket.socket, job: dict, deadline: float, max_bytes: int) -> dict:
    sys.setrecursionlimit(10_000)
    channel = CandidateChannel(channel_sock, max_bytes, deadline)
    try:
        return run_tests(channel, job)
    except CandidateGone as exc:
        return {"checks_run": 0, "checks_passed": 0, "load": None,
                "failure": {"kind": "candidate_gone", "gone": str(exc), "error": f"candidate stopped: {exc}"}}
    except BaseException as exc:  # noqa: BLE001 - a broken test file is the harness's error
        return {"checks_run": 0, "checks_passed": 0, "load": None,
                "failure": {"kind": "judge_error", "error": f"{type(exc).__name__} in test code: {exc}"[:300]}}

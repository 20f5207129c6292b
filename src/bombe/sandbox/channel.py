"""The trusted end of a candidate's channel: send calls, get plain values back.

Used by the parent for call/expected pairs and by the judge's proxy for assert-style
tests. Every reply is untrusted bytes; it is decoded into fresh builtin values or
refused as a protocol error, which counts against the candidate.
"""

from __future__ import annotations

import socket
from typing import Any, NamedTuple

from bombe.sandbox import codec, wire


class CandidateGone(BaseException):
    """The candidate stopped answering: it died, was killed, or broke the protocol.

    A BaseException, so test code's `except Exception` cannot mistake a dead candidate
    for the exception it expected; the channel also remembers it in `gone`.
    """


class Reply(NamedTuple):
    """One call's result as plain data: a value, or the name of what was raised.

    `seconds` is how long the reply took to arrive, by the receiver's clock (set by the
    parent for call/expected jobs; never a number the candidate reports).
    """

    ok: bool
    value: Any = None
    args: list | None = None
    exc_type: str | None = None
    exc_msg: str = ""
    seconds: float | None = None


def encode_calls(calls: list[tuple[list, dict]], want_args: bool = False) -> list[dict]:
    """The calls as the channel sends them; codec.EncodeError when an input is not plain data."""
    return [{"args": codec.to_wire(list(args)), "kwargs": codec.to_wire(dict(kwargs)), "want_args": want_args}
            for args, kwargs in calls]


class CandidateChannel:
    def __init__(self, sock: socket.socket, max_bytes: int, deadline: float):
        self.sock = sock
        self.reader = wire.FrameReader(sock, max_bytes)
        self.deadline = deadline
        self.gone: str | None = None

    def _lost(self, reason: str) -> CandidateGone:
        self.gone = self.gone or reason
        return CandidateGone(self.gone)

    def _recv(self, deadline: float | None = None) -> dict:
        """The next message, by `deadline` if given and earlier than the channel's own."""
        if self.gone:
            raise CandidateGone(self.gone)
        if deadline is None or deadline > self.deadline:
            deadline = self.deadline
        try:
            message = self.reader.read(deadline)
        except wire.ChannelTimeout:
            raise self._lost("timeout") from None
        except wire.ChannelClosed as exc:
            raise self._lost(str(exc)) from None
        if type(message) is not dict:
            raise self._lost("protocol violation: reply is not an object")
        return message

    def load(self, code: str, entry_point: str, setup: str = "") -> dict:
        """Send the program; return its load report: status ready, invalid or load_error."""
        try:
            wire.send_msg(self.sock, {"code": code, "entry_point": entry_point, "setup": setup})
        except OSError:
            # The candidate's end is gone before it got the program: its zygote died with
            # the channel still in flight. The caller's next zygote message finds that out.
            raise self._lost("channel closed") from None
        report = self._recv()
        if report.get("status") not in ("ready", "invalid", "load_error"):
            raise self._lost("protocol violation: bad load report")
        return {
            "status": report["status"],
            "exc": str(report.get("exc", ""))[:100],
            "msg": str(report.get("msg", ""))[:300],
        }

    def send_calls(self, calls: list[tuple[list, dict]], want_args: bool = False) -> None:
        self.send_encoded(encode_calls(calls, want_args))

    def send_encoded(self, request: list[dict]) -> None:
        """Send calls that `encode_calls` made ready."""
        try:
            wire.send_msg(self.sock, {"calls": request})
        except OSError:
            raise self._lost("channel closed") from None

    def next_reply(self, deadline: float | None = None) -> Reply:
        """The next call's reply; none by `deadline` (or the channel's deadline) is a timeout."""
        message = self._recv(deadline)
        try:
            if "ok" in message:
                args = codec.from_wire(message["args"]) if "args" in message else None
                if args is not None and type(args) is not list:
                    raise codec.DecodeError("arguments must come back as a list")
                return Reply(ok=True, value=codec.from_wire(message["ok"]), args=args)
            if "exc" in message:
                return Reply(ok=False, exc_type=str(message["exc"])[:100], exc_msg=str(message.get("msg", ""))[:300])
        except codec.DecodeError as exc:
            raise self._lost(f"protocol violation: {exc}") from None
        raise self._lost("protocol violation: reply has neither 'ok' nor 'exc'")

    def call(self, args: list, kwargs: dict, want_args: bool = False) -> Reply:
        self.send_calls([(args, kwargs)], want_args)
        return self.next_reply()


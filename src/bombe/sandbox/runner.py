"""The candidate side: runs inside the candidate's own process, and nothing here is trusted.

It loads the candidate's code once, then answers calls on its channel with plain data.
Whatever it sends is checked by the receiver; a candidate that tampers with this module
can only make its own answers wrong or malformed.
"""

from __future__ import annotations

import builtins
import socket
import sys
from typing import Any

from bombe.sandbox import codec, wire

CANDIDATE_MODULE = "__candidate__"


def _describe(exc: BaseException) -> dict:
    try:
        message = str(exc)[:300]
    except BaseException:  # a candidate's __str__ may itself raise
        message = ""
    return {"exc": type(exc).__name__, "msg": message}


def _load(source: str, entry_point: str, setup: str = "") -> tuple[dict, Any]:
    try:
        code = compile(source, "<candidate>", "exec")
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        return {"status": "invalid", **_describe(exc)}, None
    namespace: dict[str, Any] = {"__name__": CANDIDATE_MODULE, "__builtins__": builtins}
    module = type(sys)(CANDIDATE_MODULE)
    module.__dict__.update(namespace)
    sys.modules[CANDIDATE_MODULE] = module
    try:
        if setup:  # the task's own set-up code, run where the candidate can use what it defines
            exec(compile(setup, "<setup>", "exec"), module.__dict__)
        exec(code, module.__dict__)
    except BaseException as exc:
        return {"status": "load_error", **_describe(exc)}, None
    function = module.__dict__.get(entry_point)
    if not callable(function):
        return {"status": "load_error", "exc": "NameError", "msg": f"no function {entry_point!r}"}, None
    return {"status": "ready"}, function


def _call(function: Any, request: dict) -> dict:
    args = codec.from_wire(request.get("args", []))
    kwargs = codec.from_wire(request.get("kwargs", {"d": []}))
    try:
        value = function(*args, **kwargs)
    except BaseException as exc:
        return _describe(exc)
    try:
        reply = {"ok": codec.to_wire(value)}
        if request.get("want_args"):
            reply["args"] = codec.to_wire(args)
        return reply
    except (codec.EncodeError, RecursionError) as exc:
        return {"exc": "NotPlainData", "msg": str(exc)[:300]}


def serve(channel: socket.socket) -> None:
    """Load, report, then answer calls until the channel closes."""
    reader = wire.FrameReader(channel, 1 << 30)
    first = reader.read()
    report, function = _load(first["code"], first["entry_point"], first.get("setup") or "")
    wire.send_msg(channel, report)
    if function is None:
        return
    while True:
        try:
            request = reader.read()
        except wire.ChannelClosed:
            return
        for call in request["calls"]:
            wire.send_msg(channel, _call(function, call))

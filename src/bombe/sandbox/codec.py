"""The plain-data codec: the only shape in which values cross a trust boundary.

Only exact builtin types survive: int, float, bool, str, bytes, None, list, tuple,
dict, set, frozenset. A subclass (an `int` whose `__eq__` lies) is refused when
encoding, and decoding builds fresh builtin objects from JSON, so nothing a candidate
made can reach the side that decides. Never pickle, never marshal.

Wire form: JSON, where a JSON object is always a one-key tag:
  {"t": [...]} tuple, {"s": [...]} set, {"f": [...]} frozenset, {"b": "base64"} bytes,
  {"d": [[k, v], ...]} dict, {"i": "hex"} an int too large for plain JSON digits,
  {"u": [code points]} text holding surrogate pairs, which JSON would merge.
"""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

MAX_DEPTH = 100
_BIG_INT = 1 << 512
_TAGS = frozenset("tsfbdiu")
# JSON writes a high then a low surrogate as an escape pair that decodes to ONE character,
# so text holding such a pair travels as code points instead.
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


class EncodeError(Exception):
    """The value holds something that is not plain data."""


class DecodeError(Exception):
    """The bytes are not a well-formed plain-data message."""


def to_wire(value: Any, depth: int = 0) -> Any:
    """Turn a plain value into its JSON-able tagged form, refusing anything else."""
    if depth > MAX_DEPTH:
        raise EncodeError(f"nested deeper than {MAX_DEPTH}")
    kind = type(value)
    if kind is str and _SURROGATE_PAIR.search(value):
        return {"u": [ord(char) for char in value]}
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        if -_BIG_INT < value < _BIG_INT:
            return value
        return {"i": format(value, "x")}
    if kind is float:
        return value
    if kind is list:
        return [to_wire(item, depth + 1) for item in value]
    if kind is tuple:
        return {"t": [to_wire(item, depth + 1) for item in value]}
    if kind is set:
        return {"s": [to_wire(item, depth + 1) for item in value]}
    if kind is frozenset:
        return {"f": [to_wire(item, depth + 1) for item in value]}
    if kind is bytes:
        return {"b": base64.b64encode(value).decode("ascii")}
    if kind is dict:
        return {"d": [[to_wire(k, depth + 1), to_wire(v, depth + 1)] for k, v in value.items()]}
    raise EncodeError(f"{kind.__module__}.{kind.__qualname__} is not plain data")


def from_wire(wire: Any, depth: int = 0) -> Any:
    """Build fresh builtin values from the tagged form; malformed input is a DecodeError."""
    if depth > MAX_DEPTH:
        raise DecodeError(f"nested deeper than {MAX_DEPTH}")
    kind = type(wire)
    if wire is None or kind in (bool, str, int, float):
        return wire
    if kind is list:
        return [from_wire(item, depth + 1) for item in wire]
    if kind is not dict or len(wire) != 1:
        raise DecodeError("a tag object must have exactly one key")
    (tag, body), = wire.items()
    if tag not in _TAGS:
        raise DecodeError(f"unknown tag {tag!r}")
    try:
        if tag == "i":
            if type(body) is not str:  # int(hex, 16) is linear; the message size bounds it
                raise DecodeError("bad big int")
            return int(body, 16)
        if tag == "u":
            if type(body) is not list or not all(type(code) is int for code in body):
                raise DecodeError("bad text")
            return "".join(map(chr, body))
        if tag == "b":
            if type(body) is not str:
                raise DecodeError("bad bytes")
            return base64.b64decode(body, validate=True)
        if type(body) is not list:
            raise DecodeError(f"tag {tag!r} needs a list")
        if tag == "d":
            result = {}
            for pair in body:
                if type(pair) is not list or len(pair) != 2:
                    raise DecodeError("a dict entry must be a [key, value] pair")
                result[from_wire(pair[0], depth + 1)] = from_wire(pair[1], depth + 1)
            return result
        items = [from_wire(item, depth + 1) for item in body]
        if tag == "t":
            return tuple(items)
        if tag == "s":
            return set(items)
        return frozenset(items)
    except (TypeError, ValueError) as exc:  # unhashable keys, bad base64, bad hex
        raise DecodeError(str(exc)) from None


def dumps(value: Any) -> bytes:
    return json.dumps(to_wire(value), separators=(",", ":")).encode()


def loads(data: bytes, max_bytes: int | None = None) -> Any:
    if max_bytes is not None and len(data) > max_bytes:
        raise DecodeError(f"message of {len(data)} bytes exceeds {max_bytes}")
    try:
        wire = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"not JSON: {str(exc)[:80]}") from None
    return from_wire(wire)


def exactly_equal(got: Any, expected: Any) -> bool:
    """Equal values of identical types all the way down: (1,) is not [1], 1.0 is not 1."""
    if type(got) is not type(expected):
        return False
    if type(got) in (list, tuple):
        return len(got) == len(expected) and all(exactly_equal(g, e) for g, e in zip(got, expected))
    if type(got) is dict:
        typed_got = {(type(k), k): v for k, v in got.items()}
        typed_expected = {(type(k), k): v for k, v in expected.items()}
        return typed_got.keys() == typed_expected.keys() and all(
            exactly_equal(v, typed_expected[k]) for k, v in typed_got.items())
    if type(got) in (set, frozenset):
        return {(type(x), x) for x in got} == {(type(x), x) for x in expected}
    if type(got) is float and math.isnan(got):
        return math.isnan(expected)
    return got == expected


def values_match(
    got: Any, expected: Any, atol: float | None = None, rtol: float | None = None, exact: bool = False
) -> bool:
    """Trusted comparison of two plain values, floats within atol/rtol when given.

    JSON task files cannot spell a tuple, so a list and a tuple with equal items match;
    a bool never matches a number (True is not 1). With `exact`, types must match too.
    """
    if exact:
        return exactly_equal(got, expected)
    got_kind, expected_kind = type(got), type(expected)
    if got_kind is bool or expected_kind is bool:
        return got_kind is expected_kind and got == expected
    if got_kind in (int, float) and expected_kind in (int, float):
        if got_kind is float or expected_kind is float:
            try:
                if math.isnan(got) or math.isnan(expected):
                    return math.isnan(got) and math.isnan(expected)
                if atol is not None or rtol is not None:
                    return math.isclose(got, expected, rel_tol=rtol or 0.0, abs_tol=atol or 0.0)
            except OverflowError:  # an int beyond float range is close to no float
                return False
        return got == expected
    if got_kind in (list, tuple) and expected_kind in (list, tuple):
        return len(got) == len(expected) and all(
            values_match(g, e, atol, rtol) for g, e in zip(got, expected)
        )
    if got_kind is dict and expected_kind is dict:
        keys = {(type(k) is bool, k) for k in got}
        return keys == {(type(k) is bool, k) for k in expected} and all(
            values_match(got[k], expected[k], atol, rtol) for k in got
        )
    if got_kind in (set, frozenset) and expected_kind in (set, frozenset):
        return {(type(x) is bool, x) for x in got} == {(type(x) is bool, x) for x in expected}
    return got_kind is expected_kind and got == expected

"""Untrusted execution: the only place candidate code runs.

The names below load on first use, so the zygote (which imports `bombe.sandbox.zygote`)
stays small: every candidate is a fork of it, and a fork costs in proportion to its size.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "IsolationUnavailable": "bombe.sandbox.isolation",
    "available_levels": "bombe.sandbox.isolation",
    "Limits": "bombe.sandbox.limits",
    "Job": "bombe.sandbox.pool",
    "Sandbox": "bombe.sandbox.pool",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bombe.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)

"""Where bombe keeps what it fetches and computes: one root, `$BOMBE_CACHE` or ~/.cache/bombe."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("BOMBE_CACHE") or Path.home() / ".cache" / "bombe")

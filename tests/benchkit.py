"""Helpers for the benchmark tests."""

from __future__ import annotations

from pathlib import Path

# The shared data directory beside the repository, as CI lays it out.
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

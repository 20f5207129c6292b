"""What many test files share: the benchmark data directory and a sandbox."""

from __future__ import annotations

import pytest

from bombe.sandbox import Limits, Sandbox


@pytest.fixture(scope="module")
def sandbox():
    """Two workers, 10 s a sample; a test file with other needs defines its own."""
    with Sandbox(workers=2, limits=Limits(timeout=10)) as box:
        yield box

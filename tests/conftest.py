"""What many test files share: the benchmark data directory and a sandbox."""

from __future__ import annotations

import pytest

from bombe.sandbox import Limits, Sandbox


@pytest.fixture(scope="module")
def sandbox():
    """Two workers, 10 s a sample; a test file with other needs defines its own."""
    with Sandbox(workers=2, limits=Limits(timeout=10)) as box:
        yield box


@pytest.fixture(scope="session")
def smollm2_path():
    """SmolLM2-135M-Instruct, fetched through bombe's own local-model fetcher (cached after once)."""
    from bombe.models.local import local_model_path

    return local_model_path("smollm2-135m")


@pytest.fixture(scope="session")
def llama_server(smollm2_path, tmp_path_factory):
    """One real llama.cpp server for the session's model tests."""
    from bombe.models.llama_server import LlamaServer

    server = LlamaServer(smollm2_path, tmp_path_factory.mktemp("llama") / "server.log").start()
    yield server
    server.stop()

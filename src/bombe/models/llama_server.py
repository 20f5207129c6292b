"""Start a llama.cpp server (llama-cpp-python's) on loopback for a GGUF file.

The tests and perf scripts serve SmolLM2 with it; a user can serve any local model the same
way. The server logs one access line per request, which is how tests count what reached it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

MODEL_ALIAS = "smollm2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServer:
    """`python -m llama_cpp.server` as a child process, with its model served as `smollm2`-style alias."""

    def __init__(self, model_path: Path, log_path: Path, port: int | None = None, alias: str = MODEL_ALIAS,
                 threads: int = 2, n_ctx: int = 2048):
        self.model_path = model_path
        self.log_path = log_path
        self.port = port or free_port()
        self.alias = alias
        self.threads = threads
        self.n_ctx = n_ctx
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def spec(self) -> str:
        return f"openai:{self.alias}@{self.url}"

    def start(self, timeout: float = 60.0) -> LlamaServer:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path), "--model_alias", self.alias,
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
             "--n_threads", str(self.threads)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("llama.cpp server did not come up")

    def generation_requests(self) -> int:
        """Completion requests the server has answered so far (its access log lines)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return sum(1 for line in text.splitlines()
                   if '"POST /v1/chat/completions' in line or '"POST /v1/completions' in line)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

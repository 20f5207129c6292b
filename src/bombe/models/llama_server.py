"""Start a llama.cpp server on loopback for a GGUF file.

Two servers: llama-cpp-python's (`python -m llama_cpp.server`, the default), which the tests
use: it logs one access line per request, which is how they count what reached it; and
llama.cpp's own `llama-server` binary (`binary=`, built by `scripts/llama-server.sh`), which
decodes `parallel` requests together in one batch: on this machine's CPU, eight streams give
about 1.8 times the tokens per second of one.
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
    """A llama.cpp server as a child process, with its model served under `alias`.

    `n_ctx` is each request's context; `llama-server` gets `parallel` times as much in all,
    since it splits its context between its slots.
    """

    def __init__(self, model_path: Path, log_path: Path, port: int | None = None, alias: str = MODEL_ALIAS,
                 threads: int = 2, n_ctx: int = 2048, binary: Path | None = None, parallel: int = 1):
        self.model_path = model_path
        self.log_path = log_path
        self.port = port or free_port()
        self.alias = alias
        self.threads = threads
        self.n_ctx = n_ctx
        self.binary = binary
        self.parallel = parallel
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        if self.binary is None:
            return [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path), "--model_alias",
                    self.alias, "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
                    "--n_threads", str(self.threads)]
        return [str(self.binary), "--model", str(self.model_path), "--alias", self.alias, "--host", "127.0.0.1",
                "--port", str(self.port), "--ctx-size", str(self.n_ctx * self.parallel), "--parallel",
                str(self.parallel), "--threads", str(self.threads), "--threads-batch", str(self.threads),
                "--no-webui"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def spec(self) -> str:
        return f"openai:{self.alias}@{self.url}"

    def start(self, timeout: float = 60.0) -> LlamaServer:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
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

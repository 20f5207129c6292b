"""bombe against a real llama.cpp server with SmolLM2-135M: clients, cache, ledger and `bombe run`."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bombe.models.client import GenerationParams, ModelError, OpenAIModel
from bombe.models.prompts import Prompt
from bombe.models.spec import parse_model_spec

pytest.importorskip("llama_cpp")

TASKS = [
    {"task_id": f"toy/{i}", "prompt": f'def {name}(a, b):\n    """{doc}"""\n', "entry_point": name,
     "tests": [{"args": [2, 3], "expected": value}]}
    for i, (name, doc, value) in enumerate([
        ("add", "Return a + b.", 5), ("sub", "Return a - b.", -1), ("mul", "Return a * b.", 6),
        ("biggest", "Return the larger of a and b.", 3), ("smallest", "Return the smaller of a and b.", 2),
        ("power", "Return a to the power b.", 8),
    ])
]
FAST = ["--max-tokens", "48", "--workers", "1", "--timeout", "5"]


BOMBE = shutil.which("bombe", path=str(Path(sys.executable).parent)) or "bombe"


def bombe(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([BOMBE, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture()
def tasks_file(tmp_path) -> Path:
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in TASKS))
    return path


def client(server, **kwargs) -> OpenAIModel:
    return OpenAIModel(parse_model_spec(server.spec), **kwargs)


def ask(model: OpenAIModel, prompt: Prompt, n: int = 1, seed: int = 0, max_tokens: int = 24):
    async def go():
        try:
            return await model.generate(prompt, GenerationParams(temperature=0.8, max_tokens=max_tokens), n, seed)
        finally:
            await model.close()
    return asyncio.run(go())


def test_chat_and_completion_come_back_with_token_counts(llama_server):
    chat = ask(client(llama_server), Prompt("chat", messages=(("user", "Write a Python function add(a, b)."),)))
    completion = ask(client(llama_server), Prompt("completion", text="def add(a, b):\n"))
    for reply in (chat, completion):
        assert len(reply.texts) == 1 and reply.texts[0].strip()
        assert reply.prompt_tokens > 0 and 0 < reply.completion_tokens <= 24 and reply.latency_ms > 0


def test_n_samples_come_back_even_from_a_server_that_ignores_n(llama_server):
    before = llama_server.generation_requests()
    model = client(llama_server)
    reply = ask(model, Prompt("completion", text="# a random fruit:"), n=3, seed=7, max_tokens=8)
    assert len(reply.texts) == 3
    assert model.honours_n is False  # llama-cpp-python answers one choice; bombe asked for the rest
    assert llama_server.generation_requests() - before == 3


def test_concurrent_requests_all_complete(llama_server):
    model = client(llama_server, concurrency=4)

    async def go():
        prompts = [Prompt("completion", text=f"# number {i}:") for i in range(4)]
        try:
            return await asyncio.gather(*(model.generate(p, GenerationParams(max_tokens=6), 1, 0) for p in prompts))
        finally:
            await model.close()
    replies = asyncio.run(go())
    assert [len(r.texts) for r in replies] == [1, 1, 1, 1]


def test_unknown_model_and_down_server_are_one_clear_line(llama_server, tasks_file, tmp_path):
    with pytest.raises(ModelError, match="does not serve 'nosuch'.*smollm2"):
        asyncio.run(OpenAIModel(parse_model_spec(f"openai:nosuch@{llama_server.url}")).check())
    result = bombe("run", "--tasks", str(tasks_file), "--model", f"openai:nosuch@{llama_server.url}",
                   "--store", str(tmp_path / "s.db"), *FAST)
    assert result.returncode == 2 and "does not serve 'nosuch'" in result.stderr
    assert "Traceback" not in result.stderr
    from bombe.models.llama_server import free_port

    down = bombe("run", "--tasks", str(tasks_file), "--model", f"openai:smollm2@http://127.0.0.1:{free_port()}/v1",
                 "--retries", "1", "--store", str(tmp_path / "s2.db"), *FAST)
    assert down.returncode == 2 and "is not reachable" in down.stderr and "Traceback" not in down.stderr
    assert len(down.stderr.strip().splitlines()[-1]) < 400


def test_bombe_run_judges_and_a_rerun_is_served_from_the_cache(llama_server, tasks_file, tmp_path):
    store = tmp_path / "runs.db"
    samples = tmp_path / "samples.jsonl"
    before = llama_server.generation_requests()
    first = bombe("run", "--tasks", str(tasks_file), "--model", llama_server.spec, "-n", "2", "--temperature", "0.7",
                  "--run", "first", "--store", str(store), "--samples-out", str(samples),
                  "--summary", str(tmp_path / "sum.json"), *FAST)
    assert first.returncode == 0, first.stderr
    asked = llama_server.generation_requests() - before
    assert asked == 2 * len(TASKS)
    lines = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(lines) == 2 * len(TASKS) and all(set(s) == {"task_id", "solution"} for s in lines)
    summary = json.loads((tmp_path / "sum.json").read_text())
    assert summary["samples"] == 12 and summary["generation"]["completion_tokens"] > 0
    assert summary["generation"]["from_cache"] == 0

    # Another run asking the same: every completion comes from the cache, none reaches the server.
    second = bombe("run", "--tasks", str(tasks_file), "--model", llama_server.spec, "-n", "2", "--temperature", "0.7",
                   "--run", "second", "--store", str(store), "--summary", str(tmp_path / "sum2.json"), *FAST)
    assert second.returncode == 0, second.stderr
    assert llama_server.generation_requests() - before == asked
    again = json.loads((tmp_path / "sum2.json").read_text())
    assert again["generation"]["from_cache"] == 12 and again["passed"] == summary["passed"]

    shown = bombe("show", "first", "--store", str(store))
    assert shown.returncode == 0 and "tokens per solved task" in shown.stdout and "completion" in shown.stdout


def test_server_killed_mid_run_loses_nothing_and_resume_completes(smollm2_path, tasks_file, tmp_path):
    from bombe.models.llama_server import LlamaServer

    server = LlamaServer(smollm2_path, tmp_path / "server.log").start()
    store = tmp_path / "runs.db"
    args = ["run", "--tasks", str(tasks_file), "--model", server.spec, "-n", "2", "--temperature", "0.7",
            "--max-tokens", "96", "--concurrency", "1", "--retries", "1", "--workers", "1", "--run", "killed",
            "--store", str(store)]
    process = subprocess.Popen([BOMBE, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while server.generation_requests() < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop()
        _, stderr = process.communicate(timeout=120)
    finally:
        server.stop()
        process.kill()
    assert process.returncode == 2, stderr
    assert "is not reachable" in stderr and "--run killed" in stderr and "Traceback" not in stderr
    with sqlite3.connect(store) as db:
        kept = db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        judged = db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0]
    assert 2 <= kept < 2 * len(TASKS) and judged == kept  # what was generated was judged before exiting

    restarted = LlamaServer(smollm2_path, tmp_path / "server2.log", port=server.port).start()
    try:
        resumed = bombe(*args)
        assert resumed.returncode == 0, resumed.stderr
        assert f"{kept} of {2 * len(TASKS)} samples exist" in resumed.stderr
        assert restarted.generation_requests() == 2 * len(TASKS) - kept  # nothing asked twice
    finally:
        restarted.stop()
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0] == 2 * len(TASKS)
        assert db.execute("SELECT COUNT(*) FROM ledger").fetchone()[0] == 2 * len(TASKS)


def test_in_process_gguf_model(smollm2_path, tasks_file, tmp_path):
    result = bombe("run", "--tasks", str(tasks_file), "--model", f"gguf:{smollm2_path}", "--limit", "2",
                   "--store", str(tmp_path / "s.db"), "--summary", str(tmp_path / "sum.json"), *FAST)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "sum.json").read_text())
    assert summary["samples"] == 2 and summary["generation"]["completion_tokens"] > 0


@pytest.mark.slow
def test_llama_cpp_own_server_answers_requests_in_parallel_slots(smollm2_path, tmp_path):
    """llama.cpp's `llama-server` (built by scripts/llama-server.sh; slow: it compiles llama.cpp
    once) serves the same client, and its slots decode concurrent requests together."""
    from bombe.models.llama_server import LlamaServer

    root = Path(__file__).resolve().parent.parent
    built = subprocess.run(["bash", str(root / "scripts/llama-server.sh"), sys.executable], capture_output=True,
                           text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-2000:]
    binary = Path(built.stdout.strip())
    with LlamaServer(smollm2_path, tmp_path / "server.log", binary=binary, parallel=2, n_ctx=1024) as server:
        model = client(server, concurrency=2)
        prompts = [Prompt("chat", messages=(("user", f"Write a Python function that returns {i}."),))
                   for i in range(2)]

        async def both():
            try:
                return await asyncio.gather(*(model.generate(p, GenerationParams(temperature=0.0, max_tokens=16), 1, 0)
                                              for p in prompts))
            finally:
                await model.close()
        replies = asyncio.run(both())
        assert [len(r.texts) for r in replies] == [1, 1]
        assert all(r.completion_tokens > 0 and r.prompt_tokens > 0 for r in replies)
        slots = json.loads(urllib.request.urlopen(server.url.removesuffix("/v1") + "/slots", timeout=5).read())
        assert len(slots) == 2

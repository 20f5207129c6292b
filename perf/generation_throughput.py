"""Generation throughput: `bombe run` against a local llama.cpp server, versus a plain loop.

The peer is the simplest thing a user would write: a sequential loop over the `openai`
client asking the same server for the same samples (same prompts, model, max tokens,
temperature). bombe is run as a user runs it (`bombe run`, a fresh store each round so the
cache never helps), once with one request in flight and once with several; bombe's time
includes judging every sample in the sandbox, the loop's does not judge at all.
Sides alternate for --rounds rounds; medians are printed with min-max and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOMBE = shutil.which("bombe", path=str(Path(sys.executable).parent)) or "bombe"


def plain_loop(url: str, alias: str, tasks, n: int, max_tokens: int, temperature: float, seed: int) -> dict:
    import openai

    from bombe.models.prompts import Templates, build_prompt

    client = openai.OpenAI(base_url=url, api_key="not-needed")
    templates = Templates.load()
    tokens = samples = 0
    started = time.perf_counter()
    for task in tasks:
        messages = build_prompt(task, "chat", templates).openai_messages()
        for i in range(n):
            reply = client.chat.completions.create(model=alias, messages=messages, max_tokens=max_tokens,
                                                   temperature=temperature, seed=seed + i)
            tokens += reply.usage.completion_tokens
            samples += 1
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "tokens": tokens, "samples": samples}


def bombe_run(spec: str, tasks_path: Path, n: int, max_tokens: int, temperature: float, seed: int,
              concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        summary_path = Path(scratch) / "summary.json"
        started = time.perf_counter()
        done = subprocess.run(
            [BOMBE, "run", "--tasks", str(tasks_path), "--model", spec, "-n", str(n), "--max-tokens", str(max_tokens),
             "--temperature", str(temperature), "--seed", str(seed), "--concurrency", str(concurrency),
             "--store", str(Path(scratch) / "s.db"), "--summary", str(summary_path)],
            capture_output=True, text=True, stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"bombe run failed: {done.stderr[-2000:]}")
        summary = json.loads(summary_path.read_text())
    return {"seconds": seconds, "tokens": summary["generation"]["completion_tokens"], "samples": summary["samples"],
            "passed": summary["passed"]}


def rates(runs: list[dict]) -> dict:
    tps = [r["tokens"] / r["seconds"] for r in runs]
    sps = [r["samples"] / r["seconds"] for r in runs]
    return {"tokens_per_s": statistics.median(tps), "tokens_per_s_range": [min(tps), max(tps)],
            "samples_per_s": statistics.median(sps), "samples_per_s_range": [min(sps), max(sps)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", help="a local model name bombe can fetch")
    parser.add_argument("--tasks", type=int, default=12, help="the first N HumanEval tasks")
    parser.add_argument("-n", type=int, default=2, help="samples per task")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight for the concurrent side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from bombe.benchmarks import load_benchmark
    from bombe.models.llama_server import LlamaServer
    from bombe.models.local import local_model_path

    tasks = load_benchmark("humaneval", None)[: args.tasks]
    print(f"cpus {os.cpu_count()}, load average at start {os.getloadavg()[0]:.2f}; model {args.model}, "
          f"{len(tasks)} HumanEval tasks x {args.n} samples, max_tokens {args.max_tokens}, "
          f"temperature {args.temperature}")
    with tempfile.TemporaryDirectory() as scratch:
        tasks_path = Path(scratch) / "tasks.jsonl"
        tasks_path.write_text("".join(t.model_dump_json(exclude_none=True) + "\n" for t in tasks))
        server = LlamaServer(local_model_path(args.model), Path(scratch) / "server.log", alias=args.model,
                             threads=os.cpu_count() or 2)
        sides: dict[str, list[dict]] = {"plain openai loop": [], "bombe run, concurrency 1": [],
                                        f"bombe run, concurrency {args.concurrency}": []}
        with server:
            for round_number in range(args.rounds):
                seed = 1000 * (round_number + 1)  # a new seed each round: no side replays another's text
                sides["plain openai loop"].append(
                    plain_loop(server.url, args.model, tasks, args.n, args.max_tokens, args.temperature, seed))
                sides["bombe run, concurrency 1"].append(
                    bombe_run(server.spec, tasks_path, args.n, args.max_tokens, args.temperature, seed, 1))
                sides[f"bombe run, concurrency {args.concurrency}"].append(
                    bombe_run(server.spec, tasks_path, args.n, args.max_tokens, args.temperature, seed,
                              args.concurrency))
                print(f"round {round_number + 1}: " + "; ".join(
                    f"{name} {runs[-1]['tokens'] / runs[-1]['seconds']:.1f} tok/s" for name, runs in sides.items()))
    results = {name: rates(runs) for name, runs in sides.items()}
    peer = results["plain openai loop"]
    for name, r in results.items():
        print(f"{name:32s} {r['tokens_per_s']:7.1f} tokens/s ({r['tokens_per_s_range'][0]:.1f}-"
              f"{r['tokens_per_s_range'][1]:.1f})  {r['samples_per_s']:.3f} samples/s  "
              f"ratio to the plain loop: {r['tokens_per_s'] / peer['tokens_per_s']:.2f}x tokens/s, "
              f"{r['samples_per_s'] / peer['samples_per_s']:.2f}x samples/s")
    print("note: llama-cpp-python's server decodes one request at a time (no parallel slots), so concurrency "
          "only overlaps HTTP, prompt handling and judging; a vLLM or llama-server with slots batches them")
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"settings": vars(args) | {"json": str(args.json)}, "results": results},
                                        indent=2))


if __name__ == "__main__":
    main()

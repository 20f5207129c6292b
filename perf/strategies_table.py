"""The strategies table: greedy, sample, filter-cluster, repair, plansearch and consensus at one
equal per-task budget, on the fixed 40-task subset of HumanEval+, judged on the hidden checks.

Each strategy is one `bombe solve` run in one store (resumable: rerun the same command and it
goes on where it stopped, every earlier completion from the cache). Then `bombe compare` writes
the numbers (JSON) and the solve-rate-versus-tokens curve (PNG), and this script prints the
table, with each strategy's gain over greedy in points.

    python perf/strategies_table.py                       # the issue's table (hours on 2 CPU cores)
    python perf/strategies_table.py --model openai:smollm2@http://127.0.0.1:8080/v1 --limit 2 \\
        --budget-tokens 1500 --max-tokens 64 --prefix smoke   # a quick check of the script

The budget defaults to about 10 samples' worth of tokens per task for qwen2.5-coder-0.5b on
HumanEval+ with bombe's chat prompt: measured on the subset's first tasks, a greedy sample
costs 146-185 prompt and 140-202 completion tokens, about 340 in all, so 3500 per task.
At about 20 completion tokens per second on this machine's 2 cores, the six runs take hours;
sample and filter-cluster ask mostly the very same requests, so the second is mostly served
from the cache (as are greedy's and repair's first completions).
Every strategy's own limits are set high, so that the budget, the same for all, is what binds.

`--llama-server BIN` serves the local model with llama.cpp's own server (build it with
`scripts/llama-server.sh`) on a fixed port, with `--parallel` slots, and solves that many tasks
at once: its slots decode together, 1.8 times the tokens per second of one stream on this
machine. Budgets are per task, so they are the same either way.

    python perf/strategies_table.py --llama-server "$(bash scripts/llama-server.sh)" --parallel 8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOMBE = shutil.which("bombe", path=str(Path(sys.executable).parent)) or "bombe"
SUBSET = ROOT / "src/bombe/strategies/subsets/humaneval_plus_40.txt"
STRATEGIES = ["greedy", "sample", "filter-cluster", "repair", "plansearch", "consensus"]
# Limits above what the budget allows, so each strategy spends up to the same budget.
OPTIONS = {
    "greedy": [],
    "sample": ["n=40", "stop_after=0"],
    "filter-cluster": ["n=40", "mutants=30"],
    "repair": ["n=1", "rounds=20", "width=1"],
    "plansearch": ["observations=5", "plans=15"],
    "consensus": ["helpers=3", "alternatives=4", "root_samples=10"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="local:qwen2.5-coder-0.5b")
    parser.add_argument("--benchmark", default="humaneval+")
    parser.add_argument("--tasks-list", default=str(SUBSET))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--budget-tokens", type=int, default=3500, help="per task, prompt + completion")
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--store", default=str(ROOT / "perf/strategies.db"))
    parser.add_argument("--prefix", default="table", help="run names are PREFIX-STRATEGY")
    parser.add_argument("--out", default=str(ROOT / "perf/strategies"), help="writes OUT.json and OUT.png")
    parser.add_argument("--extra", default="", help="more `bombe solve` arguments, space separated")
    parser.add_argument("--llama-server", type=Path, default=None, metavar="BIN",
                        help="serve the local: model with this llama.cpp llama-server binary")
    parser.add_argument("--parallel", type=int, default=8, help="llama-server slots and tasks solved at once")
    parser.add_argument("--port", type=int, default=8765,
                        help="llama-server port: fixed, since the completion cache keys on the server's URL")
    args = parser.parse_args()
    if args.llama_server is None:
        table(args, args.model, [])
        return
    from bombe.models.llama_server import LlamaServer
    from bombe.models.local import local_model_path
    from bombe.models.spec import parse_model_spec

    spec = parse_model_spec(args.model)
    if spec.kind != "local":
        sys.exit("--llama-server serves a local: model")
    log = Path(args.store).with_suffix(".server.log")
    with LlamaServer(local_model_path(spec.name), log, port=args.port, alias=spec.name, threads=os.cpu_count() or 2,
                     n_ctx=4096, binary=args.llama_server, parallel=args.parallel) as server:
        table(args, server.spec, ["--concurrency", str(args.parallel), "--parallel-tasks", str(args.parallel)])


def table(args: argparse.Namespace, model: str, serving: list[str]) -> None:
    """Run each strategy with `bombe solve` against `model`, then print the comparison."""
    strategies = [s for s in args.strategies.split(",") if s]
    runs, seconds = [], {}
    for strategy in strategies:
        run = f"{args.prefix}-{strategy}"
        command = [BOMBE, "solve", "--benchmark", args.benchmark, "--model", model, "--strategy", strategy,
                   "--budget-tokens", str(args.budget_tokens), "--max-tokens", str(args.max_tokens),
                   "--run", run, "--store", args.store]
        if args.tasks_list:
            command += ["--tasks-list", args.tasks_list]
        if args.limit:
            command += ["--limit", str(args.limit)]
        for option in OPTIONS.get(strategy, []):
            command += ["--option", option]
        command += serving + args.extra.split()
        print(f"== {strategy}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = subprocess.run(command, stdin=subprocess.DEVNULL)
        seconds[strategy] = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"bombe solve failed for {strategy} (exit {result.returncode}); rerun to resume")
        runs.append(run)

    out = Path(args.out)
    compare = subprocess.run([BOMBE, "compare", *runs, "--store", args.store, "--json", str(out.with_suffix(".json")),
                              "--plot", str(out.with_suffix(".png"))], capture_output=True, text=True)
    if compare.returncode != 0:
        sys.exit(compare.stderr)
    rows = json.loads(out.with_suffix(".json").read_text())
    greedy = next((r for r in rows if r["strategy"] == "greedy"), None)
    print(f"\n{args.benchmark}, {rows[0]['tasks']} tasks ({Path(args.tasks_list).name if args.tasks_list else 'all'}"
          f"{f', first {args.limit}' if args.limit else ''}), model {model}, "
          f"budget {args.budget_tokens} tokens per task\n")
    print("| strategy | solved | solve rate | vs greedy | tokens per task | tokens per solved task | "
          "executions per task | wall (this run) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        rate = row["solve_rate"] or 0.0
        delta = "" if greedy is None or row is greedy else f"{100 * (rate - (greedy['solve_rate'] or 0)):+.1f}"
        per_solved = row["tokens_per_solved_task"]
        executions = "n/a" if row["executions"] is None else f"{row['executions'] / max(1, row['done']):.1f}"
        print(f"| {row['strategy']} | {row['solved']}/{row['done']} | {100 * rate:.1f}% | {delta} | "
              f"{row['tokens_per_task']:.0f} | {'n/a' if per_solved is None else f'{per_solved:.0f}'} | "
              f"{executions} | "
              f"{seconds.get(row['strategy'], 0):.0f} s |")
    print(f"\nnumbers: {out.with_suffix('.json')}   curve: {out.with_suffix('.png')}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: every finished task is in the store; rerun the same command to resume")

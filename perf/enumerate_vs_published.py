"""bombe's enumerative synthesizer against the published PBE searchers, one core, per-task timeout.

    .venv/bin/python perf/enumerate_vs_published.py --suite lambdabeam-handwritten --timeout 10
    .venv/bin/python perf/enumerate_vs_published.py --suite all --out /tmp/pbe.jsonl

Runs `bombe.enumerate.synthesize` on every task's visible examples in this one process, judges
the program on the held-out examples (in-process: it is our own generated code), and prints per
suite: solved, passing held-out, next to the published methods' per-task results
(`baselines_per_task.json`: expected solved count = sum over tasks of solved_runs / runs).
Per-task results are appended to the JSONL file as they come, so a long run can be inspected.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bombe.enumerate import synthesize

SUITES = ["lambdabeam-handwritten", "lambdabeam-synthetic", "bustle-new", "bustle-sygus", "sygus", "dreamcoder"]
# evaluation-only suites: never tune the DSL or search to them
EVAL_ONLY = {"sygus", "dreamcoder"}


def data_dir() -> Path:
    for cand in (os.environ.get("BOMBE_DATA"), "/work/shared/data"):
        if cand and (Path(cand) / "pbe").is_dir():
            return Path(cand)
    sys.exit("no data directory: set BOMBE_DATA to the folder holding pbe/")


def load(suite: str) -> list[dict]:
    """Tasks as {name, arg_names, visible, hidden} from bombe.benchmarks.pbe."""
    from bombe.benchmarks import pbe
    loader = {
        "lambdabeam-handwritten": pbe.load_lambdabeam_handwritten,
        "lambdabeam-synthetic": pbe.load_lambdabeam_synthetic,
        "bustle-new": pbe.load_bustle_new,
        "bustle-sygus": pbe.load_bustle_sygus,
        "sygus": pbe.load_sygus,
        "dreamcoder": pbe.load_dreamcoder,
    }[suite]
    out = []
    for t in loader(data_dir()):
        visible = [(c.args, c.expected) for c in t.tests]
        hidden = [(c.args, c.expected) for c in (t.hidden_tests or [])]
        out.append({"name": t.task_id.split("/", 1)[1], "arg_names": t.arg_names, "entry_point": t.entry_point,
                    "visible": visible, "hidden": hidden})
    return out


def baselines(suite: str) -> dict[str, float]:
    """Expected number solved per published method (mean over runs)."""
    root = data_dir() / "pbe"
    if suite.startswith("lambdabeam"):
        split = suite.split("-")[1]
        tasks = json.loads((root / "lambdabeam/lambdabeam_tasks_200.json").read_text())
        names = {t["name"] for t in tasks if t["split"] == split}
        rows = [r for r in json.loads((root / "lambdabeam/baselines_per_task.json").read_text())["tasks"]
                if r["name"] in names]
    elif suite.startswith("bustle"):
        key = {"bustle-new": "new_38", "bustle-sygus": "sygus_89"}[suite]
        rows = json.loads((root / "bustle/baselines_per_task.json").read_text())[key]
    else:
        return {}
    totals: dict[str, float] = {}
    for row in rows:
        for method, res in row.items():
            if isinstance(res, dict) and res.get("runs"):
                totals[method] = totals.get(method, 0.0) + res["solved_runs"] / res["runs"]
    return totals


def same(a: Any, b: Any) -> bool:
    """Equal with types: True is not 1, a tuple is not a list."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def judge(program: str, entry_point: str, pairs: list[tuple[list, Any]]) -> bool:
    scope: dict[str, Any] = {}
    try:
        exec(compile(program, "<synth>", "exec"), scope)  # noqa: S102 - our own generated code
        fn = scope[entry_point]
        return all(same(fn(*json.loads(json.dumps(args))), out) for args, out in pairs)
    except Exception:  # noqa: BLE001 - a failing program or operator is just no value
        return False


def run_suite(suite: str, timeout: float, limit: int | None, only: str | None, out_file: Any) -> dict:
    tasks = load(suite)
    if only:
        tasks = [t for t in tasks if only in t["name"]]
    if limit:
        tasks = tasks[:limit]
    solved = hidden_ok = 0
    t0 = time.perf_counter()
    for k, t in enumerate(tasks):
        s = synthesize(t["visible"], arg_names=t["arg_names"], entry_point=t["entry_point"], timeout=timeout)
        ok = s.status == "solved"
        hid = ok and judge(s.program, t["entry_point"], t["hidden"] or t["visible"])
        solved += ok
        hidden_ok += hid
        row = {"suite": suite, "task_id": t["name"], "status": s.status, "expression": s.expression,
               "hidden_passed": hid, "seconds": round(s.seconds, 3), "size": s.size, "program": s.program}
        if out_file:
            out_file.write(json.dumps(row) + "\n")
            out_file.flush()
        print(f"[{suite} {k + 1}/{len(tasks)}] {t['name']:<45} {s.status:<9} {s.seconds:6.2f}s "
              f"{'hidden-ok' if hid else '':<9} {s.expression or ''}"[:220], flush=True)
    return {"suite": suite, "tasks": len(tasks), "solved": solved, "hidden": hidden_ok,
            "seconds": time.perf_counter() - t0, "baselines": baselines(suite)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", default="all", help="|".join(SUITES) + "|all (all = the tuning suites only)")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--only", default=None, help="only tasks whose name contains this")
    ap.add_argument("--out", default="perf_enumerate.jsonl", help="per-task JSONL (appended)")
    args = ap.parse_args()
    suites = [s for s in SUITES if s not in EVAL_ONLY] if args.suite == "all" else args.suite.split(",")
    results = []
    with open(args.out, "a") as fh:
        for suite in suites:
            results.append(run_suite(suite, args.timeout, args.limit, args.only, fh))
    print(f"\nbombe enumerate, {args.timeout:g} s per task, one process")
    print(f"{'suite':<24}{'tasks':>6}{'solved':>8}{'hidden':>8}{'time s':>9}   published (expected solved)")
    for r in results:
        pub = ", ".join(f"{m} {v:.1f}" for m, v in sorted(r["baselines"].items()))
        print(f"{r['suite']:<24}{r['tasks']:>6}{r['solved']:>8}{r['hidden']:>8}{r['seconds']:>9.0f}   {pub}")


if __name__ == "__main__":
    main()

"""Running a strategy over tasks: build each task's visible view and budget, run the strategy,
judge its submissions on the task's full checks, and record everything in the store.

Per task, in order: the strategy's model calls go to the cache and the ledger as they happen;
then its submissions are judged and committed with a `solves` record (what it spent, how long
it took, its notes). A task with a `solves` record is done: a rerun of the run skips it, and a
task cut off halfway is redone from its start, its model calls answered by the cache.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from bombe.models.cache import CompletionCache, Ledger, Prices
from bombe.models.client import Model, ModelError
from bombe.models.prompts import Mode, Prompt, Templates
from bombe.sandbox import Job, Limits, Sandbox
from bombe.store import Run, Store, _now
from bombe.strategies.base import Context, Solution, Strategy
from bombe.strategies.budget import Budget, BudgetTracker
from bombe.strategies.runtime import Executor, ModelAccess
from bombe.strategies.visible import visible_task
from bombe.task import Result, Task

LEDGER_STRIDE = 100_000  # ledger positions of task i: [i * stride, (i + 1) * stride)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS solves (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    position INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    solved INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    executions INTEGER NOT NULL,
    seconds REAL NOT NULL,
    body TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
"""


def ensure_schema(store: Store) -> None:
    store.db.executescript(_SCHEMA)


def solved_records(store: Store, run: Run) -> dict[int, dict]:
    ensure_schema(store)
    rows = store.db.execute("SELECT position, body FROM solves WHERE run_id = ? ORDER BY position", (run.id,))
    return {row["position"]: json.loads(row["body"]) for row in rows}


@dataclass
class SolveSettings:
    strategy: Strategy
    budget: Budget
    mode: Mode
    templates: Templates
    k: int = 1
    seed: int = 0
    max_tokens: int = 512
    temperature: float = 0.8
    exec_limits: Limits = field(default_factory=lambda: Limits(timeout=5.0))
    call_seconds: float = 1.0
    prices: Prices = field(default_factory=Prices)

    def as_dict(self) -> dict:
        return {"strategy": self.strategy.name, "options": self.strategy.options(), "budget": self.budget.as_dict(),
                "mode": self.mode, "k": self.k, "seed": self.seed, "max_tokens": self.max_tokens,
                "temperature": self.temperature, "exec_limits": self.exec_limits.to_dict(),
                "call_seconds": self.call_seconds}


async def run_strategy(task: Task, settings: SolveSettings, model: Model, sandbox: Sandbox,
                       cache: CompletionCache | None = None, ledger: Ledger | None = None, position: int = 0,
                       on_prompt: Callable[[Prompt], None] | None = None) -> tuple[Solution, BudgetTracker]:
    """Run the strategy on the visible part of `task` within the budget; the task itself stays here."""
    visible = visible_task(task)
    tracker = BudgetTracker(settings.budget, settings.prices)
    access = ModelAccess(model, tracker, cache, ledger, visible.task_id, position * LEDGER_STRIDE, settings.seed,
                         on_prompt=on_prompt)
    executor = Executor(sandbox, tracker, visible, settings.exec_limits, settings.call_seconds)
    ctx = Context(visible, access, executor, tracker, settings.mode, settings.templates, settings.k, settings.seed,
                  settings.max_tokens, settings.temperature)
    try:
        solution = await settings.strategy.solve(ctx)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - one task's strategy bug is recorded, the run goes on
        solution = Solution([], {"error": f"{type(exc).__name__}: {exc}",
                                 "traceback": traceback.format_exc(limit=6)[-2000:]})
    solution.submissions = [s for s in solution.submissions if s and s.strip()][: settings.k]
    return solution, tracker


def judge(task: Task, submissions: list[str], sandbox: Sandbox) -> list[Result]:
    """The submissions' verdicts on the task's full checks (the hidden ones included)."""
    jobs = [Job.for_task(task, program, sandbox.limits) for program in submissions]
    return [outcome.result(task.task_id, j) for j, outcome in enumerate(sandbox.run_all(jobs))]


async def solve_and_record(task: Task, position: int, settings: SolveSettings, model: Model, sandbox: Sandbox,
                           store: Store, run: Run, cache: CompletionCache, ledger: Ledger,
                           on_prompt: Callable[[Prompt], None] | None = None) -> dict:
    """Solve one task, judge it, and commit its samples, outcomes and solve record."""
    ensure_schema(store)
    # A task redone after an interruption: its old ledger rows would be counted twice.
    store.db.execute("DELETE FROM ledger WHERE run_id = ? AND position >= ? AND position < ?",
                     (run.id, position * LEDGER_STRIDE, (position + 1) * LEDGER_STRIDE))
    started = time.monotonic()
    solution, tracker = await run_strategy(task, settings, model, sandbox, cache, ledger, position, on_prompt)
    strategy_seconds = time.monotonic() - started
    results = await asyncio.to_thread(judge, task, solution.submissions, sandbox)
    k = settings.k
    for j, (program, result) in enumerate(zip(solution.submissions, results)):
        store.add_sample(run, position * k + j, task.task_id, j, program)
        store.record(run, position * k + j, result)
    spent = tracker.summary()
    record = {
        "task_id": task.task_id, "solved": any(r.passed for r in results), "submissions": len(results),
        "statuses": [r.status for r in results], "errors": [r.error for r in results],
        "spent": spent, "strategy_seconds": round(strategy_seconds, 3),
        "judge_seconds": round(time.monotonic() - started - strategy_seconds, 3),
        "visible_checks": _visible_count(task),
        "notes": solution.notes,
    }
    store.db.execute(
        """INSERT OR REPLACE INTO solves (run_id, position, task_id, solved, tokens, executions, seconds, body, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (run.id, position, task.task_id, int(record["solved"]), spent["tokens"], spent["executions"],
         record["strategy_seconds"], json.dumps(record, sort_keys=True, default=str), _now()))
    return record


def _visible_count(task: Task) -> int:
    view = visible_task(task)
    return len(view.calls) + len(view.asserts)


def run_stats(store: Store, run: Run) -> dict:
    """Solve rate and spending of a run: a `bombe solve` run from its solve records, any other
    run with a model (`bombe run`) from its ledger and outcomes."""
    ensure_schema(store)
    task_ids = [row[0] for row in store.db.execute(
        "SELECT task_id FROM tasks WHERE run_id = ? ORDER BY position", (run.id,))]
    solves = store.db.execute("SELECT task_id, solved, tokens, executions, seconds FROM solves WHERE run_id = ?",
                              (run.id,)).fetchall()
    per_task: dict[str, dict] = {}
    if solves:
        for row in solves:
            per_task[row["task_id"]] = {"solved": bool(row["solved"]), "tokens": row["tokens"],
                                        "executions": row["executions"], "seconds": row["seconds"]}
    else:
        tokens = dict(store.db.execute(
            "SELECT task_id, SUM(prompt_tokens + completion_tokens) FROM ledger WHERE run_id = ? GROUP BY task_id",
            (run.id,)).fetchall())
        passed = dict(store.db.execute(
            "SELECT task_id, MAX(passed) FROM outcomes WHERE run_id = ? GROUP BY task_id", (run.id,)).fetchall())
        for task_id in task_ids:
            if task_id in passed:
                per_task[task_id] = {"solved": bool(passed[task_id]), "tokens": int(tokens.get(task_id) or 0),
                                     "executions": None, "seconds": None}
    done = len(per_task)
    solved = sum(1 for t in per_task.values() if t["solved"])
    total_tokens = sum(t["tokens"] for t in per_task.values())
    executions = [t["executions"] for t in per_task.values() if t["executions"] is not None]
    seconds = [t["seconds"] for t in per_task.values() if t["seconds"] is not None]
    settings = run.settings
    return {
        "run": run.name, "strategy": settings.get("strategy", "sampling (bombe run)"),
        "model": settings.get("model"), "budget": settings.get("budget"),
        "tasks": len(task_ids), "done": done, "solved": solved,
        "solve_rate": solved / done if done else None,
        "tokens": total_tokens, "tokens_per_task": total_tokens / done if done else None,
        "tokens_per_solved_task": total_tokens / solved if solved else None,
        "executions": sum(executions) if executions else None,
        "seconds": round(sum(seconds), 1) if seconds else None,
        "per_task": per_task,
    }

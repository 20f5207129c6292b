"""The completion cache and the ledger, both tables of the run store.

A completion is keyed by model, prompt mode, parameters, prompt and sample index, so asking
the same thing twice never reaches the model twice: reruns are reproducible even when the
server is not. The ledger says what each run spent, sample by sample.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from bombe.models.client import GenerationParams, Model, Reply
from bombe.models.prompts import Prompt
from bombe.store import Run, Store, _now


def completion_key(model: str, prompt: Prompt, params: GenerationParams, sample_index: int) -> str:
    material = json.dumps([model, prompt.mode, params.as_key(), prompt.as_key(), sample_index], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class CachedCompletion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    finish_reason: str | None


@dataclass(frozen=True)
class Prices:
    """Dollars per million tokens, when the user gives them."""

    prompt: float | None = None
    completion: float | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if self.prompt is None and self.completion is None:
            return None
        return (prompt_tokens * (self.prompt or 0.0) + completion_tokens * (self.completion or 0.0)) / 1e6


class CompletionCache:
    def __init__(self, store: Store):
        self.db = store.db
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> CachedCompletion | None:
        row = self.db.execute(
            "SELECT text, prompt_tokens, completion_tokens, latency_ms, finish_reason FROM completions WHERE key = ?",
            (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return CachedCompletion(*row)

    def put(self, key: str, model: str, completion: CachedCompletion) -> None:
        self.db.execute(
            """INSERT OR REPLACE INTO completions (key, model, text, prompt_tokens, completion_tokens, latency_ms,
                                                   finish_reason, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (key, model, completion.text, completion.prompt_tokens, completion.completion_tokens,
             completion.latency_ms, completion.finish_reason, _now()))


def split_usage(reply: Reply, count: int) -> list[CachedCompletion]:
    """Per-sample shares of one request's usage (exact when the server answered one by one)."""
    if len(reply.texts) < count:
        raise RuntimeError(f"the model returned {len(reply.texts)} samples, {count} were asked for")
    shares = []
    for j in range(count):
        def share(total: int) -> int:
            return total // count + (1 if j < total % count else 0)
        reason = reply.finish_reasons[j] if j < len(reply.finish_reasons) else None
        shares.append(CachedCompletion(reply.texts[j], share(reply.prompt_tokens), share(reply.completion_tokens),
                                       reply.latency_ms / count, reason))
    return shares


async def complete(model: Model, cache: CompletionCache | None, prompt: Prompt, params: GenerationParams,
                   indexes: list[int], limit: asyncio.Semaphore,
                   on_request: Callable[[], None] | None = None) -> dict[int, tuple[CachedCompletion, bool]]:
    """Completions for these sample indexes of one prompt, with whether each came from the cache:
    cached ones are read, the rest asked for in one request (seeds from the first missing index)
    and cached before they are returned."""
    identity = model.spec.identity
    got: dict[int, tuple[CachedCompletion, bool]] = {}
    fresh = []
    for index in indexes:
        hit = cache.get(completion_key(identity, prompt, params, index)) if cache is not None else None
        if hit is not None:
            got[index] = (hit, True)
        else:
            fresh.append(index)
    if fresh:
        if on_request is not None:
            on_request()
        async with limit:
            reply = await model.generate(prompt, params, len(fresh), params.seed + fresh[0])
        for index, completion in zip(fresh, split_usage(reply, len(fresh))):
            if cache is not None:
                cache.put(completion_key(identity, prompt, params, index), identity, completion)
            got[index] = (completion, False)
    return got


class Ledger:
    def __init__(self, store: Store, run: Run, model: str, prices: Prices = Prices()):
        self.db = store.db
        self.run = run
        self.model = model
        self.prices = prices

    def record(self, position: int, task_id: str, completion: CachedCompletion, cached: bool) -> None:
        cost = None if cached else self.prices.cost(completion.prompt_tokens, completion.completion_tokens)
        self.db.execute(
            """INSERT OR REPLACE INTO ledger (run_id, position, task_id, model, cached, prompt_tokens,
                                              completion_tokens, latency_ms, cost, created)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (self.run.id, position, task_id, self.model, int(cached), completion.prompt_tokens,
             completion.completion_tokens, 0.0 if cached else completion.latency_ms, cost, _now()))


def ledger_summary(store: Store, run: Run) -> dict | None:
    """Tokens, model time and cost of a run, and tokens per solved task; None for runs with no model."""
    row = store.db.execute(
        """SELECT COUNT(*) AS samples, COALESCE(SUM(cached), 0) AS cached,
                  COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
                  COALESCE(SUM(completion_tokens), 0) AS completion_tokens,
                  COALESCE(SUM(CASE WHEN cached = 0 THEN completion_tokens ELSE 0 END), 0) AS fresh_tokens,
                  COALESCE(SUM(latency_ms), 0) AS latency_ms, SUM(cost) AS cost
           FROM ledger WHERE run_id = ?""", (run.id,)).fetchone()
    if not row["samples"]:
        return None
    solved = store.db.execute(
        "SELECT COUNT(DISTINCT task_id) FROM outcomes WHERE run_id = ? AND passed = 1", (run.id,)).fetchone()[0]
    total = row["prompt_tokens"] + row["completion_tokens"]
    seconds = row["latency_ms"] / 1000
    return {
        "samples_generated": row["samples"],
        "from_cache": row["cached"],
        "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"],
        "model_seconds": round(seconds, 2),
        "completion_tokens_per_second": round(row["fresh_tokens"] / seconds, 2) if seconds else None,
        "cost_usd": round(row["cost"], 6) if row["cost"] is not None else None,
        "tasks_solved": solved,
        "tokens_per_solved_task": round(total / solved, 1) if solved else None,
    }

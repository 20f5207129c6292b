"""Best of n: sample n programs and submit the best by a fixed ranking.

The ranking: most visible checks passed, then the program that agrees with most others on the
visible inputs (a majority vote of outputs, which costs nothing beyond the visible run), then
the greedy program, then the earliest sampled. The first program is the greedy one
(temperature 0), so it always competes, and among programs that pass the same visible checks
it is the one submitted.
Sampling stops early once `stop_after` programs pass every visible check, so a
task the model finds easy does not use up its budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from bombe.strategies.base import BudgetExceeded, Context, Solution, Strategy
from bombe.strategies.behaviour import Pool, preference


@dataclass
class Sample(Strategy):
    name = "sample"
    n: int = 10             # samples at most
    batch: int = 2          # samples per request
    temperature: float = 0.8
    stop_after: int = 0     # stop once this many distinct programs pass the visible checks (0: never)
    greedy_first: bool = True  # the first program at temperature 0 (the greedy one)

    async def solve(self, ctx: Context) -> Solution:
        pool = Pool(ctx.executor)  # visible inputs only: no executions beyond the visible checks
        prompt = ctx.code_prompt()
        stopped = None
        while pool.samples < self.n:
            greedy = self.greedy_first and pool.samples == 0
            try:
                count = 1 if greedy else min(self.batch, self.n - pool.samples)
                programs = await ctx.sample_programs(prompt, count, 0.0 if greedy else self.temperature)
                await pool.add(programs, "greedy" if greedy else "sample")
            except BudgetExceeded as exc:
                stopped = str(exc)
                break
            if self.stop_after and sum(1 for e in pool.entries.values() if e.behaviour.passes_visible) >= self.stop_after:
                break
        entries = sorted(pool.entries.values(), key=lambda e: (
            -(e.behaviour.loaded), -e.behaviour.visible_passed, -e.votes, *preference(e)))
        notes = {"samples": pool.samples, "behaviours": len(pool.entries),
                 "passing_visible": sum(1 for e in pool.entries.values() if e.behaviour.passes_visible)}
        if stopped:
            notes["stopped"] = stopped
        return Solution([e.program for e in entries[: ctx.k]], notes)

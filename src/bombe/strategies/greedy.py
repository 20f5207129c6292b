"""Greedy: one completion at temperature 0, submitted as it is. The baseline every search must beat."""

from __future__ import annotations

from dataclasses import dataclass

from bombe.strategies.base import BudgetExceeded, Context, Solution, Strategy


@dataclass
class Greedy(Strategy):
    name = "greedy"

    async def solve(self, ctx: Context) -> Solution:
        try:
            programs = await ctx.sample_programs(ctx.code_prompt(), 1, temperature=0.0)
        except BudgetExceeded as exc:
            return Solution([], {"stopped": str(exc)})
        return Solution(programs)

"""PlanSearch (Wang et al. 2024): search over natural-language plans, not over code.

1. Ask for `observations` short, different observations about the problem.
2. Form plans from them: each observation alone, then pairs, in a fixed order, as many as the
   budget's share allows (`plans`).
3. For each plan, ask for a short solution sketch that uses those observations, then the code,
   in one reply.
4. Filter on the visible checks and cluster by behaviour on generated inputs, as filter-cluster.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from bombe.strategies.base import BudgetExceeded, Context, Solution, Strategy
from bombe.strategies.behaviour import Pool
from bombe.strategies.filter_cluster import fingerprint_inputs, select_clusters

OBSERVATIONS = (
    "Here is a Python programming task:\n\n```python\n{prompt}\n```\n\n"
    "Before writing any code, list {count} short, different and useful observations about this problem "
    "(properties of the input, edge cases, a useful reformulation, an algorithmic idea). "
    "Number them 1., 2., ... one per line. Do not write code.")
PLAN_CODE = (
    "Here is a Python programming task:\n\n```python\n{prompt}\n```\n\n"
    "Use these observations:\n{observations}\n\n"
    "First write a short plan (two or three sentences) that solves the task using them, "
    "then the whole function `{entry_point}` in a single ```python block.")


def parse_observations(text: str, limit: int) -> list[str]:
    """Numbered or bulleted lines of a reply, without their markers."""
    found = []
    for line in text.splitlines():
        match = re.match(r"^\s*(?:\d+[.)]|[-*•])\s+(.*\S)", line)
        if match and len(match.group(1)) > 3:
            found.append(match.group(1).strip())
    if not found:
        found = [p.strip() for p in re.split(r"\n\s*\n", text) if len(p.strip()) > 3]
    return found[:limit]


def plan_subsets(count: int, limit: int) -> list[tuple[int, ...]]:
    subsets = [(i,) for i in range(count)] + list(itertools.combinations(range(count), 2))
    return subsets[:limit]


@dataclass
class PlanSearch(Strategy):
    name = "plansearch"
    observations: int = 4
    plans: int = 8
    per_plan: int = 1         # programs per plan
    temperature: float = 0.6
    observation_tokens: int = 256
    mutants: int = 20
    inputs_when_none: int = 5  # inputs the model writes when the task shows no example to mutate
    aux_max_tokens: int = 256

    async def solve(self, ctx: Context) -> Solution:
        def fill(template: str) -> str:
            return template.replace("{prompt}", ctx.task.prompt).replace("{entry_point}", ctx.task.entry_point) \
                .replace("{count}", str(self.observations))

        pool = Pool(ctx.executor, await fingerprint_inputs(ctx, self.mutants, 0, self.inputs_when_none,
                                                           self.aux_max_tokens))
        notes: dict = {"plans": 0}
        try:
            [reply] = await ctx.model.sample(ctx.chat(("user", fill(OBSERVATIONS))), 1, 0.0, self.observation_tokens)
            observations = parse_observations(reply.text, self.observations)
            notes["observations"] = len(observations)
            subsets = plan_subsets(len(observations), self.plans) or [()]
            for subset in subsets:
                listed = "\n".join(f"- {observations[i]}" for i in subset) or "- (none)"
                prompt = ctx.chat(("user", fill(PLAN_CODE).replace("{observations}", listed)))
                programs = await ctx.sample_programs(prompt, self.per_plan, self.temperature)
                notes["plans"] += 1
                await pool.add(programs, f"plan{subset}")
        except BudgetExceeded as exc:
            notes["stopped"] = str(exc)
        notes.update(samples=pool.samples, behaviours=len(pool.entries), survivors=len(pool.survivors()))
        return Solution(select_clusters(ctx, pool, [], 0, ctx.k), notes)

"""Repair from execution feedback (Self-Debug; the MBPP paper's feedback study).

Start from n programs (one greedy program when n is 1). A program that fails a visible check
goes back to the model with the failing checks (the call, the exception or the wrong output)
and a request for a fixed version, for up to r rounds. With n > 1 this is a tree: every round,
the `width` most promising failing programs (most visible checks passed) each get `branch`
fixes. A fix that behaves like a program already seen adds no new program to repair (execution
fingerprints); when no failing program is left unrepaired, they are sent back again in turn
(the fewest times sent first, then the most visible checks passed), and their fixes are
sampled at `temperature`. The search stops when a program passes every visible
check, or at the budget or the round limit; the submission is the best program by visible
checks passed, the latest first among equals.
"""

from __future__ import annotations

from dataclasses import dataclass

from bombe.models.prompts import Prompt
from bombe.strategies.base import BudgetExceeded, Context, Solution, Strategy
from bombe.strategies.behaviour import Entry, Pool, preference

FEEDBACK = (
    "Your code:\n\n```python\n{code}\n```\n\nfails these checks:\n{failures}\n\n"
    "Find the mistake and reply with the whole corrected function `{entry_point}` in a single ```python block.")
FEEDBACK_NO_CHECKS = (
    "Your code:\n\n```python\n{code}\n```\n\nfails: {failures}\n\n"
    "Reply with the whole corrected function `{entry_point}` in a single ```python block.")


def feedback_prompt(ctx: Context, first: Prompt, reply_code: str, entry: Entry, max_failures: int = 3) -> Prompt:
    failures = "\n".join(f"- {line}" for line in entry.behaviour.failures[:max_failures])
    text = FEEDBACK.replace("{code}", reply_code.strip()).replace("{failures}", failures) \
        .replace("{entry_point}", ctx.task.entry_point)
    if ctx.mode == "completion":
        # A base model continues a comment block that shows the failure, then the prompt again.
        comment = "\n".join("# " + line for line in (
            ["The following code is wrong:"] + reply_code.strip().splitlines()
            + ["It fails:"] + [f"  {f}" for f in entry.behaviour.failures[:max_failures]]
            + ["A corrected version:"]))
        return Prompt("completion", text=comment + "\n" + ctx.task.prompt)
    user = first.messages[-1][1] if first.messages else ctx.task.prompt
    return ctx.chat(("user", user), ("assistant", f"```python\n{reply_code.strip()}\n```"), ("user", text))


@dataclass
class Repair(Strategy):
    name = "repair"
    n: int = 1               # initial programs (roots of the tree)
    rounds: int = 4          # repair rounds at most
    width: int = 2           # failing programs repaired per round
    branch: int = 1          # fixes asked for each
    temperature: float = 0.8  # for the initial programs when n > 1, and for the fixes when branch > 1
    fix_temperature: float = 0.2
    mutants: int = 0         # generated inputs for fingerprints (0: visible inputs only)

    async def solve(self, ctx: Context) -> Solution:
        first = ctx.code_prompt()
        pool = Pool(ctx.executor, ctx.generated_inputs(self.mutants) if self.mutants else [])
        notes: dict = {"rounds": 0, "fixes": 0}
        order: dict[int, int] = {}  # id(entry) -> the round that found it
        try:
            temperature = 0.0 if self.n == 1 else self.temperature
            frontier = await pool.add(await ctx.sample_programs(first, self.n, temperature), "sample")
            for entry in frontier:
                order[id(entry)] = 0
            expansions: dict[int, int] = {}  # id(entry) -> how many times it was sent back
            for round_number in range(1, self.rounds + 1):
                if any(e.behaviour.passes_visible for e in pool.entries.values()) or not ctx.task.has_checks:
                    break
                # Programs not yet sent back first; when every failing behaviour has been, the
                # best is sent back again, and its fixes sampled: a small model often answers
                # a fix request with the same behaviour, and asking the same way again would too.
                candidates = [e for e in pool.entries.values() if not e.behaviour.passes_visible]
                candidates.sort(key=lambda e: (expansions.get(id(e), 0), -e.behaviour.visible_passed,
                                               -order.get(id(e), 0), -e.votes))
                if not candidates:
                    break
                notes["rounds"] = round_number
                for entry in candidates[: self.width]:
                    again = expansions.get(id(entry), 0)
                    expansions[id(entry)] = again + 1
                    prompt = feedback_prompt(ctx, first, entry.program, entry)
                    focused = self.branch == 1 and again == 0
                    fixes = await ctx.sample_programs(prompt, self.branch,
                                                      self.fix_temperature if focused else self.temperature)
                    notes["fixes"] += len(fixes)
                    for new in await pool.add(fixes, f"fix{round_number}"):
                        order[id(new)] = round_number
                    if any(e.behaviour.passes_visible for e in pool.entries.values()):
                        break
        except BudgetExceeded as exc:
            notes["stopped"] = str(exc)
        loaded = [e for e in pool.entries.values() if e.behaviour.loaded] or list(pool.entries.values())
        loaded.sort(key=lambda e: (-e.behaviour.visible_passed, -order.get(id(e), 0), -e.votes, *preference(e)))
        notes["behaviours"] = len(pool.entries)
        return Solution([e.program for e in loaded[: ctx.k]], notes)

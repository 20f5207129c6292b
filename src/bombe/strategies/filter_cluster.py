"""Filter and cluster (AlphaCode; CodeT's dual agreement as an option).

Sample n programs; keep those that pass the visible checks (or, when none does, those passing
the most); run the survivors on generated inputs (type-aware mutants of the visible inputs,
plus inputs the model writes when `model_inputs` is on); group them by identical outputs and
submit one program from each of the largest clusters. Programs are run once per behaviour
(execution fingerprint), not once per text.

With `dual` on, the model also writes tests (`assert f(x) == y`), and clusters are ranked by
CodeT's dual agreement: the number of programs in the cluster times the number of model tests
the cluster passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bombe.sandbox.codec import values_match
from bombe.strategies.base import BudgetExceeded, Context, Solution, Strategy
from bombe.strategies.behaviour import Pool, clusters, rank
from bombe.strategies.runtime import Inputs
from bombe.strategies.visible import VisibleCall, _assert_call, _call_arguments

TESTS_PROMPT = (
    "Here is a Python programming task:\n\n```python\n{prompt}\n```\n\n"
    "Write {count} different test cases for `{entry_point}`, one per line, each as\n"
    "assert {entry_point}(...) == expected_value\n"
    "Cover ordinary cases and edge cases. Reply with the asserts only, in one ```python block.")
INPUTS_PROMPT = (
    "Here is a Python programming task:\n\n```python\n{prompt}\n```\n\n"
    "Write {count} different valid calls of `{entry_point}` that would test it well, including edge cases, "
    "one per line, as {entry_point}(...). Reply with the calls only, in one ```python block.")


def parse_model_tests(text: str, entry_point: str) -> list[VisibleCall]:
    """The `assert f(x) == y` lines of a reply, as call/expected pairs."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("assert ") and entry_point in line:
            call = _assert_call(line, entry_point)
            if call is not None:
                found.append(call)
    return found


def parse_model_inputs(text: str, entry_point: str) -> list[Inputs]:
    """The literal calls `f(...)` in a reply, as inputs."""
    found: list[Inputs] = []
    for match in re.finditer(rf"(?<![\w.]){re.escape(entry_point)}\s*\(.*\)", text):
        source = match.group(0)
        for end in range(len(source), 0, -1):  # the longest prefix that is one call
            if source[end - 1] != ")":
                continue
            arguments = _call_arguments(source[:end], entry_point)
            if arguments is not None:
                found.append(arguments)
                break
    return found


def _fill(template: str, ctx: Context, count: int) -> str:
    return (template.replace("{prompt}", ctx.task.prompt).replace("{entry_point}", ctx.task.entry_point)
            .replace("{count}", str(count)))


async def model_written_inputs(ctx: Context, count: int, max_tokens: int) -> list[Inputs]:
    prompt = ctx.chat(("user", _fill(INPUTS_PROMPT, ctx, count)))
    try:
        [reply] = await ctx.model.sample(prompt, 1, 0.0, max_tokens)
    except BudgetExceeded:
        return []
    return parse_model_inputs(reply.text, ctx.task.entry_point)[:count]


async def model_written_tests(ctx: Context, count: int, max_tokens: int) -> list[VisibleCall]:
    prompt = ctx.chat(("user", _fill(TESTS_PROMPT, ctx, count)))
    try:
        [reply] = await ctx.model.sample(prompt, 1, 0.0, max_tokens)
    except BudgetExceeded:
        return []
    return parse_model_tests(reply.text, ctx.task.entry_point)[:count]


async def fingerprint_inputs(ctx: Context, mutants: int, model_inputs: int, when_none: int,
                             max_tokens: int) -> list[Inputs]:
    """The generated inputs programs are told apart on: mutants of the visible inputs, plus
    inputs the model writes (`model_inputs` of them; `when_none` when the task shows no example
    to mutate), and mutants of those."""
    inputs = ctx.generated_inputs(mutants)
    wanted = model_inputs or (when_none if not ctx.task.calls else 0)
    if wanted:
        written = dedupe_inputs(await model_written_inputs(ctx, wanted, max_tokens), ctx.visible_inputs() + inputs)
        inputs += written
        if not ctx.task.calls and written:
            from bombe.strategies.mutate import mutate_inputs

            inputs += dedupe_inputs(mutate_inputs(written, mutants, seed=ctx.seed), inputs)
    return inputs


def dedupe_inputs(inputs: list[Inputs], against: list[Inputs]) -> list[Inputs]:
    seen = {repr(i) for i in against}
    out = []
    for item in inputs:
        if repr(item) not in seen:
            seen.add(repr(item))
            out.append(item)
    return out


async def fill_pool(ctx: Context, pool: Pool, n: int, batch: int, temperature: float,
                    prompt=None, origin: str = "sample", greedy_first: bool = False) -> str | None:
    """Sample up to n programs into the pool (the first at temperature 0 with `greedy_first`:
    the greedy program always competes); the reason it stopped early, if it did."""
    prompt = prompt or ctx.code_prompt()
    asked = 0
    if greedy_first and n > 0:
        try:
            await pool.add(await ctx.sample_programs(prompt, 1, 0.0), "greedy")
            asked = 1
        except BudgetExceeded as exc:
            return str(exc)
    while asked < n:
        try:
            programs = await ctx.sample_programs(prompt, min(batch, n - asked), temperature)
            asked += len(programs)
            await pool.add(programs, origin)
        except BudgetExceeded as exc:
            return str(exc)
    return None


def select_clusters(ctx: Context, pool: Pool, tests: list[VisibleCall], tests_at: int, k: int) -> list[str]:
    """The k best clusters' programs: by size, or by dual agreement when there are model tests."""
    visible = len(ctx.task.calls)
    found = clusters(pool.survivors(), visible)
    if tests:
        for cluster in found:
            values = cluster.behaviour.values
            passed = sum(1 for j, test in enumerate(tests)
                         if tests_at + j < len(values) and cluster.behaviour.outputs[tests_at + j][0] != "!"
                         and values_match(values[tests_at + j], test.call_test().expected, test.atol, test.rtol))
            cluster.score = cluster.votes * passed + cluster.votes * 1e-3  # size breaks ties
        found = rank(found)
    return [c.program for c in found[:k]]


@dataclass
class FilterCluster(Strategy):
    name = "filter-cluster"
    n: int = 10
    batch: int = 2
    temperature: float = 0.8
    greedy_first: bool = True  # the first program at temperature 0 (the greedy one)
    mutants: int = 20          # generated inputs by mutation of the visible ones
    model_inputs: int = 0      # inputs the model is asked to write (0: none...)
    inputs_when_none: int = 5  # ...but this many when the task shows no example to mutate
    dual: bool = False         # CodeT: rank clusters by agreement with model-written tests
    model_tests: int = 8
    aux_max_tokens: int = 256  # for the inputs and tests the model writes

    async def solve(self, ctx: Context) -> Solution:
        inputs = await fingerprint_inputs(ctx, self.mutants, self.model_inputs, self.inputs_when_none,
                                          self.aux_max_tokens)
        tests: list[VisibleCall] = []
        if self.dual:
            tests = await model_written_tests(ctx, self.model_tests, self.aux_max_tokens)
        tests_at = len(ctx.task.calls) + len(inputs)
        pool = Pool(ctx.executor, inputs + [t.inputs for t in tests])
        stopped = await fill_pool(ctx, pool, self.n, self.batch, self.temperature, greedy_first=self.greedy_first)
        submissions = select_clusters(ctx, pool, tests, tests_at, ctx.k)
        notes = {"samples": pool.samples, "behaviours": len(pool.entries), "inputs": len(inputs),
                 "model_tests": len(tests), "survivors": len(pool.survivors())}
        if stopped:
            notes["stopped"] = stopped
        return Solution(submissions, notes)

"""Divide and conquer with functional consensus (FunCoder, Chen et al. 2024), in small.

1. Divide: ask for the function written as a main function that calls a few helper functions,
   each with a docstring saying what it does.
2. Conquer: for each helper (in the order written), sample `alternatives` other implementations
   from its signature and docstring; put each into the program in place of the helper; run
   every variant on the visible and generated inputs, and keep the variant that agrees most with
   the others (functional consensus: the sum, over the other variants weighted by their votes,
   of the share of inputs on which both give the same output).
3. Also sample `root_samples` whole programs the plain way; the submission is chosen among all
   programs that survive the visible checks, again by functional consensus.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from bombe.models.extract import code_blocks
from bombe.strategies.base import BudgetExceeded, Context, Solution, Strategy
from bombe.strategies.behaviour import Entry, Pool, informative_inputs, preference
from bombe.strategies.filter_cluster import fingerprint_inputs
from bombe.strategies.runtime import ERROR, MISSING

DIVIDE = (
    "Here is a Python programming task:\n\n```python\n{prompt}\n```\n\n"
    "Solve it by dividing it into smaller problems: write `{entry_point}` so that it calls one to three "
    "helper functions, and write each helper, with a one-line docstring saying exactly what it returns. "
    "Reply with all the functions in a single ```python block.")
CONQUER = (
    "This helper function is part of a solution to the task below.\n\nTask:\n```python\n{prompt}\n```\n\n"
    "Helper to implement:\n```python\n{stub}\n```\n\n"
    "Write the helper `{name}` completely and correctly. Reply with that function only, in a single ```python block.")


def helpers_of(program: str, entry_point: str) -> list[ast.FunctionDef]:
    """Top-level functions other than the entry point, in source order."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return []
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name != entry_point]


def stub_of(program: str, node: ast.FunctionDef) -> str:
    """The helper's signature and docstring, body elided."""
    lines = program.splitlines()
    header_end = node.body[0].lineno - 1
    header = "\n".join(lines[node.lineno - 1 - len(node.decorator_list): header_end])
    doc = ast.get_docstring(node)
    indent = " " * (node.body[0].col_offset or 4)
    body = f'{indent}"""{doc}"""\n{indent}...' if doc else f"{indent}..."
    return header + "\n" + body


def function_named(text: str, name: str) -> str | None:
    """The source of the top-level function `name` in a reply's code."""
    for block in code_blocks(text):
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return ast.get_source_segment(block, node)
    return None


def replace_function(program: str, name: str, new_source: str) -> str:
    """`program` with the top-level function `name` replaced by `new_source`."""
    tree = ast.parse(program)
    lines = program.splitlines()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = node.lineno - 1 - len(node.decorator_list)
            return "\n".join(lines[:start] + new_source.splitlines() + lines[node.end_lineno:]) + "\n"
    return program


def similarity(a: Entry, b: Entry, positions: Sequence[int]) -> float:
    """Share of the inputs at `positions` on which a and b return the same value."""
    if not positions:
        return 1.0 if a.behaviour.fingerprint == b.behaviour.fingerprint else 0.0
    same = 0
    for i in positions:
        x, y = a.behaviour.outputs[i], b.behaviour.outputs[i]
        if x == y and x not in (ERROR, MISSING):
            same += 1
    return same / len(positions)


def consensus_order(entries: Sequence[Entry], visible: int) -> list[Entry]:
    """Entries by functional consensus: votes-weighted agreement with all entries (itself included)."""
    if not entries:
        return []
    positions = list(range(visible)) + informative_inputs(entries, visible)

    def score(entry: Entry) -> float:
        return sum(other.votes * similarity(entry, other, positions) for other in entries)
    return sorted(entries, key=lambda e: (-e.behaviour.visible_passed, -score(e), -e.votes, *preference(e)))


@dataclass
class Consensus(Strategy):
    name = "consensus"
    helpers: int = 3          # helpers conquered at most
    alternatives: int = 3     # implementations sampled per helper
    root_samples: int = 3     # whole programs sampled the plain way
    temperature: float = 0.8
    mutants: int = 20
    inputs_when_none: int = 5  # inputs the model writes when the task shows no example to mutate
    aux_max_tokens: int = 256

    async def solve(self, ctx: Context) -> Solution:
        def fill(template: str) -> str:
            return template.replace("{prompt}", ctx.task.prompt).replace("{entry_point}", ctx.task.entry_point)

        visible = len(ctx.task.calls)
        pool = Pool(ctx.executor, await fingerprint_inputs(ctx, self.mutants, 0, self.inputs_when_none,
                                                           self.aux_max_tokens))
        notes: dict = {"helpers": 0, "variants": 0}
        try:
            divide = ctx.chat(("user", fill(DIVIDE)))
            [program] = await ctx.sample_programs(divide, 1, 0.0)
            await pool.add([program], "divide")
            names = [n.name for n in helpers_of(program, ctx.task.entry_point)][: self.helpers]
            notes["helpers"] = len(names)
            for name in names:
                node = next((n for n in helpers_of(program, ctx.task.entry_point) if n.name == name), None)
                if node is None:
                    continue
                stub = stub_of(program, node)
                prompt = ctx.chat(("user", fill(CONQUER).replace("{stub}", stub).replace("{name}", node.name)))
                replies = await ctx.model.sample(prompt, self.alternatives, self.temperature, ctx.max_tokens)
                variants = [program]
                for reply in replies:
                    source = function_named(reply.text, node.name)
                    if source:
                        variants.append(replace_function(program, node.name, source))
                notes["variants"] += len(variants) - 1
                await pool.add(variants[1:], f"conquer:{node.name}")
                entries = [e for e in (pool.entry_of(v) for v in variants) if e is not None]
                chosen = consensus_order(list({id(e): e for e in entries}.values()), visible)
                if chosen:
                    best = chosen[0]
                    program = next(v for v in variants if pool.entry_of(v) is best)
            notes["composed"] = program
            for _ in range(self.root_samples):
                await pool.add(await ctx.sample_programs(ctx.code_prompt(), 1, self.temperature), "sample")
        except BudgetExceeded as exc:
            notes["stopped"] = str(exc)
        notes.pop("composed", None)
        survivors = pool.survivors()
        notes.update(samples=pool.samples, behaviours=len(pool.entries), survivors=len(survivors))
        return Solution([e.program for e in consensus_order(survivors, visible)[: ctx.k]], notes)

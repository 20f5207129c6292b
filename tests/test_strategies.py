"""Every strategy end to end against a real llama.cpp server (SmolLM2-135M), with small budgets:
each returns a judged submission, none spends past its budget, and none can see hidden checks."""

from __future__ import annotations

import asyncio
import gc
import json
import types
import warnings

import pytest

from bombe.models.client import OpenAIModel
from bombe.models.prompts import Templates
from bombe.models.spec import parse_model_spec
from bombe.sandbox import Limits, Sandbox
from bombe.strategies import STRATEGY_NAMES, Budget, Solution, Strategy, make_strategy
from bombe.strategies.base import Context
from bombe.strategies.solve import SolveSettings, judge, run_strategy
from bombe.task import CallTest, Task

pytest.importorskip("llama_cpp")

MARKERS = ("zqxhidden", "9137", "ZQXHIDDEN")
TASKS = [
    Task(task_id="toy/shout", entry_point="shout",
         prompt='def shout(s):\n    """Return s in upper case with an exclamation mark after it.\n'
                '    >>> shout(\'hi\')\n    \'HI!\'\n    """\n',
         tests=[{"args": ["hi"], "expected": "HI!"}],
         hidden_tests=[{"args": ["zqxhidden"], "expected": "ZQXHIDDEN!"}, {"args": [""], "expected": "!"}]),
    Task(task_id="toy/add", entry_point="add",
         prompt='def add(a, b):\n    """Return the sum of a and b.\n    >>> add(2, 3)\n    5\n    """\n',
         tests=[{"args": [2, 3], "expected": 5}],
         hidden_tests=[{"args": [9137, 1], "expected": 9138}, {"args": [-9137, 0], "expected": -9137}]),
]
# Small options so that each strategy asks a few short questions per task.
OPTIONS = {
    "greedy": {}, "sample": {"n": "2"}, "filter-cluster": {"n": "2", "mutants": "6"},
    "repair": {"rounds": "1"}, "plansearch": {"observations": "2", "plans": "1", "observation_tokens": "32"},
    "consensus": {"helpers": "1", "alternatives": "1", "root_samples": "0", "mutants": "6"},
}
BUDGET = Budget(tokens=1200, samples=2, executions=6, seconds=60)


@pytest.fixture(scope="module")
def box():
    with Sandbox(workers=2, limits=Limits(timeout=5)) as sandbox:
        yield sandbox


def solve_all(server, strategy: Strategy, budget: Budget, box, tasks=TASKS):
    """Run `strategy` on each task; return (task, solution, tracker, prompts sent) per task."""
    prompts = []

    async def go():
        model = OpenAIModel(parse_model_spec(server.spec))
        settings = SolveSettings(strategy, budget, "chat", Templates.load(), max_tokens=32)
        try:
            return [(task, *await run_strategy(task, settings, model, box, on_prompt=prompts.append))
                    for task in tasks]
        finally:
            await model.close()
    return asyncio.run(go()), prompts


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_each_strategy_solves_within_its_budget_and_never_shows_hidden_checks(name, llama_server, box):
    before = llama_server.generation_requests()
    solved, prompts = solve_all(llama_server, make_strategy(name, OPTIONS[name]), BUDGET, box)
    assert llama_server.generation_requests() > before and prompts
    for task, solution, tracker in solved:
        assert "error" not in solution.notes, solution.notes
        spent = tracker.spent
        assert spent.tokens <= BUDGET.tokens and spent.samples <= BUDGET.samples
        assert spent.executions <= BUDGET.executions and spent.samples >= 1
        assert spent.tokens == spent.prompt_tokens + spent.completion_tokens > 0
        assert len(solution.submissions) <= 1
        for result in judge(task, solution.submissions, box):
            assert result.checks_run >= 1 and result.status in ("pass", "fail", "error", "invalid", "timeout")
    assert prompts_are_clean(prompts)
    if name != "greedy":
        assert any(tracker.spent.executions > 0 for _, _, tracker in solved)


def prompts_are_clean(prompts) -> bool:
    text = json.dumps([p.as_key() for p in prompts])
    return not any(marker in text for marker in MARKERS)


def test_budgets_bind_the_strategies_that_would_spend_more(llama_server, box):
    tight = Budget(tokens=600)
    solved, _ = solve_all(llama_server, make_strategy("sample", {"n": "50"}), tight, box, TASKS[:1])
    [(_task, solution, tracker)] = solved
    assert tracker.spent.tokens <= 600 and tracker.spent.refused >= 1 and "stopped" in solution.notes
    assert 1 <= tracker.spent.samples < 50
    assert solution.submissions  # what was found before the budget ran out is still submitted


def walk(root) -> tuple[list, int]:
    """Everything reachable from `root` through attributes, slots, properties and containers that
    is a Task, a CallTest or a string holding a hidden marker; and how many objects were seen."""
    seen, todo, found = set(), [root], []
    while todo and len(seen) < 300_000:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (types.ModuleType, type, types.FunctionType)):
            continue
        seen.add(id(obj))
        if isinstance(obj, (Task, CallTest)):
            found.append(obj)
        elif isinstance(obj, str):
            if any(marker in obj for marker in MARKERS):
                found.append(obj)
            continue
        elif isinstance(obj, (bytes, int, float, bool)) or obj is None:
            continue
        if isinstance(obj, dict):
            todo.extend(obj.keys())
            todo.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend(obj)
        for name in dir(type(obj)):
            if name.startswith("__"):
                continue
            slot = getattr(type(obj), name, None)
            if isinstance(slot, (types.MemberDescriptorType, property)):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        todo.append(getattr(obj, name))
                except Exception:  # noqa: BLE001 - a property that cannot be read here
                    pass
        if hasattr(obj, "__dict__"):
            todo.extend(vars(obj).values())
    return found, len(seen)


def test_the_walk_finds_hidden_checks_where_they_are():
    found, _ = walk({"holder": [TASKS[1]]})
    assert TASKS[1] in found and any(isinstance(f, CallTest) for f in found)


class Snoop(Strategy):
    """A strategy that looks everywhere it can reach for the judge's checks, and submits what it finds."""

    name = "snoop"
    found: list = []
    seen = 0

    async def solve(self, ctx: Context) -> Solution:
        found, Snoop.seen = walk(ctx)
        for name in ("hidden_tests", "tests", "test", "canonical_solution"):
            found.extend(x for x in [getattr(ctx.task, name, None)] if x)
        Snoop.found = found
        hidden = next((f for f in found if isinstance(f, CallTest)), None)
        expected = repr(hidden.expected) if hidden else "None"
        return Solution([f"def add(a, b):\n    return {expected}\n"])


def test_a_strategy_cannot_reach_the_hidden_checks_from_what_it_is_given(llama_server, box):
    gc.collect()
    solved, prompts = solve_all(llama_server, Snoop(), BUDGET, box, TASKS[1:])
    [(task, solution, _)] = solved
    assert Snoop.found == [] and Snoop.seen > 100 and prompts == []
    [result] = judge(task, solution.submissions, box)
    assert not result.passed

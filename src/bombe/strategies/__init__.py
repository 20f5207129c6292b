"""Test-time search strategies: turn a model into a better solver within a fixed budget.

A strategy sees a `VisibleTask` (prompt, entry point, visible checks) and spends a `Budget`
through the model and the sandbox; `bombe.strategies.solve` judges what it submits on the
hidden checks. See `base.py` for the interface and one module per strategy.
"""

from __future__ import annotations

from bombe.strategies.base import Context, Solution, Strategy, StrategyOptionError
from bombe.strategies.budget import Budget, BudgetExceeded, BudgetTracker
from bombe.strategies.visible import VisibleTask, visible_task


def _registry() -> dict[str, type[Strategy]]:
    from bombe.strategies.consensus import Consensus
    from bombe.strategies.filter_cluster import FilterCluster
    from bombe.strategies.greedy import Greedy
    from bombe.strategies.plansearch import PlanSearch
    from bombe.strategies.repair import Repair
    from bombe.strategies.sample import Sample

    return {cls.name: cls for cls in (Greedy, Sample, FilterCluster, Repair, PlanSearch, Consensus)}


STRATEGY_NAMES = ("greedy", "sample", "filter-cluster", "repair", "plansearch", "consensus")


def make_strategy(name: str, options: dict[str, str] | None = None) -> Strategy:
    registry = _registry()
    cls = registry.get(name) or registry.get(name.replace("_", "-"))
    if cls is None:
        raise StrategyOptionError(f"unknown strategy {name!r}; known: {', '.join(STRATEGY_NAMES)}")
    return cls.from_options(options or {})


__all__ = [
    "STRATEGY_NAMES",
    "Budget",
    "BudgetExceeded",
    "BudgetTracker",
    "Context",
    "Solution",
    "Strategy",
    "StrategyOptionError",
    "VisibleTask",
    "make_strategy",
    "visible_task",
]

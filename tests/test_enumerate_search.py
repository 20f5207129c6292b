"""Search: pruning by observational equivalence, the time limit, the shortcuts, real tasks."""

from __future__ import annotations

import time

import pytest

from bombe.enumerate import synthesize
from bombe.enumerate.search import LEVEL_DONE, W_TASK, Enumerator, select_ops
from bombe.enumerate.solver import make_problem


def _enumerate_to(level: int, examples: list, names: list[str], *, oe: bool = True) -> Enumerator:
    prob = make_problem(examples, names)
    en = Enumerator(prob, select_ops(prob.arg_types, prob.out_type), oe=oe)
    for ev in en.run():
        if ev == LEVEL_DONE and en.cost >= level:
            break
    return en


LISTS = [([[3, 1, 2]], [1, 2, 3]), ([[5, -4, 0, 7]], [-4, 0, 5, 7])]


def test_equivalent_expressions_keep_one_value() -> None:
    en = _enumerate_to(3, LISTS, ["x"])
    lists = [e for lv in en.bank[W_TASK]["list[int]"] for _, e in lv]
    texts = {repr(e) for e in lists}
    # Reverse(Reverse(x)) and Sort(Sort(x)) mean x and Sort(x): only the cheapest is kept
    values = [v for lv in en.bank[W_TASK]["list[int]"] for v, _ in lv]
    assert len(values) == len({repr(v) for v in values})
    assert any("'var', 'x'" in t for t in texts)
    assert not any(t.count("Reverse") == 2 for t in texts)


def test_pruning_keeps_fewer_values() -> None:
    with_oe = _enumerate_to(4, LISTS, ["x"]).stats.kept
    without = _enumerate_to(4, LISTS, ["x"], oe=False).stats.kept
    assert with_oe < without / 2


def test_lambdas_are_deduplicated_by_behaviour() -> None:
    en = _enumerate_to(5, [([[3, 1, 2]], 7), ([[5, -4]], 2)], ["x"])
    from bombe.enumerate.search import W_L1
    bodies = [(v, e) for lv in en.bank[W_L1]["int"] for v, e in lv]
    assert len({v for v, _ in bodies}) == len(bodies)
    # u + u, u * 2 and 2 * u behave the same on every probe, so exactly one of them survives
    lam = ("lam", 0)

    def doubles(e: tuple) -> bool:
        if type(e[0]) is str or len(e) != 3:
            return False
        a, b = e[1], e[2]
        if e[0].name == "Add":
            return a == lam and b == lam
        if e[0].name == "Multiply":
            return {a[:2], b[:2]} == {lam, ("const", 2)}
        return False

    assert sum(1 for _, e in bodies if doubles(e)) == 1


def test_time_limit_is_honoured() -> None:
    # outputs with no short explanation: the search must stop on time and say so
    examples = [([[7, 3, 9, 1]], 83), ([[2, 8]], -41), ([[5, 5, 6]], 17), ([[0, 4, 4, 1, 9]], 6)]
    t0 = time.perf_counter()
    s = synthesize(examples, timeout=1.0)
    wall = time.perf_counter() - t0
    assert s.status == "timeout"
    assert wall <= 1.05, wall
    assert s.program is None and s.expression is None


def test_value_budget_bounds_the_search() -> None:
    examples = [([[7, 3, 9, 1]], 83), ([[2, 8]], -41), ([[5, 5, 6]], 17)]
    s = synthesize(examples, timeout=5.0, value_budget=3000)
    assert s.status == "not_found"
    assert s.seconds < 4.0


@pytest.mark.parametrize("examples, names, expected_part", [
    ([([2, [3, 5, 4, 7, 5]], 7), ([2, [12, 56, 31, 23, 49]], 35), ([3, [8, 3, 4, 12, 5, 2, 4]], 9)],
     ["k", "b"], "Sort"),
    ([([8], 4), ([26], 13), ([5], 16), ([7], 22), ([23], 70)], ["x"], "If"),                   # case split
    ([([[1, 2, 3]], [1, 8, 27]), ([[4, -1]], [64, -1])], ["x"], "Map"),                      # map deduction
    ([([[1, 2, 3, 4]], [1, 3, 6, 10]), ([[5, 6, 8, 7]], [5, 11, 19, 26])], ["x"], "Scanl1"),  # scan
    ([([[1, 2, 3], [4, 5, 6]], [5, 7, 9]), ([[0, -1], [3, 3]], [3, 2])], ["a", "b"], "ZipWith"),
    ([(["Nancy FreeHafer"], "Dr. Nancy"), (["Andrew Cencici"], "Dr. Andrew")], ["name"], "Concat"),
    ([(["938-242-504"], "938.242.504"), (["308-916-545"], "308.916.545")], ["s"], "Replace"),
])
def test_real_tasks_are_solved(examples: list, names: list[str], expected_part: str) -> None:
    s = synthesize(examples, arg_names=names, timeout=8.0)
    assert s.status == "solved", s
    assert expected_part in s.expression
    scope: dict = {}
    exec(s.program, scope)  # noqa: S102 - our own generated code
    for args, out in examples:
        assert scope["f"](*args) == out


def test_if_unification_needs_evidence_for_each_branch() -> None:
    # three examples, three unrelated outputs: a case split per example would "fit"; refuse it
    examples = [([[4, 1]], 11), ([[2, 9, 3]], -5), ([[8]], 30)]
    s = synthesize(examples, timeout=1.5)
    assert s.status != "solved" or "If" not in (s.expression or "")


def test_malformed_examples_are_not_found() -> None:
    assert synthesize([([1.5], 2)], timeout=1).status == "not_found"
    assert synthesize([([1], "a"), ([2], 3)], timeout=1).status == "not_found"
    with pytest.raises(ValueError):
        synthesize([([1, 2], 3)], arg_names=["only_one"], timeout=1)


def test_search_tables_are_freed_without_the_cycle_collector() -> None:
    # a long run of tasks must not keep earlier searches' tables alive (reference cycles would,
    # since the collector is paused during searches)
    import gc
    import threading

    examples = [([8], 4), ([26], 13), ([5], 16), ([7], 22), ([23], 70)]  # hailstone: uses if-unification
    assert synthesize(examples, timeout=3).status == "solved"
    for t in threading.enumerate():
        if t.name == "bombe-enumerate-release":
            t.join(timeout=10)
    gc.unfreeze()
    assert not any(isinstance(o, Enumerator) for o in gc.get_objects())

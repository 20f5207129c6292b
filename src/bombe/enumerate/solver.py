"""Drive one synthesis: build the typed problem, enumerate, and run the deductions.

The time budget is split in phases: plain enumeration first (small programs come fast),
then the deductions that solve sub-problems (map/filter/zipWith/scanl1 over a list, whose
per-element examples are read off the output), then enumeration again until the deadline or
until every cheaper program has been ruled out. After every cost level the cheap shortcuts run:
if-then-else unification of partial solutions and splitting a string output into parts.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import deduce
from .dsl import INT_CONSTANTS, LINT, LSTR, STR, STR_CONSTANTS, unify_types
from .evaluate import count_nodes
from .search import LEVEL_DONE, Enumerator, Problem, select_ops

NAME_POOL = ("x", "y", "z", "v", "w", "u", "a", "b", "c", "s", "t", "e", "n", "m", "k", "q")


@dataclass(frozen=True)
class Candidate:
    cost: int
    expr: tuple
    how: str = "enumeration"

    def rank(self) -> tuple:
        """Smaller is better: cost, then fewer unexplained constants, then fewer case splits."""
        consts = count_nodes(self.expr, lambda e: e[0] == "const" and len(e) > 3 and bool(e[3]))
        ifs = count_nodes(self.expr, lambda e: type(e[0]) is not str and e[0].name == "If")
        return (self.cost, consts + ifs, ifs)


class TypeProblem(ValueError):
    """The examples use values the DSL has no type for, or inconsistent types."""


def make_problem(examples: list[tuple[list, Any]], arg_names: list[str]) -> Problem:
    if not examples:
        raise TypeProblem("no examples")
    arity = len(examples[0][0])
    if any(len(args) != arity for args, _ in examples):
        raise TypeProblem("examples have different numbers of arguments")
    arg_types = []
    for j in range(arity):
        t = unify_types([args[j] for args, _ in examples])
        if t is None:
            raise TypeProblem(f"argument {j} has no DSL type")
        arg_types.append(t)
    out_type = unify_types([out for _, out in examples])
    if out_type is None:
        raise TypeProblem("outputs have no DSL type")
    inputs = [tuple(args) for args, _ in examples]
    outputs = tuple(out for _, out in examples)
    prob = Problem(inputs, outputs, list(arg_names), arg_types, out_type)
    _bounds(prob)
    _constants(prob)
    return prob


def _all_values(prob: Problem) -> list[Any]:
    out: list[Any] = []
    for v in [x for row in prob.inputs for x in row] + list(prob.outputs):
        if isinstance(v, list):
            for x in v:
                out.extend(x if isinstance(x, list) else [x])
        else:
            out.append(v)
    return out


def _bounds(prob: Problem) -> None:
    """LambdaBeam's [-256, 255] integer range, widened when the examples themselves exceed it."""
    vals = _all_values(prob)
    ints = [v for v in vals if isinstance(v, int) and not isinstance(v, bool)]
    if ints and (min(ints) < -256 or max(ints) > 255):
        m = max(abs(v) for v in ints)
        prob.int_lo, prob.int_hi = -4 * m, 4 * m
    strs = [v for v in vals if isinstance(v, str)]
    if strs:
        prob.max_str = max(20, 2 * max(map(len, strs)) + 5)


def _constants(prob: Problem) -> None:
    """Fixed constants plus those the examples suggest; suggested ones cost more (unexplained)."""
    prob.int_consts = [(v, 1) for v in INT_CONSTANTS]
    if STR not in prob.arg_types and prob.out_type != STR and LSTR not in prob.arg_types:
        return
    in_strs = [x for row in prob.inputs for v in row for x in (v if isinstance(v, list) else [v])
               if isinstance(x, str)]
    out_strs = [x for v in prob.outputs for x in (v if isinstance(v, list) else [v]) if isinstance(x, str)]
    text = "".join(in_strs + out_strs)
    consts: dict[str, int] = {}
    for s in STR_CONSTANTS:
        if s == "" or s in text:
            consts[s] = 1
    # punctuation that occurs in the examples
    for ch in dict.fromkeys(text):
        if not ch.isalnum() and ch not in consts:
            consts[ch] = 1
    # output fragments that no input explains: common substrings of outputs, whole repeated outputs
    for s in _output_fragments(prob, in_strs, out_strs):
        consts.setdefault(s, 2)
    # text every input of an argument shares but no output keeps (what gets replaced or cut),
    # and input values that repeat (categories such as "NONE" or "morning")
    for j, t in enumerate(prob.arg_types):
        if t != STR:
            continue
        col = [row[j] for row in prob.inputs]
        for sub in _common_substrings(col, 12):
            for s in (sub, sub.strip()):
                if not any(s in o for o in out_strs) and len(s) > 1:
                    consts.setdefault(s, 2)
        for v in dict.fromkeys(col):
            if v and col.count(v) >= 2 and len(v) <= 20:
                consts.setdefault(v, 2)
    prob.str_consts = list(consts.items())[:48]
    # fixed-width outputs: their common length is a likely constant
    lens = {len(o) for o in out_strs}
    if len(lens) == 1 and len(out_strs) >= 2 and max(lens) not in INT_CONSTANTS:
        prob.int_consts.append((lens.pop(), 2))


def _common_substrings(strs: list[str], max_len: int) -> list[str]:
    """Maximal substrings (up to max_len) of strs[0] that occur in every string of strs."""
    if len(strs) < 2 or not strs[0]:
        return []
    first = strs[0]
    found: list[str] = []
    for length in range(min(len(first), max_len), 0, -1):
        for i in range(len(first) - length + 1):
            sub = first[i:i + length]
            if sub.strip() and all(sub in s for s in strs[1:]) and not any(sub in f for f in found):
                found.append(sub)
    return found[:6]


def _output_fragments(prob: Problem, in_strs: list[str], out_strs: list[str]) -> list[str]:
    frags: dict[str, None] = {}
    counts: dict[str, int] = {}
    for o in out_strs:
        counts[o] = counts.get(o, 0) + 1
    for o, k in counts.items():
        if k >= 2 and o and not any(o in s for s in in_strs):
            frags[o] = None
    if out_strs and len(out_strs) >= 2:
        first = out_strs[0]
        found: list[str] = []
        for length in range(min(len(first), 12), 0, -1):
            for i in range(len(first) - length + 1):
                sub = first[i:i + length]
                if sub.strip() == "" and length > 1:
                    continue
                if (all(sub in o for o in out_strs[1:]) and not all(sub in s for s in in_strs[:1])
                        and not any(sub in f for f in found)):
                    found.append(sub)
        for s in found[:6]:
            if not s.isalnum() or len(s) > 1:
                frags[s] = None
    return list(frags)


def fresh_names(taken: list[str], k: int) -> list[str]:
    names = [n for n in NAME_POOL if n not in taken]
    i = 0
    while len(names) < k:
        names += [f"v{i}"] if f"v{i}" not in taken else []
        i += 1
    return names[:k]


_GRAVEYARD: list[Any] = []


def release() -> None:
    """Free the value tables of earlier searches (and give the collector back what was frozen).

    Freeing a 10-second search's tables takes about half a second, so it happens in a
    background thread: a search running meanwhile only gets less CPU, its clock stays right.
    """
    dead = list(_GRAVEYARD)
    _GRAVEYARD.clear()

    def free() -> None:
        dead.clear()
        gc.unfreeze()
    threading.Thread(target=free, name="bombe-enumerate-release", daemon=True).start()


class Search:
    """One problem's enumeration plus its per-level shortcuts, advanced in time slices."""

    def __init__(self, prob: Problem, *, depth: int, value_budget: int, base: int = 0,
                 wrap: Callable[[Candidate], Candidate | None] | None = None) -> None:
        self.prob = prob
        self.depth = depth
        ops = select_ops(prob.arg_types, prob.out_type)
        if depth >= 1:
            # element functions of a deduced map/filter/zip/scan rarely need lambdas of their own;
            # without lambda worlds the sub-search runs several times faster
            ops = [o for o in ops if not o.lambda_arity]
        self.en = Enumerator(prob, ops, value_budget=value_budget)
        self.unify = deduce.Unifier(self.en, prob, depth)
        self.gen = self.en.run()
        self.base = base
        self.wrap = wrap
        self.spent = 0.0
        self.finished = False
        self._taken = 0

    def next_total(self) -> int:
        """Cost of the cheapest program this search has not yet ruled out (in the parent's terms)."""
        return self.base + self.en.cost + 1

    def advance(self, until: float) -> list[Candidate]:
        """Run until `until` or the end of the current cost level; return new consistent programs."""
        t0 = time.perf_counter()
        self.en.pause_at = until
        raw: list[Candidate] = []
        if self.unify.pending and time.perf_counter() < until:
            self.unify.pending = False
            raw.extend(self.unify.after_level(self.depth))
        for ev in self.gen:
            for c, e in self.en.solutions[self._taken:]:
                raw.append(Candidate(c, e))
            self._taken = len(self.en.solutions)
            if ev == LEVEL_DONE:
                if time.perf_counter() < until:  # the shortcuts are not time-checked inside
                    raw.extend(self.unify.after_level(self.depth))
                else:
                    self.unify.pending = True
                break
            if time.perf_counter() >= until:
                break
        else:
            self.finished = True
        self.spent += time.perf_counter() - t0
        if self.wrap is None:
            return raw
        out = []
        for cand in raw:
            wrapped = self.wrap(cand)
            if wrapped is not None:
                out.append(wrapped)
        return out


# How much a second of search time raises an entity's priority (in cost units): lets deductions
# that start from a higher base cost get their turn instead of waiting for a slow level.
TIME_WEIGHT = 4.0
SLICE = 0.15


def solve(prob: Problem, deadline: float, *, value_budget: int = 2_000_000, depth: int = 0) -> list[Candidate]:
    """Search until the deadline; return consistent programs, best first (maybe empty).

    The plain enumeration and the deduced sub-problems are scheduled jointly in cost order
    (adjusted by the time each has used), so the first program found is (nearly) the cheapest.
    """
    start = time.perf_counter()
    total = max(deadline - start, 1e-3)
    main = Search(prob, depth=depth, value_budget=value_budget)
    entities = [main]
    found: list[Candidate] = []
    best: Candidate | None = None
    settle_at: float | None = None
    deduced = depth >= 1 or prob.out_type not in (LINT, LSTR)
    deduce_at = start + 0.1 * total
    while True:
        now = time.perf_counter()
        if now >= deadline or (settle_at is not None and now >= settle_at):
            break
        if not deduced and (now >= deduce_at or main.en.cost >= 4):
            deduced = True
            for base, sub, wrap in deduce.list_jobs(main.en, prob):
                entities.append(Search(sub, depth=depth + 1, value_budget=value_budget // 4, base=base, wrap=wrap))
        alive = [e for e in entities if not e.finished]
        if not alive:
            break
        if best is not None and best.cost < min(e.next_total() for e in alive):
            break  # nothing cheaper can come
        ent = min(alive, key=lambda e: e.next_total() + TIME_WEIGHT * e.spent)
        limit = min(deadline, now + SLICE, settle_at or deadline)
        if not deduced:
            limit = min(limit, deduce_at)
        for cand in ent.advance(limit):
            found.append(cand)
            if best is None or cand.rank() < best.rank():
                best = cand
                # Keep looking for a cheaper program for a while: longer when the one in hand
                # is much bigger than what the search has ruled out (likely an over-fitted
                # case split or concatenation).
                t = time.perf_counter()
                open_costs = [e.next_total() for e in entities if not e.finished]
                gap = max(0, best.cost - min(open_costs)) if open_costs else 0
                settle_at = min(deadline, t + max(1.0, 2.0 * (t - start)) + 0.5 * gap)
    # Freeing millions of values takes a noticeable time: keep them until the next search starts
    # (release()), so a caller's time limit is not spent on tearing down this one.
    _GRAVEYARD.append(entities)
    # rank: cost, fewer unexplained constants, fewer case splits; keep distinct programs
    uniq: dict[str, Candidate] = {}
    for cand in sorted(found, key=Candidate.rank):
        uniq.setdefault(repr(cand.expr), cand)
    return list(uniq.values())

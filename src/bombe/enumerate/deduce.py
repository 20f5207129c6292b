"""The shortcuts that make symbolic synthesizers strong, built on the enumerator's value tables.

- If-then-else unification: programs right on a subset of the examples, joined by a condition
  that separates the subsets.
- Concatenation splitting: a string output as a sequence of parts, each part a known value
  (or a constant shared by all examples).
- List deductions: when the output list lines up with a list the search already knows, read the
  per-element examples off the pair and solve the element function as a smaller problem (map,
  filter, zipWith, scanl1).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import dsl
from .dsl import BOOL, INT, STR
from .evaluate import build
from .evaluate import cost as expr_cost
from .search import W_TASK, Enumerator, Problem, freeze

if TYPE_CHECKING:
    from .solver import Candidate

MAX_DC_BITS = 10       # enumerate at most 2**10 completions of a condition's don't-care examples
MAX_CONCAT_STATES = 3000
MAX_JOBS = 40


def _mask(value: tuple, target: tuple) -> int:
    m = 0
    for i, (a, b) in enumerate(zip(value, target)):
        if a == b:
            m |= 1 << i
    return m


class Unifier:
    """Runs the per-level shortcuts (if-unification, concatenation) over a live Enumerator."""

    def __init__(self, en: Enumerator, prob: Problem, depth: int = 0) -> None:
        self.depth = depth
        self.en = en
        self.p = prob
        self.n = len(prob.inputs)
        self.full = (1 << self.n) - 1
        self.partial: dict[int, tuple[int, tuple]] = {}   # mask -> cheapest (cost, expr) right on it
        self.bools: dict[int, tuple[int, tuple]] = {}     # truth mask -> cheapest (cost, expr)
        self.scanned = {"out": 0, "bool": 0, "str": 0}
        self.str_index: dict[str, list[tuple[int, tuple, tuple]]] = {}
        self.best_if: int | None = None
        self.pending = False  # a level ended with no time left for the shortcuts
        self.best_concat: int | None = None

    def _new_values(self, t: str, key: str) -> Iterator[tuple[int, tuple, tuple]]:
        levels = self.en.bank[W_TASK].get(t, [])
        start = self.scanned[key]
        for c in range(start, min(len(levels), self.en.cost + 1)):
            for v, e in levels[c]:
                yield c, v, e
        self.scanned[key] = self.en.cost + 1

    def after_level(self, depth: int) -> list[Candidate]:
        from .solver import Candidate
        found: list[Candidate] = []
        if self.n >= 2:
            target = self.p.outputs
            changed = False
            for c, v, e in self._new_values(self.p.out_type, "out"):
                m = _mask(v, target)
                if m and m != self.full and (m not in self.partial or self.partial[m][0] > c):
                    self.partial[m] = (c, e)
                    changed = True
            for c, v, e in self._new_values(BOOL, "bool"):
                m = _mask(v, (True,) * self.n)
                if m not in self.bools:
                    self.bools[m] = (c, e)
                    changed = True
            if changed and self.partial:
                got = self.unify()
                if got is not None and (self.best_if is None or got[0] < self.best_if):
                    self.best_if = got[0]
                    found.append(Candidate(got[0], got[1], "if"))
        if self.p.out_type == STR:
            got = self.concat()
            if got is not None and (self.best_concat is None or got[0] < self.best_concat):
                self.best_concat = got[0]
                found.append(Candidate(got[0], got[1], "concat"))
        return found

    # ------------------------------------------------------------------ if-then-else
    def _pareto(self) -> list[tuple[int, int, tuple]]:
        """Partial solutions not dominated by a cheaper (or equal) one that is right on more examples."""
        items = sorted(((c, m, e) for m, (c, e) in self.partial.items()), key=lambda x: (x[0], -x[1].bit_count()))
        kept: list[tuple[int, int, tuple]] = []
        for c, m, e in items:
            if any((m & km) == m for _, km, _ in kept):
                continue
            kept.append((c, m, e))
            if len(kept) >= 200:
                break
        return kept

    def _cond(self, true_bits: int, false_bits: int) -> tuple[int, tuple] | None:
        """Cheapest boolean that is True on true_bits and False on false_bits (others free)."""
        dc = self.full & ~(true_bits | false_bits)
        dc_bits = [1 << i for i in range(self.n) if dc >> i & 1]
        best = None
        if len(dc_bits) <= MAX_DC_BITS:
            for k in range(1 << len(dc_bits)):
                m = true_bits
                for j, b in enumerate(dc_bits):
                    if k >> j & 1:
                        m |= b
                got = self.bools.get(m)
                if got is not None and (best is None or got[0] < best[0]):
                    best = got
            return best
        for m, got in self.bools.items():
            if (m & true_bits) == true_bits and not (m & false_bits) and (best is None or got[0] < best[0]):
                best = got
        return best

    def unify(self) -> tuple[int, tuple] | None:
        pareto = self._pareto()
        if_op = dsl.IFS.get(self.p.out_type)
        if if_op is None:
            return None
        memo: dict[tuple[int, int], tuple[int, tuple] | None] = {}
        max_branches = 3 if self.n <= 12 else 2
        # Occam guard: with few examples any two programs and a separating test "explain" them;
        # except for strings (which carry a lot of evidence), a branch must explain 2+ examples.
        min_branch = 1 if self.p.out_type == STR else 2
        max_branches = min(max_branches, max(1, self.n // min_branch))
        # With few non-string examples also ask for a simple test and branches no bigger than
        # the evidence they explain (each example buys about two nodes).
        strict = self.p.out_type != STR and self.n < 10
        max_cond = 4 if strict else 99
        if self.depth >= 1:
            # element examples of a deduced sub-problem come from a few lists and are not
            # independent evidence: one test, two branches
            max_branches, max_cond = 2, 5

        def small_enough(cost: int, covered: int) -> bool:
            return not strict or cost <= 2 * covered + 2

        def cover(S: int, k: int) -> tuple[int, tuple] | None:
            key = (S, k)
            if key in memo:
                return memo[key]
            best: tuple[int, tuple] | None = None
            if k == max_branches or S.bit_count() >= min_branch:
                for c, m, e in pareto:
                    if (m & S) == S:
                        if k == max_branches or small_enough(c, S.bit_count()):
                            best = (c, e)
                        break  # pareto is in cost order
            if k > 1:
                for c, m, e in pareto:
                    if best is not None and c + 3 >= best[0]:
                        break
                    T = m & S
                    if not T or T == S or T.bit_count() < min_branch or not small_enough(c, T.bit_count()):
                        continue
                    rest = cover(S & ~T, k - 1)  # noqa: F821 - defined; deleted after use
                    if rest is None or (best is not None and c + rest[0] + 3 >= best[0]):
                        continue
                    cond = self._cond(T, S & ~T)
                    if cond is None or cond[0] > max_cond:
                        continue
                    total = if_op.cost + cond[0] + c + rest[0]
                    if best is None or total < best[0]:
                        best = (total, (if_op, cond[1], e, rest[1]))
            memo[key] = best
            return best

        result = cover(self.full, max_branches)
        del cover  # the recursive closure refers to itself: break the cycle so the tables can be freed
        return result

    # ------------------------------------------------------------------ concatenation
    def concat(self) -> tuple[int, tuple] | None:
        target = self.p.outputs
        for c, v, e in self._new_values(STR, "str"):
            if any(v) and all(a in b for a, b in zip(v, target)):
                self.str_index.setdefault(v[0], []).append((c, v, e))
        if not self.str_index:
            return None
        return split_concat(target, self.str_index, self._const_cost, self._cond_part)

    def _cond_part(self, parts: list[str]) -> tuple[int, tuple] | None:
        """A part that is one of 2-3 constants, chosen by a test (e.g. "Mr. " or "Ms. ")."""
        vals = list(dict.fromkeys(parts))
        if not 2 <= len(vals) <= 3 or self.n < 3:
            return None
        masks = [sum(1 << i for i, p in enumerate(parts) if p == v) for v in vals]
        consts = [("const", v, STR, self._const_cost(v)) for v in vals]
        ccost = [self._const_cost(v) for v in vals]
        if_op = dsl.IFS[STR]
        best = None
        for a in range(len(vals)):
            cond = self.bools.get(masks[a])
            if cond is None:
                continue
            others = [j for j in range(len(vals)) if j != a]
            if len(others) == 1:
                rest = (ccost[others[0]], consts[others[0]])
            else:
                b, c = others
                cond2 = self._cond(masks[b], masks[c])
                if cond2 is None:
                    continue
                rest = (if_op.cost + cond2[0] + ccost[b] + ccost[c], (if_op, cond2[1], consts[b], consts[c]))
            total = if_op.cost + cond[0] + ccost[a] + rest[0]
            if best is None or total < best[0]:
                best = (total, (if_op, cond[1], consts[a], rest[1]))
        return best

    def _const_cost(self, s: str) -> int:
        for value, c in self.p.str_consts:
            if value == s:
                return c
        return 2 + len(s) // 4


def split_concat(target: tuple, index: dict[str, list[tuple[int, tuple, tuple]]], const_cost,
                 cond_part: Callable[[list[str]], tuple[int, tuple] | None] | None = None) -> tuple[int, tuple] | None:
    """Cheapest way to write each target string as a concatenation of known values and shared constants."""
    n = len(target)
    concat = dsl.CONCAT
    goal = tuple(len(t) for t in target)
    start = (0,) * n
    heap: list[tuple[int, int, tuple, Any]] = [(0, 0, start, None)]
    done: dict[tuple, int] = {}
    tie = 0
    expansions = 0
    while heap:
        cost, _, state, parts = heapq.heappop(heap)
        if state in done:
            continue
        done[state] = cost
        if state == goal:
            exprs = []
            while parts is not None:
                exprs.append(parts[0])
                parts = parts[1]
            exprs.reverse()
            if len(exprs) < 2:
                return None  # a single part is a plain solution; the enumerator reports it
            expr = exprs[0]
            for e in exprs[1:]:
                expr = (concat, expr, e)
            return cost, expr
        expansions += 1
        if expansions > MAX_CONCAT_STATES:
            return None
        rests = [t[p:] for t, p in zip(target, state)]
        step = concat.cost if state != start else 0
        r0 = rests[0]
        for L in range(len(r0) + 1):
            for c, v, e in index.get(r0[:L], ()):
                if all(r.startswith(x) for r, x in zip(rests, v)):
                    nxt = tuple(p + len(x) for p, x in zip(state, v))
                    if nxt != state and nxt not in done:
                        tie += 1
                        heapq.heappush(heap, (cost + c + step, tie, nxt, (e, parts)))
        # a constant shared by every example at this point
        lcp = rests[0]
        for r in rests[1:]:
            k = 0
            while k < len(lcp) and k < len(r) and lcp[k] == r[k]:
                k += 1
            lcp = lcp[:k]
        for L in range(1, len(lcp) + 1):
            s = lcp[:L]
            nxt = tuple(p + L for p in state)
            if nxt not in done:
                cc = const_cost(s)
                tie += 1
                heapq.heappush(heap, (cost + cc + step, tie, nxt, (("const", s, STR, cc if cc > 1 else False), parts)))
        # a part that differs between examples but takes only a few values: a word or the rest
        if cond_part is not None and all(rests):
            tried: set[tuple] = set()
            for k in range(3):
                pref = []
                for r in rests:
                    cuts = [j + 1 for j, ch in enumerate(r) if ch == " "] + [len(r)]
                    pref.append(r[:cuts[min(k, len(cuts) - 1)]])
                key = tuple(pref)
                if key in tried:
                    continue
                tried.add(key)
                got = cond_part(pref)
                if got is not None:
                    nxt = tuple(p + len(x) for p, x in zip(state, pref))
                    if nxt not in done:
                        tie += 1
                        heapq.heappush(heap, (cost + got[0] + step, tie, nxt, (got[1], parts)))
    return None


# ---------------------------------------------------------------------- list deductions
def _consistent(pairs: dict, key: Any, out: Any) -> bool:
    k = freeze(key)
    if k in pairs:
        return pairs[k][1] == out
    pairs[k] = (key, out)
    return True


def list_jobs(en: Enumerator, prob: Problem) -> list[tuple[int, Problem, Callable]]:
    """Sub-problems for map, filter, scanl1 and zipWith over the cheap lists the enumerator knows.

    Each job is (base cost, element problem, wrap) where wrap turns the element function found
    into a program for the task (or None if it does not reproduce the examples).
    """
    from .solver import TypeProblem, fresh_names, make_problem
    out_t = prob.out_type
    elem_t = dsl.element_type(out_t)
    outs = prob.outputs
    n = len(outs)
    # scanl1 is checked cheaply (same length, same first element), so it may start from bigger lists
    sources = [(c, v, e) for c, v, e in en.task_values(out_t, max_cost=5)][:600]
    jobs: list[tuple[int, int, str, tuple, list]] = []  # (total cost so far, order, kind, exprs, examples)
    names_taken = list(prob.arg_names)
    order = 0
    for c, v, e in sources:
        lens_equal = all(len(v[i]) == len(outs[i]) for i in range(n))
        if c > 3 and (not lens_equal or elem_t != INT
                      or not all(not v[i] or v[i][0] == outs[i][0] for i in range(n))):
            continue
        if lens_equal:
            pairs: dict = {}
            if c <= 3 and all(_consistent(pairs, (i, v[i][k]), outs[i][k]) for i in range(n) for k in range(len(v[i]))):
                ex = [((val[1],) + prob.inputs[val[0]], o) for val, o in pairs.values()]
                if any(val[1] != o for val, o in pairs.values()):
                    jobs.append((c + 1, order, "map", (e,), ex))
                    order += 1
            if elem_t == INT and all(not v[i] or v[i][0] == outs[i][0] for i in range(n)):
                pairs = {}
                if all(_consistent(pairs, (i, outs[i][k - 1], v[i][k]), outs[i][k])
                       for i in range(n) for k in range(1, len(v[i]))):
                    ex = [((val[1], val[2]) + prob.inputs[val[0]], o) for val, o in pairs.values()]
                    if ex:
                        jobs.append((c + 2, order, "scan", (e,), ex))
                        order += 1
        elif c <= 3:
            strict = any(len(outs[i]) < len(v[i]) for i in range(n))
            if strict and all(len(outs[i]) <= len(v[i]) for i in range(n)):
                ok = True
                pairs = {}
                for i in range(n):
                    keep = set(map(freeze, outs[i]))
                    if [x for x in v[i] if freeze(x) in keep] != list(outs[i]):
                        ok = False
                        break
                    for x in v[i]:
                        if not _consistent(pairs, (i, x), freeze(x) in keep):
                            ok = False
                            break
                if ok:
                    ex = [((val[1],) + prob.inputs[val[0]], o) for val, o in pairs.values()]
                    jobs.append((c + 2, order, "filter", (e,), ex))
                    order += 1
    if elem_t == INT:
        small = [s for s in sources if s[0] <= 3][:16]
        for ca, va, ea in small:
            for cb, vb, eb in small:
                if all(len(outs[i]) == min(len(va[i]), len(vb[i])) for i in range(n)):
                    pairs = {}
                    if all(_consistent(pairs, (i, va[i][k], vb[i][k]), outs[i][k])
                           for i in range(n) for k in range(len(outs[i]))):
                        ex = [((val[1], val[2]) + prob.inputs[val[0]], o) for val, o in pairs.values()]
                        if ex:
                            jobs.append((ca + cb + 2, order, "zip", (ea, eb), ex))
                            order += 1
    jobs.sort(key=lambda j: (j[0], j[1]))
    ops = {"map": dsl.MAP if elem_t == INT else dsl.MAP_STR,
           "filter": dsl.FILTER if elem_t == INT else dsl.FILTER_STR,
           "scan": dsl.SCANL1, "zip": dsl.ZIPWITH}
    out: list[tuple[int, Problem, Callable]] = []
    for base, _, kind, srcs, ex in jobs[:MAX_JOBS]:
        names = fresh_names(names_taken, 2 if kind in ("scan", "zip") else 1)
        try:
            sub = make_problem([(list(a), o) for a, o in ex], names + list(prob.arg_names))
        except TypeProblem:
            continue
        op = ops[kind]
        out.append((op.cost + sum(expr_cost(e) for e in srcs), sub, _wrapper(op, kind, names, srcs, prob)))
    return out


def _wrapper(op: dsl.Op, kind: str, names: list[str], srcs: tuple, prob: Problem) -> Callable:
    """Turn a sub-problem's program (the element function) into a program for the task."""
    from .solver import Candidate
    base = op.cost + sum(expr_cost(e) for e in srcs)

    def wrap(cand: Candidate) -> Candidate | None:
        if kind == "zip" and not all(_uses_var(cand.expr, nm) for nm in names):
            return None  # zipping with a function of one side only truncates: Take says that plainly
        expr = (op, ("bind", tuple(names), cand.expr)) + tuple(srcs)
        return Candidate(base + cand.cost, expr, kind) if verify(expr, prob) else None
    return wrap


def _uses_var(expr: tuple, name: str) -> bool:
    if expr[0] == "var":
        return expr[1] == name
    if expr[0] == "bind":
        return _uses_var(expr[2], name)
    if type(expr[0]) is str:
        return False
    return any(_uses_var(c, name) for c in expr[1:])


def verify(expr: tuple, prob: Problem) -> bool:
    """Does `expr` reproduce every example? (Evaluated directly, not from the value tables.)"""
    f = build(expr, prob.arg_names)
    try:
        return all(f(inp, ()) == out for inp, out in zip(prob.inputs, prob.outputs))
    except Exception:  # noqa: BLE001 - a failing program or operator is just no value
        return False

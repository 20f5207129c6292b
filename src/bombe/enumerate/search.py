"""Bottom-up enumeration in cost order with observational-equivalence pruning.

Values live in *worlds*. World 0 is the task: a value is the tuple of an expression's results
over the examples. Lambda bodies live in their own worlds whose points are (example, lambda
argument) pairs drawn from probe sets: two bodies that agree on every probe point are one body,
whatever their text. Task-level values enter lambda worlds broadcast (constant in the lambda
arguments). A higher-order op in world 0 applies a lambda by reading its probe table and falls
back to running the body's closure for arguments off the probe set.

The enumerator is a generator: it yields when the pause time passes (so the caller can run
deductions and resume) and at the end of every cost level.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise, product
from typing import Any

from . import dsl
from .dsl import BOOL, INT, LINT, LSTR, STR, Op
from .evaluate import Closure, build

LEVEL_DONE = "level"
PAUSED = "pause"

W_TASK, W_L1, W_L2, W_L1S = 0, 1, 2, 3
SCALARS = (INT, BOOL, STR)
LAMBDA_INT_LIMIT = 1 << 20


class Exhausted(Exception):
    pass


def freeze(value: Any) -> Any:
    """A hashable key for a value (lists become tuples)."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


@dataclass
class Problem:
    """A typed synthesis problem: inputs per example (positional), outputs, names and types."""

    inputs: list[tuple]
    outputs: tuple
    arg_names: list[str]
    arg_types: list[str]
    out_type: str
    int_lo: int = -256
    int_hi: int = 255
    max_str: int = 100
    max_list: int = 64
    str_consts: list[tuple[str, int]] = field(default_factory=list)   # (constant, cost)
    int_consts: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Stats:
    kept: int = 0
    tried: int = 0
    levels: int = 0


class Enumerator:
    """Bottom-up cost-ordered enumeration with OE pruning for one Problem."""

    def __init__(self, prob: Problem, ops: list[Op], *, value_budget: int = 2_000_000,
                 oe: bool = True, max_cost: int = 40) -> None:
        self.p = prob
        self.n = len(prob.inputs)
        self.oe = oe
        self.value_budget = value_budget
        self.max_cost = max_cost
        self.stats = Stats()
        self.pause_at = float("inf")
        self.cost = 0  # highest completed level
        self.target = prob.outputs
        self.target_key = freeze(prob.outputs)
        self.solutions: list[tuple[int, tuple]] = []  # (cost, expr) consistent with all examples
        self.first_ops = [o for o in ops if not o.lambda_arity and o.name != "If"]
        self.hof_ops = [o for o in ops if o.lambda_arity]
        self.lambda_ops = [o for o in ops if not o.lambda_arity and o.ret in SCALARS
                           and all(t in SCALARS or t in (LINT, LSTR) for t in o.arg_types)]
        worlds = {W_TASK}
        for o in self.hof_ops:
            worlds.add({(INT,): W_L1, (INT, INT): W_L2, (STR,): W_L1S}[o.lambda_types])
        self.worlds = sorted(worlds)
        # bank[w][type] is a list indexed by cost of lists of (value, expr)
        self.bank: dict[int, dict[str, list[list[tuple]]]] = {w: {} for w in self.worlds}
        self.seen: dict[int, dict[str, dict]] = {w: {} for w in self.worlds}
        self._bcast_cache: dict[tuple[int, str, int], list[tuple]] = {}
        # lambda bodies that fail on some probe points (usable only as whole bodies)
        self.pbank: dict[tuple[int, str], list[list[tuple]]] = {}
        self.pseen: dict[tuple[int, str], dict] = {}
        self._closures: dict[int, tuple[tuple, Closure]] = {}
        self._setup_lambda_worlds()

    # ------------------------------------------------------------------ lambda worlds
    def _setup_lambda_worlds(self) -> None:
        self.points: dict[int, list[tuple[int, tuple]]] = {}
        self.pos: dict[int, list[dict]] = {}
        for w in self.worlds:
            if w == W_TASK:
                continue
            pts: list[tuple[int, tuple]] = []
            for i in range(self.n):
                for args in self._probe_args(w, i):
                    pts.append((i, args))
            self.points[w] = pts
            pos: list[dict] = [{} for _ in range(self.n)]
            for k, (i, args) in enumerate(pts):
                pos[i][args if w == W_L2 else args[0]] = k
            self.pos[w] = pos

    def _probe_args(self, w: int, i: int) -> list[tuple]:
        """Probe arguments for lambda world `w` in example `i`: the values lambdas will meet.

        Bodies are kept only if they succeed on every probe point, so the probes are the
        elements lambdas are actually applied to (list elements, aligned pairs), not extra ints.
        """
        values = list(self.p.inputs[i])
        out = self.p.outputs[i]
        if w in (W_L1, W_L2):
            lists = [v for v in values if isinstance(v, list) and v and type(v[0]) is int]
            if w == W_L1:
                elems = list(dict.fromkeys(x for xs in lists for x in xs))
                return [(u,) for u in (elems or [0, 1, 2])[:24]]
            pairs: dict[tuple, None] = {}
            for xs in lists:
                pairs.update(dict.fromkeys(pairwise(xs)))
                for ys in lists:
                    if ys is not xs:  # zipping a list with itself is a map
                        pairs.update(dict.fromkeys(zip(xs, ys)))
                pairs.update(dict.fromkeys(zip(xs, xs[::-1])))
                if isinstance(out, list):
                    pairs.update(dict.fromkeys(zip(out, xs[1:])))
            return list(pairs)[:32] or [(0, 1), (1, 2)]
        strs: list[str] = []
        for v in values:
            if isinstance(v, str):
                strs.extend(v.split())
            elif isinstance(v, list):
                strs.extend(x for x in v if isinstance(x, str))
        return [(s,) for s in dict.fromkeys(strs or ["a"])][:24]

    def _bcast(self, w: int, t: str, c: int) -> list[tuple]:
        """Task-level values of type t and cost c, spread over world w's points."""
        key = (w, t, c)
        got = self._bcast_cache.get(key)
        if got is None:
            ex_of = [i for i, _ in self.points[w]]
            src = self._level_list(W_TASK, t, c)
            got = [(tuple([v[i] for i in ex_of]), e) for v, e in src]
            if c <= self.cost:  # only cache complete levels
                self._bcast_cache[key] = got
        return got

    def _level_list(self, w: int, t: str, c: int) -> list[tuple]:
        lv = self.bank[w].get(t)
        if lv is None or c >= len(lv):
            return []
        return lv[c]

    def closure(self, expr: tuple) -> Closure:
        got = self._closures.get(id(expr))
        if got is None:
            got = (expr, build(expr, self.p.arg_names))
            self._closures[id(expr)] = got
        return got[1]

    # ------------------------------------------------------------------ storing values
    def _store(self, w: int, t: str, c: int, value: tuple, expr: tuple) -> bool:
        """Keep `value` unless an equal one is already known (observational equivalence)."""
        key = value if t in SCALARS else freeze(value)
        seen = self.seen[w].setdefault(t, {})
        if key in seen and self.oe:
            if w == W_TASK and t == self.p.out_type and key == self.target_key:
                self.solutions.append((c, expr))
            return False
        seen[key] = expr
        levels = self.bank[w].setdefault(t, [])
        while len(levels) <= c:
            levels.append([])
        levels[c].append((value, expr))
        self.stats.kept += 1
        if w == W_TASK and t == self.p.out_type and key == self.target_key:
            self.solutions.append((c, expr))
        if self.stats.kept > self.value_budget:
            raise Exhausted("value budget")
        return True

    def _valid_task(self, t: str, r: tuple, check_ints: bool) -> bool:
        p = self.p
        if t == INT:
            if check_ints:
                return p.int_lo <= min(r) and max(r) <= p.int_hi
            return True
        if t == STR:
            return max(map(len, r)) <= p.max_str
        if t == LINT:
            lo, hi, ml = p.int_lo, p.int_hi, p.max_list
            for xs in r:
                if len(xs) > ml:
                    return False
                if check_ints and xs and (min(xs) < lo or max(xs) > hi):
                    return False
            return True
        if t == LSTR:
            return all(len(xs) <= p.max_list for xs in r)
        return True

    def _partial(self, w: int, o: Op, c: int, args: tuple, expr: tuple) -> None:
        """Table a lambda body point by point, None where it fails; keep it if it works somewhere."""
        f = o.fn
        out = []
        for xs in zip(*args):
            try:
                out.append(f(*xs))
            except Exception:  # noqa: BLE001 - a failing program or operator is just no value
                out.append(None)
        r = tuple(out)
        if r.count(None) == len(r):
            return
        if o.ret == INT and o.makes_ints and any(v is not None and abs(v) > LAMBDA_INT_LIMIT for v in r):
            return
        seen = self.pseen.setdefault((w, o.ret), {})
        if r in seen:
            return
        seen[r] = expr
        levels = self.pbank.setdefault((w, o.ret), [])
        while len(levels) <= c:
            levels.append([])
        levels[c].append((r, expr))
        self.stats.kept += 1

    @staticmethod
    def _valid_lambda(t: str, r: tuple, check_ints: bool) -> bool:
        """Lambda tables are kept unless absurd: the task's integer range applies to what a
        higher-order op returns, not to a body on probe points (x * y is fine on the pairs
        that are actually zipped, even if some other probe pair multiplies out of range)."""
        if t == INT and check_ints:
            return -LAMBDA_INT_LIMIT <= min(r) and max(r) <= LAMBDA_INT_LIMIT
        if t == STR:
            return max(map(len, r)) <= 200
        return True

    # ------------------------------------------------------------------ the levels
    def run(self) -> Iterator[str]:
        """Enumerate level by level; yields PAUSED when pause_at passes and LEVEL_DONE after each level."""
        try:
            c = 1
            while c <= self.max_cost:
                # A lambda body of cost b is first usable by a task-level value of cost b + 2
                # (Map(f, xs)): fill lambda levels just in time, two behind, since they are the
                # largest tables and most of a level would otherwise never be used.
                if c > 2:
                    for w in self.worlds:
                        if w != W_TASK:
                            yield from self._level_lambda(w, c - 2)
                yield from self._level_task(c)
                self.cost = c
                self.stats.levels = c
                yield LEVEL_DONE
                c += 1
        except Exhausted:
            return

    def _leaves(self, c: int) -> None:
        p = self.p
        for name, t, col in zip(p.arg_names, p.arg_types, zip(*p.inputs) if p.inputs else []):
            if c == 1:
                self._store(W_TASK, t, 1, tuple(col), ("var", name, t))
        for value, cc in p.int_consts:
            if cc == c:
                self._store(W_TASK, INT, c, (value,) * self.n, ("const", value, INT, cc > 1))
        for value, cc in p.str_consts:
            if cc == c:
                self._store(W_TASK, STR, c, (value,) * self.n, ("const", value, STR, cc > 1))
        if c == 1 and (p.out_type == BOOL or BOOL in p.arg_types):
            for b in (True, False):
                self._store(W_TASK, BOOL, 1, (b,) * self.n, ("const", b, BOOL))

    def _splits(self, total: int, k: int) -> Iterator[tuple[int, ...]]:
        if k == 1:
            if total >= 1:
                yield (total,)
            return
        for first in range(1, total - k + 2):
            for rest in self._splits(total - first, k - 1):
                yield (first,) + rest

    def _arg_splits(self, o: Op, budget: int) -> Iterator[tuple[int, ...]]:
        """Ways to share `budget` among o's arguments, within o's per-argument cost caps."""
        limits = dict(o.arg_max_cost)
        for split in self._splits(budget, o.arity):
            if not limits or all(split[j] <= m for j, m in limits.items()):
                yield split

    def _level_task(self, c: int) -> Iterator[str]:
        self._leaves(c)
        for o in self.first_ops:
            budget = c - o.cost
            if budget < o.arity:
                continue
            for split in self._arg_splits(o, budget):
                lists = [self._level_list(W_TASK, t, cc) for t, cc in zip(o.arg_types, split)]
                if all(lists):
                    yield from self._apply_task(o, c, lists)
        for o in self.hof_ops:
            budget = c - o.cost
            if budget < o.arity:
                continue
            yield from self._apply_hof(o, c, budget)

    def _tick(self) -> bool:
        return time.perf_counter() > self.pause_at

    def _apply_task(self, o: Op, c: int, lists: list[list[tuple]], w: int = W_TASK) -> Iterator[str]:
        """Apply o to every combination of argument values; failures and out-of-range values are dropped."""
        f, t = o.fn, o.ret
        if w == W_TASK:
            ok, store = self._valid_task, self._store
        else:
            ok, store = self._valid_lambda, (lambda _w, t, c, r, e: self._store(w, t, c, r, e))
        check = o.makes_ints
        cnt = 0
        stats = self.stats
        # In lambda worlds a body that fails on some probe points is kept aside (partial)
        # for the higher-order ops, which run it for real on the elements they meet.
        failed = None if w == W_TASK else (lambda args, expr: self._partial(w, o, c, args, expr))
        if o.arity == 1:
            for v0, e0 in lists[0]:
                cnt += 1
                if not cnt & 255 and self._tick():
                    yield PAUSED
                try:
                    r = tuple(map(f, v0))
                except Exception:  # noqa: BLE001 - a failing program or operator is just no value
                    if failed is not None:
                        failed((v0,), (o, e0))
                    continue
                if ok(t, r, check):
                    store(W_TASK, t, c, r, (o, e0))
        elif o.arity == 2:
            for v0, e0 in lists[0]:
                for v1, e1 in lists[1]:
                    cnt += 1
                    if not cnt & 255 and self._tick():
                        yield PAUSED
                    try:
                        r = tuple(map(f, v0, v1))
                    except Exception:  # noqa: BLE001 - a failing program or operator is just no value
                        if failed is not None:
                            failed((v0, v1), (o, e0, e1))
                        continue
                    if ok(t, r, check):
                        store(W_TASK, t, c, r, (o, e0, e1))
        else:
            for v0, e0 in lists[0]:
                for v1, e1 in lists[1]:
                    for v2, e2 in lists[2]:
                        cnt += 1
                        if not cnt & 255 and self._tick():
                            yield PAUSED
                        try:
                            r = tuple(map(f, v0, v1, v2))
                        except Exception:  # noqa: BLE001 - a failing program or operator is just no value
                            if failed is not None:
                                failed((v0, v1, v2), (o, e0, e1, e2))
                            continue
                        if ok(t, r, check):
                            store(W_TASK, t, c, r, (o, e0, e1, e2))
        stats.tried += cnt

    # ------------------------------------------------------------------ higher-order ops
    def _lambda_world(self, o: Op) -> int:
        return {(INT,): W_L1, (INT, INT): W_L2, (STR,): W_L1S}[o.lambda_types]

    def _apply_hof(self, o: Op, c: int, budget: int) -> Iterator[str]:
        w = self._lambda_world(o)
        list_types = o.arg_types[1:]
        for split in self._splits(budget, o.arity):
            cf, rest = split[0], split[1:]
            lists = [self._level_list(W_TASK, t, cc) for t, cc in zip(list_types, rest)]
            if not all(lists):
                continue
            bodies = list(self._level_list(w, o.lambda_ret, cf))
            partial = self.pbank.get((w, o.lambda_ret), [])
            if cf < len(partial):
                bodies += partial[cf]
            if o.name == "ZipWith":
                # a body ignoring a parameter only truncates (Take does that more plainly)
                bodies = [b for b in bodies if _lam_uses(b[1]) == 3]
            if o.name in ("Map", "ZipWith", "Scanl1", "MapStr"):
                # constant lambdas: a task-level value used as the body
                bodies += [(None, e) for _, e in self._level_list(W_TASK, o.lambda_ret, cf)]
            if not bodies:
                continue
            yield from self._apply_hof_split(o, c, w, bodies, lists)

    def _lam_caller(self, w: int, sig: tuple | None, expr: tuple):
        """A function (example, *args) -> value for one lambda body; None marks an error."""
        pos = self.pos[w]
        if sig is None:  # constant body: a task-level expression
            clo = self.closure(expr)
            inputs = self.p.inputs
            cache: dict[int, Any] = {}

            def const_call(i: int, *args: Any) -> Any:
                if i not in cache:
                    try:
                        cache[i] = clo(inputs[i], ())
                    except Exception:  # noqa: BLE001 - a failing program or operator is just no value
                        cache[i] = None
                return cache[i]
            # a constant body is a task-level value of the lambda's type; its table is exact
            return const_call
        inputs = self.p.inputs
        clo = None
        key_pair = w == W_L2
        lo, hi = self.p.int_lo, self.p.int_hi

        def call(i: int, *args: Any) -> Any:
            nonlocal clo
            k = pos[i].get(args if key_pair else args[0])
            if k is not None:
                v = sig[k]
                if v is not None:
                    return v
            if clo is None:
                clo = self.closure(expr)
            try:
                r = clo(inputs[i], args)
            except Exception:  # noqa: BLE001 - a failing program or operator is just no value
                return None
            # off-probe results get the same range check as tabled ones (else Scanl1 of
            # squaring grows doubly exponentially and never finishes)
            if type(r) is int and not lo <= r <= hi:
                return None
            return r
        return call

    def _apply_hof_split(self, o: Op, c: int, w: int, bodies: list[tuple], lists: list[list[tuple]]
                         ) -> Iterator[str]:
        name, t, n = o.name, o.ret, self.n
        check = o.makes_ints
        ok, store = self._valid_task, self._store
        rng = range(n)
        cnt = 0
        for sig, be in bodies:
            call = self._lam_caller(w, sig, be)
            if name in ("Map", "MapStr", "Filter", "FilterStr", "Count", "Any", "All", "Scanl1"):
                for xs, le in lists[0]:
                    cnt += 1
                    if not cnt & 127 and self._tick():
                        yield PAUSED
                    r = self._hof1(name, call, xs, rng)
                    if r is not None and ok(t, r, check):
                        store(W_TASK, t, c, r, (o, be, le))
            else:  # ZipWith
                for xs, le in lists[0]:
                    for ys, le2 in lists[1]:
                        cnt += 1
                        if not cnt & 127 and self._tick():
                            yield PAUSED
                        out = []
                        for i in rng:
                            row = [call(i, a, b) for a, b in zip(xs[i], ys[i])]
                            if None in row:
                                break
                            out.append(row)
                        else:
                            r = tuple(out)
                            if ok(t, r, check):
                                store(W_TASK, t, c, r, (o, be, le, le2))
        self.stats.tried += cnt

    @staticmethod
    def _hof1(name: str, call, xs: tuple, rng: range) -> tuple | None:
        out = []
        for i in rng:
            col = xs[i]
            if name == "Scanl1":
                if not col:
                    out.append([])
                    continue
                acc = col[0]
                row = [acc]
                for u in col[1:]:
                    acc = call(i, acc, u)
                    if acc is None:
                        return None
                    row.append(acc)
                out.append(row)
                continue
            vals = [call(i, u) for u in col]
            if None in vals:
                return None
            if name in ("Map", "MapStr"):
                out.append(vals)
            elif name in ("Filter", "FilterStr"):
                out.append([u for u, keep in zip(col, vals) if keep])
            elif name == "Count":
                out.append(sum(1 for keep in vals if keep))
            elif name == "Any":
                out.append(any(vals))
            else:
                out.append(all(vals))
        return tuple(out)

    # ------------------------------------------------------------------ lambda bodies
    def _level_lambda(self, w: int, c: int) -> Iterator[str]:
        pts = self.points[w]
        if c == 1:
            arity = 2 if w == W_L2 else 1
            t = STR if w == W_L1S else INT
            for k in range(arity):
                vals = tuple(args[k] for _, args in pts)
                self._store(w, t, 1, vals, ("lam", k))
            return
        for o in self.lambda_ops:
            budget = c - o.cost
            if budget < o.arity:
                continue
            for split in self._arg_splits(o, budget):
                # each argument comes from the lambda world or (broadcast) the task; one must be lambda
                choices = []
                for t, cc in zip(o.arg_types, split):
                    opts = []
                    if t in SCALARS:
                        lam = self._level_list(w, t, cc)
                        if lam:
                            opts.append((True, lam))
                    bc = self._bcast(w, t, cc) if cc <= self.cost else []
                    if bc:
                        opts.append((False, bc))
                    choices.append(opts)
                if not all(choices):
                    continue
                for combo in product(*choices):
                    if not any(is_lam for is_lam, _ in combo):
                        continue
                    yield from self._apply_task(o, c, [lst for _, lst in combo], w)

    # ------------------------------------------------------------------ views for deductions
    def task_values(self, t: str, max_cost: int | None = None) -> Iterator[tuple[int, tuple, tuple]]:
        """(cost, value, expr) of task-level values of type t in cost order."""
        levels = self.bank[W_TASK].get(t, [])
        for c, lv in enumerate(levels):
            if max_cost is not None and c > max_cost:
                return
            for v, e in lv:
                yield c, v, e

    def task_seen(self, t: str) -> dict:
        return self.seen[W_TASK].get(t, {})


def _lam_uses(expr: tuple) -> int:
    """Bit k set if the innermost lambda's parameter k occurs in expr."""
    head = expr[0]
    if head == "lam":
        return 1 << expr[1]
    if type(head) is str:
        return 0
    kids = expr[2:] if head.lambda_arity else expr[1:]
    m = 0
    for c in kids:
        m |= _lam_uses(c)
    return m


def select_ops(arg_types: list[str], out_type: str) -> list[Op]:
    """Operators worth trying for these input/output types (narrowing keeps the space small)."""
    types = set(arg_types) | {out_type}
    has_str = STR in types or LSTR in types
    has_ilist = LINT in types
    has_num = INT in types or has_ilist
    groups = {"int", "cmp"}
    if has_num:
        groups.add("arith")
    if has_str:
        groups |= {"str", "strlist"}
    if has_ilist:
        groups |= {"list", "hof", "if", "range"}
        if out_type == BOOL:
            groups.add("hof_bool")
    if LSTR in types:
        groups.add("hof_str")
    if out_type == BOOL or BOOL in arg_types:
        groups.add("logic")
    ops = [o for o in dsl.OPS if o.group in groups]
    if has_str and not has_num:
        # among equal-cost programs the first found is kept: let string operations win ties
        # in string tasks (compare the texts rather than their lengths)
        ops.sort(key=lambda o: 0 if o.group.startswith("str") else 1)
    if not has_str:
        ops = [o for o in ops if STR not in o.arg_types and o.ret != STR and LSTR not in o.arg_types]
    if not has_num and not has_ilist:
        ops = [o for o in ops if LINT not in o.arg_types and o.ret != LINT]
    return ops

"""Render DSL expressions as readable Python, and rank/compare the programs search found.

Higher-order operators become comprehensions, shared sub-expressions become named locals,
and the function gets type hints and a docstring with a couple of the examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .dsl import P_ATOM, P_CALL, P_OR, P_UNARY, Op
from .evaluate import is_leaf, size

_PARAM_POOL = ("x", "y", "z", "v", "w", "a", "b", "c", "s", "t", "e", "n", "m", "k", "p", "q")
_LOCAL_NAMES = {"Find": "pos", "FindLast": "pos", "FindFrom": "pos", "Split": "parts", "Sort": "ordered",
                "Len": "length", "Length": "length", "Reverse": "backwards", "Lower": "lower", "Upper": "upper",
                "Sum": "total", "Minimum": "smallest", "Maximum": "largest", "Trim": "trimmed",
                "Filter": "kept", "Map": "mapped", "Head": "first", "Last": "last"}


class Renderer:
    def __init__(self, taken: list[str]) -> None:
        self.taken = set(taken)
        self.imports: list[str] = []

    def fresh(self, k: int, avoid: set[str]) -> list[str]:
        names = [p for p in _PARAM_POOL if p not in self.taken and p not in avoid][:k]
        i = 0
        while len(names) < k:
            cand = f"v{i}"
            if cand not in self.taken and cand not in avoid:
                names.append(cand)
            i += 1
        return names

    def expr(self, e: tuple, lam: tuple[str, ...] = (), scope: frozenset = frozenset()) -> tuple[str, int]:
        """(code, precedence) for expression e; lam names the innermost lambda's parameters."""
        head = e[0]
        if type(head) is str:
            if head == "var":
                return e[1], P_ATOM
            if head == "const":
                v = e[1]
                code = repr(v)
                return code, (P_UNARY if isinstance(v, int) and not isinstance(v, bool) and v < 0 else P_ATOM)
            if head == "lam":
                return lam[e[1]], P_ATOM
            raise ValueError(f"cannot render {e!r}")
        op: Op = head
        for imp in op.imports:
            if imp not in self.imports:
                self.imports.append(imp)
        if op.lambda_arity:
            return self._hof(op, e, lam, scope)
        parts = []
        for child, need in zip(e[1:], op.arg_prec):
            code, prec = self.expr(child, lam, scope)
            parts.append(f"({code})" if prec < need else code)
        return op.template.format(*parts), op.prec

    def _hof(self, op: Op, e: tuple, lam: tuple[str, ...], scope: frozenset) -> tuple[str, int]:
        body = e[1]
        if body[0] == "bind":
            params = tuple(body[1])
            inner_lam: tuple[str, ...] = ()
            body_expr = body[2]
            used = _uses_vars(body_expr, set(params))
        else:
            params = tuple(self.fresh(op.lambda_arity, set(scope) | set(lam)))
            inner_lam = params
            body_expr = body
            used = _uses_lam(body_expr)
        inner_scope = scope | set(params) | set(lam)
        self.taken |= set(params)
        b, bp = self.expr(body_expr, inner_lam, frozenset(inner_scope))
        lists = [self.expr(c, lam, scope)[0] for c in e[2:]]
        name = op.name
        if name in ("Map", "MapStr"):
            p = params[0] if used else "_"
            return f"[{b} for {p} in {lists[0]}]", P_ATOM
        cond = f"({b})" if bp < P_OR else b
        if name in ("Filter", "FilterStr"):
            return f"[{params[0]} for {params[0]} in {lists[0]} if {cond}]", P_ATOM
        if name == "Count":
            return f"sum(1 for {params[0]} in {lists[0]} if {cond})", P_CALL
        if name in ("Any", "All"):
            return f"{name.lower()}({cond} for {params[0]} in {lists[0]})", P_CALL
        if name == "ZipWith":
            return f"[{b} for {params[0]}, {params[1]} in zip({lists[0]}, {lists[1]})]", P_ATOM
        if name == "Scanl1":
            named = _named_binary(body_expr, params, inner_lam)
            if named == "add":
                return f"list(accumulate({lists[0]}))", P_CALL  # accumulate adds by default
            if named:
                return f"list(accumulate({lists[0]}, {named}))", P_CALL
            return f"list(accumulate({lists[0]}, lambda {params[0]}, {params[1]}: {b}))", P_CALL
        raise ValueError(name)


def _named_binary(body: tuple, params: tuple[str, ...], lam: tuple[str, ...]) -> str | None:
    """'add', 'max' or 'min' when the body is exactly that function of (first, second) parameter."""
    if type(body[0]) is str or len(body) != 3:
        return None
    first = ("lam", 0) if lam else ("var", params[0])
    second = ("lam", 1) if lam else ("var", params[1])
    if tuple(x[:2] for x in body[1:]) != (first, second):
        return None
    return {"Add": "add", "Max": "max", "Min": "min"}.get(body[0].name)


def _uses_lam(e: tuple) -> bool:
    if e[0] == "lam":
        return True
    if e[0] == "bind" or is_leaf(e):
        return False
    op: Op = e[0]
    if op.lambda_arity:  # a nested lambda's parameters are its own
        return any(_uses_lam(c) for c in e[2:])
    return any(_uses_lam(c) for c in e[1:])


def _uses_vars(e: tuple, names: set[str]) -> bool:
    if e[0] == "var":
        return e[1] in names
    if e[0] == "bind":
        return _uses_vars(e[2], names)
    if is_leaf(e):
        return False
    return any(_uses_vars(c, names) for c in e[1:])


def _closed_subexprs(e: tuple, out: dict[str, list]) -> bool:
    """Record sub-expressions that are always evaluated (strict positions, no lambda parameters).

    Sub-expressions under a conditional branch, a short-circuit operand or a lambda body are not
    lifted: computing them up front could raise where the original program would not.
    """
    head = e[0]
    if head in ("lam", "bind"):
        return False
    if head == "var" or head == "const":
        return True
    op: Op = head
    if op.lambda_arity:
        strict, lazy = e[2:], (e[1],)
    elif op.name == "If" or op.name in ("And", "Or"):
        strict, lazy = e[1:2], e[2:]
    else:
        strict, lazy = e[1:], ()
    closed = True
    for c in strict:
        closed = _closed_subexprs(c, out) and closed
    for c in lazy:
        closed = _is_closed(c) and closed
    if closed:
        out.setdefault(repr(e), []).append(e)
    return closed


def _is_closed(e: tuple) -> bool:
    if e[0] in ("lam", "bind"):
        return False
    if is_leaf(e):
        return True
    return all(_is_closed(c) for c in e[1:])


def _replace(e: tuple, target: tuple, leaf: tuple) -> tuple:
    if e == target:
        return leaf
    if is_leaf(e):
        if e[0] == "bind":
            return ("bind", e[1], _replace(e[2], target, leaf))
        return e
    return (e[0],) + tuple(_replace(c, target, leaf) for c in e[1:])


def share_subexpressions(expr: tuple, taken: set[str]) -> tuple[list[tuple[str, tuple]], tuple]:
    """Name sub-expressions used more than once (largest first) so they are computed once."""
    bindings: list[tuple[str, tuple]] = []
    names = set(taken)
    for _ in range(4):
        found: dict[str, list] = {}
        _closed_subexprs(expr, found)
        reps = [es[0] for es in found.values() if len(es) >= 2 and not is_leaf(es[0]) and size(es[0]) >= 3]
        if not reps:
            break
        rep = max(reps, key=size)
        base = _LOCAL_NAMES.get(rep[0].name, "part")
        name = base
        i = 2
        while name in names:
            name = f"{base}{i}"
            i += 1
        names.add(name)
        leaf = ("var", name, rep[0].ret)
        expr = _replace(expr, rep, leaf)
        bindings = [(nm, _replace(b, rep, leaf)) for nm, b in bindings]
        bindings.append((name, rep))
    # a binding may use a later one (we replaced inside bindings): order by dependency
    ordered: list[tuple[str, tuple]] = []
    pending = list(bindings)
    while pending:
        for item in pending:
            deps = {nm for nm, _ in pending if nm != item[0] and _uses_vars(item[1], {nm})}
            if not deps:
                ordered.append(item)
                pending.remove(item)
                break
        else:
            ordered.extend(pending)
            break
    return ordered, expr


def render_program(expr: tuple, arg_names: list[str], arg_types: list[str], out_type: str,
                   entry_point: str = "f", examples: list[tuple[list, Any]] | None = None) -> str:
    """A complete `def entry_point(...)` with type hints, a docstring and named shared parts."""
    r = Renderer(list(arg_names) + [entry_point])
    bindings, body = share_subexpressions(expr, set(arg_names) | {entry_point})
    lines = []
    lines_body = []
    for name, b in bindings:
        r.taken.add(name)
    for name, b in bindings:
        code, _ = r.expr(b)
        lines_body.append(f"    {name} = {code}")
    code, _ = r.expr(body)
    lines_body.append(f"    return {code}")
    sig = ", ".join(f"{n}: {t}" for n, t in zip(arg_names, arg_types))
    lines.append(f"def {entry_point}({sig}) -> {out_type}:")
    doc = _docstring(entry_point, examples or []).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines.append(f'    """{doc}"""')
    for imp in r.imports:
        lines.append(f"    {imp}")
    lines.extend(lines_body)
    return "\n".join(lines) + "\n"


def _docstring(entry: str, examples: list[tuple[list, Any]]) -> str:
    """A docstring showing up to two short examples as doctests."""
    shown = []
    for args, out in examples:
        call = f"{entry}({', '.join(repr(a) for a in args)})"
        if len(call) <= 90 and len(repr(out)) <= 90:
            shown.append(f"    >>> {call}\n    {out!r}")
        if len(shown) == 2:
            break
    if not shown:
        return "Synthesized from input/output examples."
    return "Synthesized from input/output examples, e.g.\n\n" + "\n".join(shown) + "\n    "


def render_expression(expr: tuple, arg_names: list[str]) -> str:
    """Just the Python expression (no function around it)."""
    return Renderer(list(arg_names)).expr(expr)[0]


def perturbations(examples: list[tuple[list, Any]]) -> Iterator[list]:
    """New inputs near the examples: tweak one argument at a time, then mix arguments across examples."""
    seen: set[str] = {repr(list(args)) for args, _ in examples}

    def emit(args: list) -> Iterator[list]:
        key = repr(args)
        if key not in seen:
            seen.add(key)
            yield args

    for args, _ in examples:
        for j, a in enumerate(args):
            for b in _tweak(a):
                new = list(args)
                new[j] = b
                yield from emit(new)
    rows = [args for args, _ in examples]
    if rows and len(rows[0]) > 1:
        for r1 in rows:
            for r2 in rows:
                mixed = [r1[0]] + list(r2[1:])
                yield from emit(mixed)


def _tweak(a: Any) -> list[Any]:
    if isinstance(a, bool):
        return [not a]
    if isinstance(a, int):
        return [a + 1, a - 1, a + 2, -a, a * 2, 0]
    if isinstance(a, str):
        out = [a.upper(), a.lower(), a[1:], a[:-1], a + "x", "x" + a, a + " " + a, a[::-1], a.replace(" ", "")]
        return [s for s in out if s != a]
    if isinstance(a, list):
        out: list[Any] = [a[::-1], a[1:], a[:-1], a + a[:1], sorted(a), a[1:] + a[:1]]
        if a and isinstance(a[0], int) and not isinstance(a[0], bool):
            out += [[x + 1 for x in a], [x * 2 - 1 for x in a], [-x for x in a], a + [0], a + [7], [3] + a]
        return [x for x in out if x != a]
    return []

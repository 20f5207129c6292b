"""Evaluate DSL expressions directly (outside the search's value tables).

Expressions are tuples: `("var", name, type)`, `("const", value, type)`, `("lam", k)` for the
k-th parameter of the innermost lambda, or `(op, child, ...)` where a higher-order op's first
child is its lambda body. Used to apply lambdas off their probe points, to confirm solutions
and to compare two programs on new inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .dsl import Op

Closure = Callable[[tuple, tuple], Any]


def is_leaf(expr: tuple) -> bool:
    """True for variables, constants and lambda parameters (and named-lambda wrappers)."""
    return type(expr[0]) is str


def build(expr: tuple, arg_names: list[str]) -> Closure:
    """Compile `expr` to a function (inputs, lambda_args) -> value; inputs are ordered like `arg_names`."""
    head = expr[0]
    if type(head) is str:
        if head == "var":
            idx = arg_names.index(expr[1])
            return lambda env, lam: env[idx]
        if head == "const":
            value = expr[1]
            return lambda env, lam: value
        if head == "lam":
            k = expr[1]
            return lambda env, lam: lam[k]
        if head == "bind":  # a lambda whose parameters are named variables (from a deduction)
            inner = build(expr[2], list(arg_names) + list(expr[1]))
            return lambda env, lam: inner(env + tuple(lam), ())
        raise ValueError(f"unknown leaf {expr!r}")
    op: Op = head
    kids = [build(c, arg_names) for c in expr[1:]]
    f = op.fn
    if op.lambda_arity == 1:
        body, lst = kids[0], kids[1]
        name = op.name
        if name in ("Map", "MapStr"):
            return lambda env, lam: [body(env, (u,)) for u in lst(env, lam)]
        if name in ("Filter", "FilterStr"):
            return lambda env, lam: [u for u in lst(env, lam) if body(env, (u,))]
        if name == "Count":
            return lambda env, lam: sum(1 for u in lst(env, lam) if body(env, (u,)))
        if name == "Any":
            return lambda env, lam: any(body(env, (u,)) for u in lst(env, lam))
        if name == "All":
            return lambda env, lam: all(body(env, (u,)) for u in lst(env, lam))
        raise ValueError(name)
    if op.lambda_arity == 2:
        body = kids[0]
        if op.name == "ZipWith":
            xs, ys = kids[1], kids[2]
            return lambda env, lam: [body(env, (a, b)) for a, b in zip(xs(env, lam), ys(env, lam))]
        if op.name == "Scanl1":
            xs = kids[1]
            return lambda env, lam: f(lambda a, b: body(env, (a, b)), xs(env, lam))
        raise ValueError(op.name)
    if len(kids) == 1:
        k0 = kids[0]
        return lambda env, lam: f(k0(env, lam))
    if len(kids) == 2:
        k0, k1 = kids
        return lambda env, lam: f(k0(env, lam), k1(env, lam))
    if len(kids) == 3:
        k0, k1, k2 = kids
        if op.name == "If":  # lazy, like Python's conditional expression
            return lambda env, lam: k1(env, lam) if k0(env, lam) else k2(env, lam)
        return lambda env, lam: f(k0(env, lam), k1(env, lam), k2(env, lam))
    return lambda env, lam: f(*[k(env, lam) for k in kids])


def evaluate(expr: tuple, arg_names: list[str], args: list | tuple) -> Any:
    """Value of `expr` on one input; raises whatever the program raises."""
    return build(expr, arg_names)(tuple(args), ())


def size(expr: tuple) -> int:
    """Number of nodes (lambda parameters count as leaves)."""
    if expr[0] == "bind":
        return size(expr[2])
    if is_leaf(expr):
        return 1
    return 1 + sum(size(c) for c in expr[1:])


def cost(expr: tuple) -> int:
    """Cost as the search counts it: op costs plus one per leaf (two for an unexplained constant)."""
    if expr[0] == "bind":
        return cost(expr[2])
    if is_leaf(expr):
        if expr[0] == "const" and len(expr) > 3 and expr[3]:
            return expr[3] if isinstance(expr[3], int) and expr[3] > 1 else 2
        return 1
    return expr[0].cost + sum(cost(c) for c in expr[1:])


def count_nodes(expr: tuple, pred: Callable[[tuple], bool]) -> int:
    n = 1 if pred(expr) else 0
    if expr[0] == "bind":
        return n + count_nodes(expr[2], pred)
    if not is_leaf(expr):
        n += sum(count_nodes(c, pred) for c in expr[1:])
    return n


def to_text(expr: tuple) -> str:
    """The DSL form, e.g. `Sum(Take(k, Sort(b)))`; lambdas print as `lambda u1, u2: ...`."""
    return _text(expr, 0)


_LETTERS = "uvwpqrst"


def _text(expr: tuple, depth: int) -> str:
    head = expr[0]
    if type(head) is str:
        if head == "bind":
            return _text(expr[2], depth)
        if head == "var":
            return expr[1]
        if head == "const":
            return repr(expr[1])
        return f"{_LETTERS[depth - 1]}{expr[1] + 1}"
    op: Op = head
    if op.lambda_arity:
        if expr[1][0] == "bind":
            params = ", ".join(expr[1][1])
        else:
            params = ", ".join(f"{_LETTERS[depth]}{k + 1}" for k in range(op.lambda_arity))
        body = _text(expr[1], depth + 1)
        rest = ", ".join(_text(c, depth) for c in expr[2:])
        return f"{op.name}(lambda {params}: {body}, {rest})"
    return f"{op.name}({', '.join(_text(c, depth) for c in expr[1:])})"

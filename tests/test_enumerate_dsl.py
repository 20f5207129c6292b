"""Every DSL operator means the same as its Python rendering (render, run, compare)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bombe.enumerate import dsl
from bombe.enumerate.dsl import BOOL, INT, LINT, LSTR, STR
from bombe.enumerate.evaluate import build, to_text
from bombe.enumerate.render import Renderer

SMALL_INT = st.integers(-12, 12)
TEXT = st.text(alphabet="ab AB-.,1 2_", max_size=8)
STRATEGY = {
    INT: SMALL_INT,
    BOOL: st.booleans(),
    STR: TEXT,
    LINT: st.lists(SMALL_INT, max_size=6),
    LSTR: st.lists(TEXT, max_size=4),
}

FIRST_ORDER = [o for o in dsl.OPS if not o.lambda_arity]
HIGHER_ORDER = [o for o in dsl.OPS if o.lambda_arity]


def _outcome(thunk) -> tuple[str, Any]:
    try:
        return "ok", thunk()
    except Exception as exc:  # noqa: BLE001 - the op and its rendering must fail alike
        return "error", type(exc).__name__


def _same(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "error":
        return True  # both failed; exception classes may differ (e.g. our guards raise ValueError)
    return type(a[1]) is type(b[1]) and a[1] == b[1]


def _run_rendered(code: str, names: list[str], args: list[Any], imports: list[str]) -> Any:
    src = "\n".join(imports) + f"\ndef _f({', '.join(names)}):\n    return {code}\n"
    scope: dict[str, Any] = {}
    exec(src, scope)  # noqa: S102 - our own generated code
    return scope["_f"](*args)


def test_there_are_about_seventy_operators() -> None:
    names = {o.name for o in dsl.OPS}
    assert len(dsl.OPS) >= 70
    for required in ("Find", "Substring", "Replace", "Upper", "Proper", "Trim", "Split", "Join", "Concat", "IsDigit",
                     "Len", "ToInt", "ToText", "Add", "IntDivide", "Mod", "Abs", "Min", "Head", "Last", "Take", "Drop",
                     "Access", "Reverse", "Sort", "Sum", "Minimum", "Maximum", "Length", "Map", "Filter", "Count",
                     "ZipWith", "Scanl1", "Any", "All", "Range", "Append", "Cons"):
        assert required in names


@pytest.mark.parametrize("op", FIRST_ORDER, ids=lambda o: f"{o.name}:{','.join(o.arg_types)}")
def test_operator_matches_its_rendering(op: dsl.Op) -> None:
    names = [f"a{i}" for i in range(op.arity)]
    expr = (op,) + tuple(("var", n, t) for n, t in zip(names, op.arg_types))
    r = Renderer(names)
    code, _ = r.expr(expr)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.tuples(*[STRATEGY[t] for t in op.arg_types]))
    def check(args: tuple) -> None:
        semantic = _outcome(lambda: op.fn(*[_copy(a) for a in args]))
        rendered = _outcome(lambda: _run_rendered(code, names, [_copy(a) for a in args], r.imports))
        assert _same(semantic, rendered), (op.name, code, args, semantic, rendered)

    check()


# One body per higher-order operator, built from lambda parameters and a free variable.
def _body(op: dsl.Op) -> tuple:
    lam0, lam1 = ("lam", 0), ("lam", 1)
    if op.lambda_ret == BOOL and op.lambda_types == (INT,):
        return (dsl.GT, lam0, ("var", "k", INT))
    if op.lambda_ret == BOOL and op.lambda_types == (STR,):
        return (dsl.ISUPPER, lam0)
    if op.lambda_types == (STR,):
        return (dsl.CONCAT, lam0, ("const", "!", STR))
    if op.lambda_types == (INT,):
        return (dsl.SUB, (dsl.MUL, lam0, lam0), ("var", "k", INT))
    return (dsl.ADD, (dsl.MUL, lam0, ("const", 2, INT)), (dsl.MAX, lam1, ("var", "k", INT)))


@pytest.mark.parametrize("op", HIGHER_ORDER, ids=lambda o: o.name)
def test_higher_order_operator_matches_its_comprehension(op: dsl.Op) -> None:
    list_names = [f"xs{i}" for i in range(op.arity - 1)]
    names = list_names + ["k"]
    expr = (op, _body(op)) + tuple(("var", n, t) for n, t in zip(list_names, op.arg_types[1:]))
    r = Renderer(names)
    code, _ = r.expr(expr)
    f = build(expr, names)
    assert "lambda" in to_text(expr)

    @settings(max_examples=40, deadline=None)
    @given(st.tuples(*[STRATEGY[t] for t in op.arg_types[1:]]), SMALL_INT)
    def check(lists: tuple, k: int) -> None:
        args = list(lists) + [k]
        semantic = _outcome(lambda: f(tuple(_copy(a) for a in args), ()))
        rendered = _outcome(lambda: _run_rendered(code, names, [_copy(a) for a in args], r.imports))
        assert _same(semantic, rendered), (op.name, code, args, semantic, rendered)

    check()


def test_semantics_follow_the_suites() -> None:
    # LambdaBeam: Python negative indexing and slicing, floor division
    assert dsl.OPS_BY_NAME["Access"][0].fn(-1, [4, 5, 6]) == 6
    assert dsl.OPS_BY_NAME["Take"][0].fn(-1, [4, 5, 6]) == [4, 5]
    assert dsl.DIV.fn(-7, 2) == -4
    assert dsl.ODD.fn(-3) is True
    with pytest.raises(ZeroDivisionError):
        dsl.DIV.fn(1, 0)
    # spreadsheet FIND fails when the text is absent (what ISERROR tests)
    with pytest.raises(ValueError):
        dsl.FIND.fn("abc", "z")
    assert dsl.SPLIT_PART.fn("a b c", " ", -1) == "c"


def test_types_of_values() -> None:
    assert dsl.type_of(3) == INT and dsl.type_of(True) == BOOL and dsl.type_of("s") == STR
    assert dsl.type_of([1, 2]) == LINT and dsl.type_of(["a"]) == LSTR
    assert dsl.type_of([1, "a"]) is None and dsl.type_of(1.5) is None
    assert dsl.unify_types([[], [1]]) == LINT


def _copy(v: Any) -> Any:
    return [_copy(x) for x in v] if isinstance(v, list) else v

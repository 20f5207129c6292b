"""Rendering: readable Python that reproduces the examples; ranking; ambiguity reports."""

from __future__ import annotations

import ast

from bombe.enumerate import dsl, synthesize
from bombe.enumerate.dsl import INT, LINT, STR
from bombe.enumerate.evaluate import build
from bombe.enumerate.render import perturbations, render_program, share_subexpressions
from bombe.enumerate.solver import Candidate


def _fn(program: str, name: str = "f"):
    scope: dict = {}
    exec(program, scope)  # noqa: S102 - our own generated code
    return scope[name]


def test_program_has_hints_docstring_and_reproduces_examples() -> None:
    examples = [([[3, 1, 2], 2], [9, 1, 4]), ([[-2, 5], 1], [4, 25])]
    s = synthesize(examples, arg_names=["xs", "k"], entry_point="squares", timeout=8)
    assert s.status == "solved"
    tree = ast.parse(s.program)
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef) and fn.name == "squares"
    assert ast.unparse(fn.returns) == "list[int]"
    assert [ast.unparse(a.annotation) for a in fn.args.args] == ["list[int]", "int"]
    doc = ast.get_docstring(fn)
    assert doc and ">>> squares([3, 1, 2], 2)\n[9, 1, 4]" in doc
    assert "for" in s.program  # a comprehension, not a call to a DSL helper
    f = _fn(s.program, "squares")
    for args, out in examples:
        assert f(*args) == out


def test_higher_order_ops_render_as_comprehensions() -> None:
    lam = ("lam", 0)
    expr = (dsl.COUNT, (dsl.GT, lam, ("const", 0, INT)), ("var", "xs", LINT))
    prog = render_program(expr, ["xs"], [LINT], INT)
    assert "sum(1 for" in prog and "if x > 0" in prog
    assert _fn(prog)([1, -2, 3]) == 2
    scan = (dsl.SCANL1, (dsl.MAX, ("lam", 0), ("lam", 1)), ("var", "xs", LINT))
    prog = render_program(scan, ["xs"], [LINT], LINT)
    assert "from itertools import accumulate" in prog and "accumulate(xs, max)" in prog
    assert _fn(prog)([1, 3, 2, 5]) == [1, 3, 3, 5]
    scan = (dsl.SCANL1, (dsl.SUB, ("lam", 1), ("lam", 0)), ("var", "xs", LINT))
    prog = render_program(scan, ["xs"], [LINT], LINT)
    assert "lambda x, y: y - x" in prog
    assert _fn(prog)([1, 3, 2, 5]) == [1, 2, 0, 5]


def test_shared_subexpressions_become_named_locals() -> None:
    s = ("var", "s", STR)
    space = ("const", " ", STR)
    find = (dsl.FIND, s, space)
    expr = (dsl.CONCAT, (dsl.LEFT, s, find), (dsl.FROM, s, (dsl.ADD, find, ("const", 1, INT))))
    bindings, _ = share_subexpressions(expr, {"s"})
    assert [name for name, _ in bindings] == ["pos"]
    prog = render_program(expr, ["s"], [STR], STR)
    assert "pos = s.index(' ')" in prog
    assert prog.count(".index(") == 1
    assert _fn(prog)("ab cd") == "abcd"


def test_subexpressions_in_a_branch_are_not_hoisted() -> None:
    # s.index(' ') may fail; hoisting it out of the branch would make the program fail where it did not
    s = ("var", "s", STR)
    find = (dsl.FIND, s, ("const", " ", STR))
    expr = (dsl.IFS[STR], (dsl.CONTAINS, s, ("const", " ", STR)), (dsl.SLICE, s, find, (dsl.ADD, find, ("const", 2, INT))), s)
    prog = render_program(expr, ["s"], [STR], STR)
    f = _fn(prog)
    assert f("nospace") == "nospace" and f("a bc") == " b"


def test_ranking_prefers_fewer_constants_and_case_splits() -> None:
    x = ("var", "x", INT)
    plain = Candidate(5, (dsl.ADD, x, ("const", 7, INT, 2)))
    explained = Candidate(5, (dsl.ADD, x, (dsl.ADD, ("const", 3, INT), ("const", 4, INT))))
    split = Candidate(5, (dsl.IFS[INT], (dsl.EVEN, x), x, ("const", 1, INT)))
    ranked = sorted([plain, split, explained], key=Candidate.rank)
    assert ranked[0] is explained and ranked[-1] is split


def test_ambiguity_shows_an_input_where_programs_differ() -> None:
    # one example of a 2-element list whose output is its last element: max and last both fit
    s = synthesize([([[1, 5]], 5), ([[2, 9]], 9)], arg_names=["xs"], timeout=3)
    assert s.status == "solved"
    assert s.ambiguity is not None
    other_program, args = s.ambiguity
    assert _fn(s.program)(*args) != _fn(other_program)(*args)


def test_no_ambiguity_when_examples_pin_the_program() -> None:
    examples = [([[3, 1, 2]], 6), ([[5]], 5), ([[-1, 4, 0, 2]], 5), ([[]], 0)]
    s = synthesize(examples, arg_names=["xs"], timeout=3)
    assert s.status == "solved" and s.expression == "Sum(xs)"
    assert s.ambiguity is None


def test_perturbations_change_the_inputs() -> None:
    got = list(perturbations([([3, "ab"], 0)]))
    assert [3, "ab"] not in got
    assert [4, "ab"] in got and [3, "AB"] in got
    assert len(got) == len({repr(g) for g in got})


def test_build_evaluates_named_lambdas() -> None:
    body = ("bind", ("y",), (dsl.MUL, ("var", "y", INT), ("var", "k", INT)))
    expr = (dsl.MAP, body, ("var", "xs", LINT))
    assert build(expr, ["xs", "k"])(([1, 2], 3), ()) == [3, 6]
    prog = render_program(expr, ["xs", "k"], [LINT, INT], LINT)
    assert "[y * k for y in xs]" in prog


def test_docstring_survives_backslashes_and_quotes() -> None:
    import warnings
    expr = (dsl.UPPER, ("var", "s", STR))
    examples = [(['a\\d"""x\n'], 'A\\D"""X\n')]
    prog = render_program(expr, ["s"], [STR], STR, "f", examples)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = _fn(prog)
    assert f(*examples[0][0]) == examples[0][1]
    assert repr(examples[0][0][0]) in f.__doc__

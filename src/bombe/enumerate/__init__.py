"""Model-free programming by example: enumerate a typed DSL, emit readable Python.

    >>> s = synthesize([([[3, 1, 2]], 6), ([[5]], 5)])
    >>> s.status, s.expression
    ('solved', 'Sum(x)')
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any, Literal

from .evaluate import build, to_text
from .render import perturbations, render_program
from .solver import Candidate, TypeProblem, fresh_names, make_problem, release, solve

__all__ = ["Synthesis", "synthesize"]

# Leave this share of the time limit for ranking, rendering and the ambiguity check.
_RESERVE = 0.04


@dataclass(frozen=True)
class Synthesis:
    status: Literal["solved", "not_found", "timeout"]
    program: str | None
    expression: str | None
    seconds: float
    size: int | None
    ambiguity: tuple[str, list] | None


def synthesize(examples: list[tuple[list, object]], *, arg_names: list[str] | None = None,
               entry_point: str = "f", timeout: float = 10.0, value_budget: int = 2_000_000) -> Synthesis:
    """Find the smallest DSL program consistent with `examples` ((positional args, output) pairs)."""
    start = time.perf_counter()
    examples = [(list(args), out) for args, out in examples]
    arity = len(examples[0][0]) if examples else 0
    names = list(arg_names) if arg_names is not None else fresh_names([entry_point], arity)
    if len(names) != arity:
        raise ValueError(f"{len(names)} argument names for {arity} arguments")
    try:
        prob = make_problem(examples, names)
    except TypeProblem:
        return Synthesis("not_found", None, None, time.perf_counter() - start, None, None)
    deadline = start + timeout * (1 - _RESERVE)
    # The value tables are millions of acyclic tuples: the cyclic garbage collector only adds
    # pauses (some over 50 ms) that break the time limit, so it is off during the search, and
    # what the search allocated is then frozen (O(1)) so that re-enabling it does not trigger a
    # scan of all of it; release() unfreezes once the tables are gone.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        cands = solve(prob, deadline, value_budget=value_budget)
    finally:
        gc.freeze()
        if gc_was_enabled:
            gc.enable()
        release()
    elapsed = time.perf_counter() - start
    for i, cand in enumerate(cands):
        program = render_program(cand.expr, names, prob.arg_types, prob.out_type, entry_point, examples)
        if not _reproduces(program, entry_point, examples):
            continue  # a rendering bug must never surface as a wrong program
        ambiguity = _ambiguity(cand, cands[i + 1:], prob, names, entry_point, examples, start + timeout)
        return Synthesis("solved", program, to_text(cand.expr), time.perf_counter() - start, cand.cost, ambiguity)
    status: Literal["not_found", "timeout"] = "timeout" if elapsed >= timeout * 0.9 else "not_found"
    return Synthesis(status, None, None, time.perf_counter() - start, None, None)


def _run(program: str, entry_point: str) -> Any:
    scope: dict[str, Any] = {}
    exec(compile(program, "<synthesized>", "exec"), scope)  # noqa: S102 - our own generated code, not user input
    return scope[entry_point]


def _reproduces(program: str, entry_point: str, examples: list[tuple[list, Any]]) -> bool:
    try:
        fn = _run(program, entry_point)
        return all(fn(*[_copy(a) for a in args]) == out for args, out in examples)
    except Exception:  # noqa: BLE001 - a failing program or operator is just no value
        return False


def _copy(v: Any) -> Any:
    return [_copy(x) for x in v] if isinstance(v, list) else v


def _ambiguity(best: Candidate, others: list[Candidate], prob: Any, names: list[str], entry_point: str,
               examples: list[tuple[list, Any]], hard_deadline: float) -> tuple[str, list] | None:
    """Another near-equal program and an input on which it and `best` differ, if there is one."""
    f_best = build(best.expr, names)
    for other in others[:5]:
        if other.cost > best.cost + 1:
            break
        f_other = build(other.expr, names)
        for args in perturbations(examples):
            if time.perf_counter() > hard_deadline:
                return None
            try:
                a = f_best(tuple(_copy(x) for x in args), ())
                b = f_other(tuple(_copy(x) for x in args), ())
            except Exception:  # noqa: BLE001, S112 - a failing program or operator is just no value
                continue
            if a != b:
                program = render_program(other.expr, names, prob.arg_types, prob.out_type, entry_point, examples)
                return program, args
    return None

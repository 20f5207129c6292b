"""The typed DSL: every operator defined once with its semantics, Python rendering and cost.

Types are plain strings that double as Python type hints ("int", "str", "list[int]", ...).
An operator's semantics *is* its Python rendering: `fn(*args)` must equal the value of the
rendered expression (the property tests check exactly that), so a program found by search
means the same thing once printed as Python. Operators that fail (index out of range,
division by zero, a missing substring) raise; the search treats that as "no value".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

INT, BOOL, STR = "int", "bool", "str"
LINT, LSTR, LBOOL = "list[int]", "list[str]", "list[bool]"
LLINT = "list[list[int]]"
ALL_TYPES = (INT, BOOL, STR, LINT, LSTR, LBOOL, LLINT)

# Python operator precedences (higher binds tighter); used to parenthesize only when needed.
P_LAMBDA, P_TERNARY, P_OR, P_AND, P_NOT, P_CMP = 0, 1, 2, 3, 4, 5
P_ADD, P_MUL, P_UNARY, P_POW, P_CALL, P_ATOM = 10, 11, 12, 13, 16, 17

# Lambda kinds for higher-order operators: the type of each lambda parameter and of the body.
# "lam1:int->int" means `lambda u: <int body>` over an int element.


@dataclass(frozen=True, eq=False)
class Op:
    """One DSL operator.

    `template` is a format string over the rendered arguments ({0}, {1}, ...); `arg_prec`
    gives the minimum precedence each argument needs before it must be parenthesized.
    Higher-order operators have `lambda_arity` > 0: their first argument is a lambda body
    (a DSL expression over lambda variables), rendered by `bombe.enumerate.render`.
    """

    name: str
    arg_types: tuple[str, ...]
    ret: str
    fn: Callable[..., Any]
    template: str
    prec: int
    arg_prec: tuple[int, ...]
    cost: int = 1
    group: str = "core"
    lambda_arity: int = 0
    lambda_types: tuple[str, ...] = ()  # parameter types of the lambda (higher-order ops)
    lambda_ret: str = ""
    makes_ints: bool = True  # can produce ints not already present (range check needed)
    # Arguments that must stay simple (a needle, a separator, a pattern): position -> max cost.
    # Computed patterns are rare in real programs and mostly fit examples by accident.
    arg_max_cost: tuple[tuple[int, int], ...] = ()
    imports: tuple[str, ...] = ()
    doc: str = field(default="", compare=False)

    @property
    def arity(self) -> int:
        return len(self.arg_types)

    def __repr__(self) -> str:
        return f"Op({self.name}:{','.join(self.arg_types)}->{self.ret})"


OPS: list[Op] = []


def op(name: str, args: tuple[str, ...], ret: str, fn: Callable[..., Any], template: str,
       prec: int, arg_prec: tuple[int, ...], **kw: Any) -> Op:
    o = Op(name, args, ret, fn, template, prec, arg_prec, **kw)
    OPS.append(o)
    return o


# ---------------------------------------------------------------------------- semantics
# Helpers raise ValueError where the Python rendering would raise, and return exactly what
# the rendering returns otherwise.

def _take(n: int, xs: list) -> list:
    return xs[:n]


def _drop(n: int, xs: list) -> list:
    return xs[n:]


def _access(i: int, xs: list) -> Any:
    return xs[i]


def _minimum(xs: list) -> Any:
    return min(xs)


def _maximum(xs: list) -> Any:
    return max(xs)


def _range(n: int) -> list[int]:
    if n > 1000:  # a search-time guard; the examples' programs never get near it
        raise ValueError("range too long")
    return list(range(n))


def _repeat(s: str, n: int) -> str:
    if n * len(s) > 1000:  # a search-time guard against huge strings
        raise ValueError("too long")
    return s * n


def _split(s: str, sep: str) -> list[str]:
    return s.split(sep)


def _split_part(s: str, sep: str, k: int) -> str:
    return s.split(sep)[k]


def _to_int(s: str) -> int:
    if len(s) > 12:  # a search-time guard; numbers in text cells are short
        raise ValueError("too long")
    return int(s)


def _collapse(s: str) -> str:
    return " ".join(s.split())


def _map(f: Callable, xs: list) -> list:
    return [f(x) for x in xs]


def _filter(p: Callable, xs: list) -> list:
    return [x for x in xs if p(x)]


def _count(p: Callable, xs: list) -> int:
    return sum(1 for x in xs if p(x))


def _zipwith(f: Callable, xs: list, ys: list) -> list:
    return [f(x, y) for x, y in zip(xs, ys)]


def _scanl1(f: Callable, xs: list) -> list:
    return list(accumulate(xs, f))


def _any(p: Callable, xs: list) -> bool:
    return any(p(x) for x in xs)


def _all(p: Callable, xs: list) -> bool:
    return all(p(x) for x in xs)


# ---------------------------------------------------------------------------- integers
ADD = op("Add", (INT, INT), INT, lambda a, b: a + b, "{0} + {1}", P_ADD, (P_ADD, P_MUL), group="int")
SUB = op("Subtract", (INT, INT), INT, lambda a, b: a - b, "{0} - {1}", P_ADD, (P_ADD, P_MUL), group="int")
MUL = op("Multiply", (INT, INT), INT, lambda a, b: a * b, "{0} * {1}", P_MUL, (P_MUL, P_UNARY), group="arith")
DIV = op("IntDivide", (INT, INT), INT, lambda a, b: a // b, "{0} // {1}", P_MUL, (P_MUL, P_UNARY), group="arith")
MOD = op("Mod", (INT, INT), INT, lambda a, b: a % b, "{0} % {1}", P_MUL, (P_MUL, P_UNARY), group="arith")
NEG = op("Negate", (INT,), INT, lambda a: -a, "-{0}", P_UNARY, (P_UNARY,), group="arith")
SQUARE = op("Square", (INT,), INT, lambda a: a * a, "{0} ** 2", P_POW, (P_CALL,), group="arith")
ABS = op("Abs", (INT,), INT, abs, "abs({0})", P_CALL, (P_LAMBDA,), group="arith")
MIN = op("Min", (INT, INT), INT, min, "min({0}, {1})", P_CALL, (P_LAMBDA, P_LAMBDA), group="arith",
         makes_ints=False)
MAX = op("Max", (INT, INT), INT, max, "max({0}, {1})", P_CALL, (P_LAMBDA, P_LAMBDA), group="arith",
         makes_ints=False)

# ---------------------------------------------------------------------------- booleans
GT = op("Greater", (INT, INT), BOOL, lambda a, b: a > b, "{0} > {1}", P_CMP, (P_CMP + 1, P_CMP + 1), group="cmp")
LT = op("Less", (INT, INT), BOOL, lambda a, b: a < b, "{0} < {1}", P_CMP, (P_CMP + 1, P_CMP + 1), group="cmp")
EQ = op("Equal", (INT, INT), BOOL, lambda a, b: a == b, "{0} == {1}", P_CMP, (P_CMP + 1, P_CMP + 1), group="cmp")
EVEN = op("IsEven", (INT,), BOOL, lambda a: a % 2 == 0, "{0} % 2 == 0", P_CMP, (P_MUL,), group="arith")
ODD = op("IsOdd", (INT,), BOOL, lambda a: a % 2 == 1, "{0} % 2 == 1", P_CMP, (P_MUL,), group="arith")
NOT = op("Not", (BOOL,), BOOL, lambda a: not a, "not {0}", P_NOT, (P_NOT,), group="logic")
AND = op("And", (BOOL, BOOL), BOOL, lambda a, b: a and b, "{0} and {1}", P_AND, (P_AND, P_NOT), group="logic")
OR = op("Or", (BOOL, BOOL), BOOL, lambda a, b: a or b, "{0} or {1}", P_OR, (P_OR, P_AND), group="logic")
STR_EQ = op("StrEqual", (STR, STR), BOOL, lambda a, b: a == b, "{0} == {1}", P_CMP, (P_CMP + 1, P_CMP + 1), group="str")

# If is generic: one instance per value type. Its cost is above 1 so that case splits lose
# near-ties against straight-line programs.
IFS = {t: op("If", (BOOL, t, t), t, lambda c, a, b: a if c else b, "{1} if {0} else {2}", P_TERNARY,
             (P_OR, P_OR, P_TERNARY), cost=2, group="if", makes_ints=False)
       for t in (INT, STR, LINT)}

# ---------------------------------------------------------------------------- strings
CONCAT = op("Concat", (STR, STR), STR, lambda a, b: a + b, "{0} + {1}", P_ADD, (P_ADD, P_MUL), group="str")
UPPER = op("Upper", (STR,), STR, str.upper, "{0}.upper()", P_CALL, (P_CALL,), group="str")
LOWER = op("Lower", (STR,), STR, str.lower, "{0}.lower()", P_CALL, (P_CALL,), group="str")
TITLE = op("Proper", (STR,), STR, str.title, "{0}.title()", P_CALL, (P_CALL,), group="str")
CAPITALIZE = op("Capitalize", (STR,), STR, str.capitalize, "{0}.capitalize()", P_CALL, (P_CALL,), group="str")
STRIP = op("Trim", (STR,), STR, str.strip, "{0}.strip()", P_CALL, (P_CALL,), group="str")
COLLAPSE = op("CollapseSpaces", (STR,), STR, _collapse, "' '.join({0}.split())", P_CALL, (P_CALL,), cost=2, group="str")
LEFT = op("Left", (STR, INT), STR, lambda s, n: s[:n], "{0}[:{1}]", P_CALL, (P_CALL, P_LAMBDA), group="str")
FROM = op("DropLeft", (STR, INT), STR, lambda s, n: s[n:], "{0}[{1}:]", P_CALL, (P_CALL, P_LAMBDA), group="str")
SLICE = op("Substring", (STR, INT, INT), STR, lambda s, i, j: s[i:j], "{0}[{1}:{2}]", P_CALL,
           (P_CALL, P_LAMBDA, P_LAMBDA), group="str")
CHAR_AT = op("CharAt", (STR, INT), STR, lambda s, i: s[i], "{0}[{1}]", P_CALL, (P_CALL, P_LAMBDA), group="str")
REPLACE = op("Replace", (STR, STR, STR), STR, lambda s, a, b: s.replace(a, b), "{0}.replace({1}, {2})",
             P_CALL, (P_CALL, P_LAMBDA, P_LAMBDA), arg_max_cost=((1, 2),), group="str")
REPLACE1 = op("ReplaceFirst", (STR, STR, STR), STR, lambda s, a, b: s.replace(a, b, 1),
              "{0}.replace({1}, {2}, 1)", P_CALL, (P_CALL, P_LAMBDA, P_LAMBDA), cost=2, arg_max_cost=((1, 2),), group="str")
PAD_LEFT = op("PadLeft", (STR, INT, STR), STR, lambda s, n, c: s.rjust(n, c), "{0}.rjust({1}, {2})", P_CALL,
               (P_CALL, P_LAMBDA, P_LAMBDA), group="str", arg_max_cost=((2, 1),))
PAD_RIGHT = op("PadRight", (STR, INT, STR), STR, lambda s, n, c: s.ljust(n, c), "{0}.ljust({1}, {2})", P_CALL,
               (P_CALL, P_LAMBDA, P_LAMBDA), group="str", arg_max_cost=((2, 1),))
REPEAT = op("Repeat", (STR, INT), STR, _repeat, "{0} * {1}", P_MUL, (P_MUL, P_UNARY), cost=2, group="str")
FIND = op("Find", (STR, STR), INT, lambda s, t: s.index(t), "{0}.index({1})", P_CALL, (P_CALL, P_LAMBDA), arg_max_cost=((1, 2),), group="str")
FIND_FROM = op("FindFrom", (STR, STR, INT), INT, lambda s, t, i: s.index(t, i), "{0}.index({1}, {2})", P_CALL,
               (P_CALL, P_LAMBDA, P_LAMBDA), arg_max_cost=((1, 2),), group="str")
RFIND = op("FindLast", (STR, STR), INT, lambda s, t: s.rindex(t), "{0}.rindex({1})", P_CALL, (P_CALL, P_LAMBDA),
           arg_max_cost=((1, 2),), group="str")
STR_COUNT = op("CountSub", (STR, STR), INT, lambda s, t: s.count(t), "{0}.count({1})", P_CALL, (P_CALL, P_LAMBDA),
               arg_max_cost=((1, 2),), group="str")
STR_LEN = op("Len", (STR,), INT, len, "len({0})", P_CALL, (P_LAMBDA,), group="str")
TO_INT = op("ToInt", (STR,), INT, _to_int, "int({0})", P_CALL, (P_LAMBDA,), group="str")
TO_STR = op("ToText", (INT,), STR, str, "str({0})", P_CALL, (P_LAMBDA,), group="str")
CONTAINS = op("Contains", (STR, STR), BOOL, lambda s, t: t in s, "{1} in {0}", P_CMP, (P_CMP + 1, P_CMP + 1), arg_max_cost=((1, 2),), group="str")
STARTS = op("StartsWith", (STR, STR), BOOL, lambda s, t: s.startswith(t), "{0}.startswith({1})", P_CALL,
            (P_CALL, P_LAMBDA), arg_max_cost=((1, 2),), group="str")
ENDS = op("EndsWith", (STR, STR), BOOL, lambda s, t: s.endswith(t), "{0}.endswith({1})", P_CALL,
          (P_CALL, P_LAMBDA), arg_max_cost=((1, 2),), group="str")
ISDIGIT = op("IsDigit", (STR,), BOOL, str.isdigit, "{0}.isdigit()", P_CALL, (P_CALL,), arg_max_cost=((0, 2),), group="str")
ISALPHA = op("IsAlpha", (STR,), BOOL, str.isalpha, "{0}.isalpha()", P_CALL, (P_CALL,), arg_max_cost=((0, 2),), group="str")
ISUPPER = op("IsUpper", (STR,), BOOL, str.isupper, "{0}.isupper()", P_CALL, (P_CALL,), arg_max_cost=((0, 2),), group="str")
ISLOWER = op("IsLower", (STR,), BOOL, str.islower, "{0}.islower()", P_CALL, (P_CALL,), arg_max_cost=((0, 2),), group="str")
SPLIT = op("Split", (STR, STR), LSTR, _split, "{0}.split({1})", P_CALL, (P_CALL, P_LAMBDA), arg_max_cost=((1, 2),), group="strlist")
SPLIT_PART = op("SplitPart", (STR, STR, INT), STR, _split_part, "{0}.split({1})[{2}]", P_CALL,
                (P_CALL, P_LAMBDA, P_LAMBDA), arg_max_cost=((1, 2),), group="str")
JOIN = op("Join", (LSTR, STR), STR, lambda xs, sep: sep.join(xs), "{1}.join({0})", P_CALL, (P_LAMBDA, P_CALL),
          group="strlist")

# ---------------------------------------------------------------------------- lists (generic)


def _list_ops(t: str, lt: str, group: str) -> None:
    """List operators for element type `t` (list type `lt`); defined once for every element type."""
    op("Head", (lt,), t, lambda xs: xs[0], "{0}[0]", P_CALL, (P_CALL,), group=group, makes_ints=False)
    op("Last", (lt,), t, lambda xs: xs[-1], "{0}[-1]", P_CALL, (P_CALL,), group=group, makes_ints=False)
    op("Take", (INT, lt), lt, _take, "{1}[:{0}]", P_CALL, (P_LAMBDA, P_CALL), group=group, makes_ints=False)
    op("Drop", (INT, lt), lt, _drop, "{1}[{0}:]", P_CALL, (P_LAMBDA, P_CALL), group=group, makes_ints=False)
    op("Access", (INT, lt), t, _access, "{1}[{0}]", P_CALL, (P_LAMBDA, P_CALL), group=group, makes_ints=False)
    op("Reverse", (lt,), lt, lambda xs: xs[::-1], "{0}[::-1]", P_CALL, (P_CALL,), group=group, makes_ints=False)
    op("Sort", (lt,), lt, sorted, "sorted({0})", P_CALL, (P_LAMBDA,), group=group, makes_ints=False)
    op("Length", (lt,), INT, len, "len({0})", P_CALL, (P_LAMBDA,), group=group)
    op("ListConcat", (lt, lt), lt, lambda a, b: a + b, "{0} + {1}", P_ADD, (P_ADD, P_MUL), cost=2, group=group,
       makes_ints=False)
    op("Cons", (t, lt), lt, lambda x, xs: [x] + xs, "[{0}] + {1}", P_ADD, (P_LAMBDA, P_MUL), cost=2, group=group,
       makes_ints=False)
    op("Append", (lt, t), lt, lambda xs, x: xs + [x], "{0} + [{1}]", P_ADD, (P_ADD, P_LAMBDA), cost=2, group=group,
       makes_ints=False)
    op("CountOf", (lt, t), INT, lambda xs, x: xs.count(x), "{0}.count({1})", P_CALL, (P_CALL, P_LAMBDA), cost=2,
       group=group)
    op("Member", (lt, t), BOOL, lambda xs, x: x in xs, "{1} in {0}", P_CMP, (P_CMP + 1, P_CMP + 1), cost=2, group=group)


_list_ops(INT, LINT, "list")
_list_ops(STR, LSTR, "strlist")
op("Sum", (LINT,), INT, sum, "sum({0})", P_CALL, (P_LAMBDA,), group="list")
op("Minimum", (LINT,), INT, _minimum, "min({0})", P_CALL, (P_LAMBDA,), group="list", makes_ints=False)
op("Maximum", (LINT,), INT, _maximum, "max({0})", P_CALL, (P_LAMBDA,), group="list", makes_ints=False)
op("Range", (INT,), LINT, _range, "list(range({0}))", P_CALL, (P_LAMBDA,), cost=2, group="range", makes_ints=False)

# ---------------------------------------------------------------------------- higher-order
# The lambda argument comes first; the renderer turns these into comprehensions.
MAP = op("Map", (INT, LINT), LINT, _map, "", P_ATOM, (), group="hof", lambda_arity=1, lambda_types=(INT,),
         lambda_ret=INT)
FILTER = op("Filter", (BOOL, LINT), LINT, _filter, "", P_ATOM, (), group="hof", lambda_arity=1,
            lambda_types=(INT,), lambda_ret=BOOL, makes_ints=False)
COUNT = op("Count", (BOOL, LINT), INT, _count, "", P_CALL, (), group="hof", lambda_arity=1, lambda_types=(INT,),
           lambda_ret=BOOL)
ZIPWITH = op("ZipWith", (INT, LINT, LINT), LINT, _zipwith, "", P_ATOM, (), group="hof", lambda_arity=2,
             lambda_types=(INT, INT), lambda_ret=INT)
SCANL1 = op("Scanl1", (INT, LINT), LINT, _scanl1, "", P_CALL, (), group="hof", lambda_arity=2,
            lambda_types=(INT, INT), lambda_ret=INT, imports=("from itertools import accumulate",))
ANY = op("Any", (BOOL, LINT), BOOL, _any, "", P_CALL, (), cost=2, group="hof_bool", lambda_arity=1,
         lambda_types=(INT,), lambda_ret=BOOL)
ALL = op("All", (BOOL, LINT), BOOL, _all, "", P_CALL, (), cost=2, group="hof_bool", lambda_arity=1,
         lambda_types=(INT,), lambda_ret=BOOL)
MAP_STR = op("MapStr", (STR, LSTR), LSTR, _map, "", P_ATOM, (), group="hof_str", lambda_arity=1,
             lambda_types=(STR,), lambda_ret=STR, makes_ints=False)
FILTER_STR = op("FilterStr", (BOOL, LSTR), LSTR, _filter, "", P_ATOM, (), group="hof_str", lambda_arity=1,
                lambda_types=(STR,), lambda_ret=BOOL, makes_ints=False)

OPS_BY_NAME: dict[str, list[Op]] = {}
for _o in OPS:
    OPS_BY_NAME.setdefault(_o.name, []).append(_o)

# Small constants every task gets (the LambdaBeam DSL's -1..4; spreadsheet delimiters).
INT_CONSTANTS = (0, 1, 2, 3, 4, -1)
STR_CONSTANTS = ("", " ", ",", ".", "-", "/", "@", "_", ":", "(", ")")


def type_of(value: Any) -> str | None:
    """The DSL type of a Python value, or None if the DSL has no such type."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, str):
        return STR
    if isinstance(value, list):
        inner = {type_of(v) for v in value}
        if not inner:
            return None  # an empty list alone does not fix its element type
        if len(inner) != 1:
            return None
        t = inner.pop()
        lt = f"list[{t}]" if t is not None else None
        return lt if lt in ALL_TYPES else None
    return None


def unify_types(values: list[Any]) -> str | None:
    """The one DSL type shared by all `values` (empty lists take their type from the others)."""
    types = {type_of(v) for v in values if not (isinstance(v, list) and not v)}
    if len(types) == 1:
        return types.pop()  # may be None: an unsupported type
    if not types and all(isinstance(v, list) for v in values):
        return LINT
    return None


def element_type(list_type: str) -> str:
    return list_type[5:-1]

"""New inputs from the visible ones, by type-aware mutation (EvalPlus's recipe, in small).

Each new input is a visible input (or an earlier mutant) with one argument changed in a way
that keeps its type: ints and floats move by small steps or jump to edge values, strings gain,
lose or change characters, lists and sets gain, lose, swap or change elements, tuples keep
their length and change an element, dicts change a value or gain or lose a key. Values seen
anywhere in the inputs of the same type ("ingredients") are reused too. Sizes stay small so
that a slow but correct candidate is not mistaken for a wrong one.
"""

from __future__ import annotations

import random
import string
from typing import Any

MAX_LENGTH = 24
MAX_STRING = 60
MAX_INT = 10**6

Inputs = tuple[list, dict]


def _ingredients(value: Any, into: dict[type, list]) -> None:
    kind = type(value)
    if kind in (int, float, str, bool):
        into.setdefault(kind, []).append(value)
    elif kind in (list, tuple, set, frozenset):
        for item in value:
            _ingredients(item, into)
    elif kind is dict:
        for key, item in value.items():
            _ingredients(key, into)
            _ingredients(item, into)


def _clamp(n: int) -> int:
    return max(-MAX_INT, min(MAX_INT, n))


def _mutate_int(value: int, rng: random.Random, seen: list) -> int:
    choice = rng.randrange(7)
    if choice == 0:
        return value + 1
    if choice == 1:
        return value - 1
    if choice == 2:
        return _clamp(value + rng.randint(-10, 10))
    if choice == 3:
        return -value
    if choice == 4:
        return rng.choice([0, 1, 2])
    if choice == 5 and seen:
        return rng.choice(seen)
    return _clamp(value * 2 if abs(value) < 1000 else value // 2)


def _mutate_float(value: float, rng: random.Random, seen: list) -> float:
    choice = rng.randrange(6)
    if choice == 0:
        return value + rng.uniform(-1.0, 1.0) * max(1.0, abs(value))
    if choice == 1:
        return value / 2
    if choice == 2:
        return -value
    if choice == 3:
        return float(round(value)) + 0.5
    if choice == 4 and seen:
        return rng.choice(seen)
    return 0.0


def _mutate_str(value: str, rng: random.Random, seen: list) -> str:
    alphabet = value or string.ascii_letters + string.digits + " "
    if not value:
        return rng.choice(alphabet) if rng.random() < 0.7 else (rng.choice(seen) if seen else "a")
    at = rng.randrange(len(value))
    choice = rng.randrange(7)
    if choice == 0:  # insert a character the string already uses
        out = value[:at] + rng.choice(alphabet) + value[at:]
    elif choice == 1:
        out = value[:at] + value[at + 1:]
    elif choice == 2:
        out = value[:at] + rng.choice(alphabet + string.ascii_letters) + value[at + 1:]
    elif choice == 3:
        out = value[:at] + value[at].swapcase() + value[at + 1:]
    elif choice == 4 and len(value) > 1:
        j = rng.randrange(len(value))
        chars = list(value)
        chars[at], chars[j] = chars[j], chars[at]
        out = "".join(chars)
    elif choice == 5:
        end = rng.randrange(at, len(value)) + 1
        out = value[:end] + value[at:end] + value[end:]
    else:
        out = rng.choice(seen) if seen else value[::-1]
    return out[:MAX_STRING]


def _mutate_sequence(items: list, rng: random.Random, pool: dict[type, list], depth: int) -> list:
    items = list(items)
    choice = rng.randrange(7)
    if not items:
        return [_fresh_like(pool, rng)] if pool else items
    at = rng.randrange(len(items))
    if choice == 0 and len(items) > 0:
        del items[at]
    elif choice == 1 and len(items) < MAX_LENGTH:
        items.insert(rng.randrange(len(items) + 1), mutate_value(items[at], rng, pool, depth + 1))
    elif choice == 2:
        items[at] = mutate_value(items[at], rng, pool, depth + 1)
    elif choice == 3 and len(items) > 1:
        j = rng.randrange(len(items))
        items[at], items[j] = items[j], items[at]
    elif choice == 4:
        items.reverse()
    elif choice == 5 and len(items) < MAX_LENGTH:
        items.insert(at, items[at])
    else:
        items = items[: rng.randrange(len(items) + 1)]
    return items[:MAX_LENGTH]


def _fresh_like(pool: dict[type, list], rng: random.Random) -> Any:
    kinds = sorted(pool, key=lambda k: k.__name__)
    return rng.choice(pool[rng.choice(kinds)])


def mutate_value(value: Any, rng: random.Random, pool: dict[type, list], depth: int = 0) -> Any:
    """A value of the same type as `value`, changed a little."""
    kind = type(value)
    if depth > 4:
        return value
    if kind is bool:
        return not value
    if kind is int:
        return _mutate_int(value, rng, pool.get(int, []))
    if kind is float:
        return _mutate_float(value, rng, pool.get(float, []))
    if kind is str:
        return _mutate_str(value, rng, pool.get(str, []))
    if kind is list:
        return _mutate_sequence(value, rng, pool, depth)
    if kind is tuple:
        if not value:
            return value
        items = list(value)
        at = rng.randrange(len(items))
        items[at] = mutate_value(items[at], rng, pool, depth + 1)
        return tuple(items)
    if kind in (set, frozenset):
        try:
            return kind(_mutate_sequence(sorted(value, key=repr), rng, pool, depth))
        except TypeError:  # an unhashable element made by a mutation
            return value
    if kind is dict:
        items = list(value.items())
        if not items:
            return value
        at = rng.randrange(len(items))
        choice = rng.randrange(3)
        if choice == 0:
            items[at] = (items[at][0], mutate_value(items[at][1], rng, pool, depth + 1))
        elif choice == 1 and len(items) > 1:
            del items[at]
        else:
            key = mutate_value(items[at][0], rng, pool, depth + 1)
            try:
                hash(key)
            except TypeError:
                return value
            items.append((key, mutate_value(items[at][1], rng, pool, depth + 1)))
        return dict(items)
    return value


def _key(inputs: Inputs) -> str:
    try:
        return repr(inputs)
    except ValueError:
        return str(id(inputs))


def mutate_inputs(seeds: list[Inputs], count: int, seed: int = 0) -> list[Inputs]:
    """Up to `count` new inputs, distinct from the seeds and from each other, reproducible by seed."""
    seeds = [(list(args), dict(kwargs)) for args, kwargs in seeds if args or kwargs]
    if not seeds or count <= 0:
        return []
    rng = random.Random(seed)
    pool: dict[type, list] = {}
    for args, kwargs in seeds:
        for value in list(args) + list(kwargs.values()):
            _ingredients(value, pool)
    seen = {_key(s) for s in seeds}
    corpus = list(seeds)
    made: list[Inputs] = []
    for _ in range(count * 20):
        if len(made) >= count:
            break
        args, kwargs = rng.choice(corpus)
        args, kwargs = list(args), dict(kwargs)
        positions = len(args) + len(kwargs)
        for _ in range(1 if rng.random() < 0.7 else 2):
            at = rng.randrange(positions)
            if at < len(args):
                args[at] = mutate_value(args[at], rng, pool)
            else:
                name = sorted(kwargs)[at - len(args)]
                kwargs[name] = mutate_value(kwargs[name], rng, pool)
        key = _key((args, kwargs))
        if key in seen:
            continue
        seen.add(key)
        made.append((args, kwargs))
        corpus.append((args, kwargs))
    return made

"""Benchmark loaders, each yielding Tasks; `load_benchmark(name)` picks one by name."""

from __future__ import annotations

from collections.abc import Callable

from bombe.task import InputError, Task, load_tasks


def _humaneval() -> list[Task]:
    from bombe.benchmarks import humaneval

    return humaneval.load()


LOADERS: dict[str, Callable[[], list[Task]]] = {"humaneval": _humaneval}


class UnknownBenchmark(Exception):
    pass


def load_benchmark(name: str) -> list[Task]:
    """Tasks of a named benchmark, or of `jsonl:PATH`."""
    if name.startswith("jsonl:"):
        return load_tasks(name.removeprefix("jsonl:"))
    if name not in LOADERS:
        raise UnknownBenchmark(f"unknown benchmark {name!r}; known: {', '.join(sorted(LOADERS))}, jsonl:PATH")
    return LOADERS[name]()


__all__ = ["InputError", "LOADERS", "UnknownBenchmark", "load_benchmark"]

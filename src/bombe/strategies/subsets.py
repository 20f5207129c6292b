"""Fixed task subsets, drawn once by a seeded draw and kept as files in the repository.

`python -m bombe.strategies.subsets` redraws the HumanEval+ 40-task subset and prints it; the
committed file `subsets/humaneval_plus_40.txt` is what `bombe solve --tasks-list` reads, so
the subset never changes with the code or the data's order.
"""

from __future__ import annotations

import random
import re
import sys
from importlib import resources
from pathlib import Path

SEED = 2026
HUMANEVAL_PLUS_40 = "humaneval_plus_40.txt"


def _number(task_id: str) -> tuple[str, int]:
    prefix, _, tail = task_id.rpartition("/")
    return (prefix, int(tail)) if tail.isdigit() else (task_id, -1)


def draw_subset(task_ids: list[str], size: int, seed: int = SEED) -> list[str]:
    """`size` task ids drawn without replacement by random.Random(seed) from the sorted ids,
    returned in task order. The same ids, size and seed give the same subset everywhere."""
    pool = sorted(set(task_ids), key=_number)
    if size > len(pool):
        raise ValueError(f"cannot draw {size} tasks from {len(pool)}")
    return sorted(random.Random(seed).sample(pool, size), key=_number)


def subset_path(name: str = HUMANEVAL_PLUS_40) -> Path:
    return Path(str(resources.files("bombe.strategies").joinpath("subsets", name)))


def read_task_list(path: str | Path) -> list[str]:
    """Task ids from a file, one a line; blank lines and # comments are skipped."""
    ids = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = re.sub(r"#.*", "", line).strip()
        if line:
            ids.append(line)
    return ids


def main(argv: list[str] | None = None) -> None:
    from bombe.benchmarks import load_benchmark

    data_dir = (argv or sys.argv[1:] or [None])[0]
    ids = [task.task_id for task in load_benchmark("humaneval+", data_dir)]
    print(f"# HumanEval+ v0.1.10: 40 of {len(ids)} tasks drawn by bombe.strategies.subsets.draw_subset, "
          f"seed {SEED}")
    print("\n".join(draw_subset(ids, 40, SEED)))


if __name__ == "__main__":
    main()

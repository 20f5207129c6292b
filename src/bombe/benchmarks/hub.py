"""Benchmark files from the Hugging Face hub, for users with the network: `--data-dir hub`.

A benchmark whose data is on the hub is fetched with `datasets`, written into a cache in the
exact format of the file the loader reads from a data directory, and read from there; so the
loaders have one path, and a fetched copy is checked like any other. Needs the `hub` extra
(`pip install 'bombe[hub]'`).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bombe.paths import cache_root

HUB = "hub"  # the --data-dir value that asks for the hub

# The data directory's file -> (hub dataset, configuration, splits that together make the file).
SOURCES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "mbpp/mbpp.jsonl.gz": ("google-research-datasets/mbpp", "full", ("prompt", "test", "validation", "train")),
    "mbpp/sanitized-mbpp.json.gz": (
        "google-research-datasets/mbpp", "sanitized", ("prompt", "test", "validation", "train")),
    "cruxeval/cruxeval.jsonl.gz": ("cruxeval-org/cruxeval", None, ("test",)),
}

# (dataset, configuration, split) -> rows; `datasets.load_dataset` unless a test gives another.
SplitLoader = Callable[[str, str | None, str], Any]


class HubUnavailable(Exception):
    """The file is not on the hub, `datasets` is missing, or the fetch failed."""


def cache_dir() -> Path:
    return cache_root() / "hub"


def _load_from_hub(dataset: str, config: str | None, split: str) -> Any:
    try:
        import datasets
    except ImportError:
        raise HubUnavailable("fetching from the hub needs the `datasets` package: pip install 'bombe[hub]'") from None
    return datasets.load_dataset(dataset, config, split=split)


def materialize(relative: str, load_split: SplitLoader = _load_from_hub, root: Path | None = None) -> Path:
    """The path of `relative` as fetched from the hub, fetching it once into the cache."""
    if relative not in SOURCES:
        raise HubUnavailable(f"{relative} is not on the hub; give --data-dir DIR holding it")
    target = (root or cache_dir()) / relative
    if target.is_file():
        return target
    dataset, config, splits = SOURCES[relative]
    try:
        rows = [dict(row) for split in splits for row in load_split(dataset, config, split)]
    except HubUnavailable:
        raise
    except Exception as exc:  # the network, the hub, or the dataset's shape
        raise HubUnavailable(f"could not fetch {dataset} from the hub: {exc}") from None
    rows.sort(key=lambda row: _order(row.get("task_id", row.get("id"))))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as handle:
        if relative.endswith(".jsonl.gz"):
            handle.writelines(json.dumps(row) + "\n" for row in rows)
        else:
            json.dump(rows, handle)
    partial.replace(target)  # a fetch cut short never leaves a file that looks complete
    return target


def _order(key: Any) -> tuple:
    """Records in the order of the upstream file: by number, where the id ends in one."""
    text = str(key)
    digits = text.rsplit("_", 1)[-1]
    return (0, int(digits), text) if digits.isdigit() else (1, 0, text)

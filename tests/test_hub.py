"""`--data-dir hub`: benchmark files fetched with `datasets`, tested on a local copy of the hub.

The hub is unreachable here, so a stand-in serves each (dataset, configuration, split) from
files made from the shared data, through the real `datasets` library; the loaders must then
give exactly the tasks they give from the data directory.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from benchkit import DATA

from bombe.benchmarks import MissingData, hub, load_benchmark

datasets = pytest.importorskip("datasets")

# MBPP's splits on the hub, by task number, as its README lays them out.
MBPP_SPLITS = {"prompt": range(1, 11), "test": range(11, 511), "validation": range(511, 601), "train": range(601, 975)}


def _read(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    return json.loads(text) if path.name.endswith(".json.gz") else [json.loads(line) for line in text.splitlines()]


def _local_hub(tmp_path: Path):
    """A SplitLoader that serves the shared data as the hub would, split by split."""
    def load_split(dataset: str, config: str | None, split: str):
        relative = {("google-research-datasets/mbpp", "full"): "mbpp/mbpp.jsonl.gz",
                    ("google-research-datasets/mbpp", "sanitized"): "mbpp/sanitized-mbpp.json.gz",
                    ("cruxeval-org/cruxeval", None): "cruxeval/cruxeval.jsonl.gz"}[(dataset, config)]
        rows = _read(DATA / relative)
        if dataset.endswith("mbpp"):
            rows = [row for row in rows if row["task_id"] in MBPP_SPLITS[split]]
        part = tmp_path / "parts" / f"{config}-{split}.jsonl"
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        return datasets.load_dataset("json", data_files=str(part), split="train")
    return load_split


pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not found at {DATA}")


@pytest.mark.parametrize("benchmarks", [("mbpp", "mbpp-sanitized"), ("cruxeval-o", "cruxeval-i")])
def test_fetched_files_give_the_same_tasks(tmp_path: Path, monkeypatch, benchmarks):
    monkeypatch.setenv("BOMBE_CACHE", str(tmp_path / "cache"))
    for relative in hub.SOURCES:
        if any(part in relative for part in ("mbpp", "cruxeval")):
            hub.materialize(relative, _local_hub(tmp_path))
    for name in benchmarks:
        fetched = load_benchmark(name, hub.HUB)
        local = load_benchmark(name, DATA)
        assert [t.model_dump() for t in fetched] == [t.model_dump() for t in local]


def test_a_cached_fetch_is_reused(tmp_path: Path):
    calls = []

    def counting(dataset, config, split):
        calls.append(split)
        return _local_hub(tmp_path)(dataset, config, split)

    first = hub.materialize("cruxeval/cruxeval.jsonl.gz", counting, root=tmp_path / "cache")
    again = hub.materialize("cruxeval/cruxeval.jsonl.gz", counting, root=tmp_path / "cache")
    assert first == again and calls == ["test"]


def test_a_failed_fetch_says_so_and_leaves_nothing(tmp_path: Path):
    def broken(dataset, config, split):
        raise ConnectionError("no route to the hub")

    with pytest.raises(hub.HubUnavailable, match="no route to the hub"):
        hub.materialize("cruxeval/cruxeval.jsonl.gz", broken, root=tmp_path)
    assert not any(tmp_path.rglob("*.gz*"))


def test_a_benchmark_not_on_the_hub_is_one_clear_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BOMBE_CACHE", str(tmp_path))
    with pytest.raises(MissingData, match="not on the hub"):
        load_benchmark("p3", hub.HUB)

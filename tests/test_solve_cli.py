"""`bombe solve` and `bombe compare` against a real llama.cpp server (SmolLM2-135M): results
committed per task, resumed runs served from the completion cache, and the comparison plot."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")

BOMBE = shutil.which("bombe", path=str(Path(sys.executable).parent)) or "bombe"
TASKS = [
    {"task_id": "toy/shout", "entry_point": "shout",
     "prompt": 'def shout(s):\n    """Return s in upper case with an exclamation mark after it.\n'
               '    >>> shout(\'hi\')\n    \'HI!\'\n    """\n',
     "tests": [{"args": ["hi"], "expected": "HI!"}], "hidden_tests": [{"args": ["zqx"], "expected": "ZQX!"}]},
    {"task_id": "toy/add", "entry_point": "add",
     "prompt": 'def add(a, b):\n    """Return the sum of a and b.\n    >>> add(2, 3)\n    5\n    """\n',
     "tests": [{"args": [2, 3], "expected": 5}], "hidden_tests": [{"args": [9137, 1], "expected": 9138}]},
]


def bombe(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([BOMBE, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture()
def tasks_file(tmp_path) -> Path:
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in TASKS))
    return path


def solve_args(tasks_file: Path, server, store: Path, run: str, *extra: str) -> list[str]:
    return ["solve", "--benchmark", f"jsonl:{tasks_file}", "--model", server.spec, "--strategy", "filter-cluster",
            "--option", "n=2", "--option", "mutants=4", "--budget-tokens", "1200", "--budget-samples", "2",
            "--max-tokens", "32", "--workers", "1", "--timeout", "5", "--run", run, "--store", str(store), *extra]


def count(store: Path, sql: str) -> int:
    with sqlite3.connect(store) as db:
        return db.execute(sql).fetchone()[0]


def test_solve_records_each_task_and_a_resumed_run_asks_the_model_nothing_twice(llama_server, tasks_file, tmp_path):
    store = tmp_path / "runs.db"
    before = llama_server.generation_requests()
    first = bombe(*solve_args(tasks_file, llama_server, store, "first", "--summary", str(tmp_path / "s.json"),
                              "--out", str(tmp_path / "tasks.jsonl.out"), "--parallel-tasks", "2"))
    assert first.returncode == 0, first.stderr
    asked = llama_server.generation_requests() - before
    assert asked >= 2
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["done"] == summary["tasks"] == 2 and summary["strategy"] == "filter-cluster"
    assert 0 < summary["tokens"] <= 2 * 1200 and summary["executions"] >= 1
    records = [json.loads(line) for line in (tmp_path / "tasks.jsonl.out").read_text().splitlines()]
    assert sorted(r["task_id"] for r in records) == ["toy/add", "toy/shout"]  # in the order they finished
    records.sort(key=lambda r: r["task_id"] != "toy/shout")
    for record in records:
        assert record["spent"]["tokens"] <= 1200 and record["spent"]["samples"] <= 2
        assert record["visible_checks"] == 1 and record["statuses"]
    ledger_rows = count(store, "SELECT COUNT(*) FROM ledger")
    assert ledger_rows == sum(r["spent"]["samples"] for r in records)
    assert count(store, "SELECT COUNT(*) FROM outcomes") == 2 and count(store, "SELECT COUNT(*) FROM solves") == 2

    # The second task was cut off before its result was committed: the rerun redoes it alone,
    # with every completion from the cache, and its ledger rows are not counted twice.
    with sqlite3.connect(store) as db:
        for table in ("solves", "outcomes", "samples"):
            db.execute(f"DELETE FROM {table} WHERE position = 1")
    resumed = bombe(*solve_args(tasks_file, llama_server, store, "first", "--summary", str(tmp_path / "s2.json")))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run first: 1 of 2 tasks done" in resumed.stderr
    assert llama_server.generation_requests() - before == asked
    again = json.loads((tmp_path / "s2.json").read_text())
    assert again["solved"] == summary["solved"] and again["tokens"] == summary["tokens"]
    assert again["cache"]["misses"] == 0 and again["cache"]["hits"] == records[1]["spent"]["samples"]
    assert count(store, "SELECT COUNT(*) FROM ledger") == ledger_rows
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM ledger WHERE cached = 1").fetchone()[0] == again["cache"]["hits"]

    # Another run asking the same: nothing reaches the server.
    second = bombe(*solve_args(tasks_file, llama_server, store, "second", "--tasks-list", str(_list(tmp_path))))
    assert second.returncode == 0, second.stderr
    assert llama_server.generation_requests() - before == asked

    plot, numbers = tmp_path / "curve.png", tmp_path / "compare.json"
    compared = bombe("compare", "first", "second", "--store", str(store), "--plot", str(plot), "--json", str(numbers))
    assert compared.returncode == 0, compared.stderr
    assert "solved" in compared.stdout and "first" in compared.stdout and "second" in compared.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000
    rows = json.loads(numbers.read_text())
    assert [r["run"] for r in rows] == ["first", "second"] and rows[1]["tasks"] == 1
    assert {r["strategy"] for r in rows} == {"filter-cluster"}
    assert rows[0]["solve_rate"] == summary["solved"] / 2
    if rows[0]["solved"]:
        assert rows[0]["tokens_per_solved_task"] == pytest.approx(rows[0]["tokens"] / rows[0]["solved"])


def _list(tmp_path: Path) -> Path:
    path = tmp_path / "list.txt"
    path.write_text("# just one\ntoy/add\n")
    return path


def test_bad_solve_arguments_are_one_clear_line(llama_server, tasks_file, tmp_path):
    store = tmp_path / "s.db"
    for extra, message in [
        (["--option", "wings=2"], "has no option 'wings'"),
        (["--option", "n"], "expected KEY=VALUE"),
        (["--tasks-list", str(tmp_path / "missing.txt")], "cannot read"),
    ]:
        result = bombe(*solve_args(tasks_file, llama_server, store, "bad", *extra))
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "other.txt").write_text("toy/nosuch\n")
    result = bombe(*solve_args(tasks_file, llama_server, store, "bad", "--tasks-list", str(tmp_path / "other.txt")))
    assert result.returncode == 2 and "toy/nosuch" in result.stderr
    from bombe.store import Store

    Store(store).close()
    missing = bombe("compare", "nosuch", "--store", str(store))
    assert missing.returncode == 2 and "no run named 'nosuch'" in missing.stderr

"""The store: every outcome kept as it is produced, runs resumable, results exportable."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli import restore_sigint

from bombe.store import Store, StoreError
from bombe.task import Result, Sample, Task

BOMBE = str(Path(sys.executable).parent / "bombe")
SLOW_TASK = {
    "task_id": "slow/0", "prompt": "", "entry_point": "f",
    "tests": [{"args": [1], "expected": 2}, {"args": [2], "expected": 4}],
}


def _samples(count: int, sleep: float = 0.0) -> list[dict]:
    # Every third sample is wrong, so the results differ from sample to sample.
    samples = []
    for index in range(count):
        answer = "x * 3" if index % 3 == 0 else "x * 2"
        samples.append({"task_id": "slow/0",
                        "solution": f"import time\ndef f(x):\n    time.sleep({sleep})\n    return {answer}\n"})
    return samples


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _bombe(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([BOMBE, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def _without_time(path: Path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        line.pop("wall_ms")
    return lines


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    return _write_jsonl(tmp_path / "tasks.jsonl", [SLOW_TASK]), _write_jsonl(tmp_path / "samples.jsonl", _samples(24))


def _evaluate_args(tasks: Path, samples: Path, run: str, out: Path) -> list:
    return ["evaluate", "--tasks", tasks, "--samples", samples, "--run", run, "--out", out, "--workers", "1"]


def test_killed_run_resumes_to_the_same_results_without_duplicates(tmp_path: Path, inputs):
    tasks = inputs[0]
    samples = _write_jsonl(tmp_path / "slow.jsonl", _samples(24, sleep=0.1))
    whole = _bombe(*_evaluate_args(tasks, samples, "whole", tmp_path / "whole.jsonl"), cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr

    process = subprocess.Popen([BOMBE, *map(str, _evaluate_args(tasks, samples, "cut", tmp_path / "cut.jsonl"))],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    database = tmp_path / "bombe.db"
    deadline = time.monotonic() + 60
    judged = 0
    while time.monotonic() < deadline and judged < 5:
        time.sleep(0.1)
        if database.exists():
            try:
                with sqlite3.connect(database) as db:
                    judged = db.execute(
                        "SELECT COUNT(*) FROM outcomes JOIN runs ON runs.id = run_id WHERE name = 'cut'").fetchone()[0]
            except sqlite3.OperationalError:
                judged = 0
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 5 <= judged < 24, "the run was killed part-way"

    resumed = _bombe(*_evaluate_args(tasks, samples, "cut", tmp_path / "cut.jsonl"), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run cut" in resumed.stderr
    assert _without_time(tmp_path / "cut.jsonl") == _without_time(tmp_path / "whole.jsonl")
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT COUNT(*), COUNT(DISTINCT position) FROM outcomes JOIN runs ON runs.id = run_id "
                          "WHERE name = 'cut'").fetchone()
    assert rows == (24, 24)


def test_a_finished_run_is_not_judged_again(tmp_path: Path, inputs):
    tasks, samples = inputs
    first = _bombe(*_evaluate_args(tasks, samples, "again", tmp_path / "a.jsonl"), cwd=tmp_path)
    assert first.returncode == 0
    query = "SELECT position, created, wall_ms FROM outcomes ORDER BY position"
    with sqlite3.connect(tmp_path / "bombe.db") as db:
        before = db.execute(query).fetchall()
    second = _bombe(*_evaluate_args(tasks, samples, "again", tmp_path / "b.jsonl"), cwd=tmp_path)
    assert second.returncode == 0
    assert "24 of 24 samples already judged" in second.stderr
    with sqlite3.connect(tmp_path / "bombe.db") as db:
        assert db.execute(query).fetchall() == before, "nothing was judged again"
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_runs_show_and_export(tmp_path: Path, inputs):
    tasks, samples = inputs
    assert _bombe(*_evaluate_args(tasks, samples, "r1", tmp_path / "r1.jsonl"), cwd=tmp_path).returncode == 0
    listing = _bombe("runs", cwd=tmp_path)
    assert listing.returncode == 0 and "r1" in listing.stdout and "24/24" in listing.stdout
    shown = _bombe("show", "r1", cwd=tmp_path)
    assert shown.returncode == 0 and "16/24" in shown.stdout

    as_jsonl = _bombe("export", "r1", "--format", "jsonl", cwd=tmp_path).stdout
    assert as_jsonl == (tmp_path / "r1.jsonl").read_text()
    as_json = json.loads(_bombe("export", "r1", "--format", "json", cwd=tmp_path).stdout)
    assert as_json["summary"]["passed"] == 16
    assert as_json["summary"]["pass_at_k"]["1"] == pytest.approx(16 / 24)
    assert set(as_json["summary"]) >= {"samples", "passed", "pass_at_k", "status_counts", "isolation", "run",
                                       "benchmark", "bombe_version", "python_version", "machine", "settings"}
    rows = list(csv.DictReader(io.StringIO(_bombe("export", "r1", "--format", "csv", cwd=tmp_path).stdout)))
    assert len(rows) == 24 and rows[0]["status"] == "fail" and rows[1]["status"] == "pass"


@pytest.mark.parametrize("command", [["show", "nope"], ["export", "nope"]])
def test_unknown_run_is_one_line_and_exit_2(tmp_path: Path, inputs, command):
    tasks, samples = inputs
    assert _bombe(*_evaluate_args(tasks, samples, "r1", tmp_path / "r1.jsonl"), cwd=tmp_path).returncode == 0
    result = _bombe(*command, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "nope" in result.stderr


def test_corrupt_store_is_one_line_and_exit_2(tmp_path: Path, inputs):
    tasks, samples = inputs
    (tmp_path / "bombe.db").write_bytes(b"this is not sqlite" * 100)
    for args in (_evaluate_args(tasks, samples, "r", tmp_path / "o.jsonl"), ["runs"], ["show", "r"]):
        result = _bombe(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1 and "bombe.db" in result.stderr
        assert "Traceback" not in result.stderr
    assert (tmp_path / "bombe.db").read_bytes() == b"this is not sqlite" * 100, "a corrupt store is left as it was"


def test_resuming_with_other_samples_is_refused(tmp_path: Path):
    task = Task.model_validate(SLOW_TASK)
    samples = [Sample.model_validate(s) for s in _samples(3)]
    with Store(tmp_path / "s.db") as store:
        run, done = store.open_run("r", "test", "t", [task], samples, [s.solution for s in samples], {})
        assert done == {}
        store.record(run, 1, Result(task_id="slow/0", sample_index=1, status="pass", passed=True,
                                    checks_run=2, checks_passed=2, wall_ms=1.0))
        again, done = store.open_run("r", "test", "t", [task], samples, [s.solution for s in samples], {})
        assert again.id == run.id and list(done) == [1] and done[1].passed
        with pytest.raises(StoreError, match="other tasks or samples"):
            store.open_run("r", "test", "t", [task], samples[:2], [s.solution for s in samples[:2]], {})


def test_ctrl_c_keeps_what_was_judged_and_says_how_to_resume(tmp_path: Path, inputs):
    tasks = inputs[0]
    samples = _write_jsonl(tmp_path / "slow.jsonl", _samples(24, sleep=0.1))
    process = subprocess.Popen([BOMBE, *map(str, _evaluate_args(tasks, samples, "int", tmp_path / "int.jsonl"))],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=restore_sigint)
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "rerun with --run int" in stderr and "Traceback" not in stderr
    resumed = _bombe(*_evaluate_args(tasks, samples, "int", tmp_path / "int.jsonl"), cwd=tmp_path)
    assert resumed.returncode == 0 and "resuming run int" in resumed.stderr
    assert len((tmp_path / "int.jsonl").read_text().splitlines()) == 24

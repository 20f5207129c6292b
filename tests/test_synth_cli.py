"""`bombe synth`, run as a user runs it: a subprocess on the demo suite and on task files."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from test_cli import BOMBE, Run, assert_one_line_error, bombe, read_jsonl, restore_sigint, write_jsonl

from bombe.enumerate import Synthesis
from bombe.enumerate.driver import arg_names_of, confirm
from bombe.task import Task

LINE_KEYS = {"task_id", "status", "program", "hidden_passed", "seconds"}
STATUSES = {"solved", "not_found", "timeout"}
DEMO_FIRST = 5  # the demo's first tasks: sum_positives, reverse_then_take, spread, count_evens, running_sums


def _task(task_id: str, visible: list, hidden: list | None = None, **extra) -> dict:
    record = {"task_id": task_id, "prompt": "", "entry_point": "f",
              "tests": [{"args": a, "expected": e} for a, e in visible], **extra}
    if hidden is not None:
        record["hidden_tests"] = [{"args": a, "expected": e} for a, e in hidden]
    return record


# The length of the list fits the visible examples; the hidden one asks something else of a
# visible input, so every program the examples allow fails it.
OVERFIT = _task("t/overfit", [([[1, 2, 3]], 3), ([[5, 5]], 2), ([[4]], 1)], [([[1, 2, 3]], 4)], arg_names=["xs"])
DOUBLE = _task("t/double", [([1], 2), ([4], 8), ([-3], -6)], [([10], 20), ([0], 0)], arg_names=["n"])


def _synth(root: Path, *args, store: Path | None = None, timeout: float = 120) -> Run:
    """`bombe synth` in a wide terminal, so the report's lines and table come out whole."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    done = subprocess.run([BOMBE, "synth", "--store", str(store or root / "synth.db"), *map(str, args)],
                          capture_output=True, text=True, cwd=root, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    run = _synth(root, "--suite", "demo", "--limit", str(DEMO_FIRST), "--timeout", "5", "--out", root / "out.jsonl",
                 "--run", "demo-run", "--show", "2")
    return run, root


def test_demo_suite_is_solved_and_judged(demo_run):
    run, root = demo_run
    assert run.returncode == 0, run.stderr
    lines = read_jsonl(root / "out.jsonl")
    assert [line["task_id"] for line in lines][:2] == ["demo/sum_positives", "demo/reverse_then_take"]
    assert len(lines) == DEMO_FIRST and all(set(line) == LINE_KEYS for line in lines)
    assert all(line["status"] in STATUSES for line in lines)
    solved = [line for line in lines if line["status"] == "solved"]
    assert len(solved) >= DEMO_FIRST - 1, lines
    for line in lines:
        assert 0 <= line["seconds"] <= 5 * 1.05 + 1
        if line["status"] == "solved":
            entry_point = line["task_id"].split("/")[1]
            assert f"def {entry_point}(" in line["program"]
            assert isinstance(line["hidden_passed"], bool)  # every demo task has hidden examples
        else:
            assert line["program"] is None and line["hidden_passed"] is None
    assert sum(line["hidden_passed"] is True for line in lines) >= DEMO_FIRST - 2, lines


def test_demo_report_prints_each_task_the_table_and_programs(demo_run):
    run, _ = demo_run
    for task_id in ("demo/sum_positives", "demo/spread"):
        assert task_id in run.stdout
    assert "hidden passed" in run.stdout and "demo-run" in run.stdout
    assert "def sum_positives(xs" in run.stdout  # --show 2: full programs follow the table
    shown = run.stdout.split("hidden passed", 1)[1]
    assert shown.count("# demo/") == 2


def test_a_synth_run_is_in_the_store(demo_run):
    _, root = demo_run
    show = bombe("show", "demo-run", "--store", root / "synth.db", cwd=root)
    assert show.returncode == 0, show.stderr
    assert f"/{DEMO_FIRST}" in show.stdout and "pass@1" in show.stdout
    with sqlite3.connect(root / "synth.db") as db:
        run_id = db.execute("SELECT id FROM runs WHERE name = 'demo-run'").fetchone()[0]
        for table in ("samples", "outcomes", "syntheses"):
            count = db.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", (run_id,)).fetchone()[0]
            assert count == DEMO_FIRST, table


def test_resume_synthesizes_only_what_is_missing(demo_run, tmp_path):
    _, root = demo_run
    copy = tmp_path / "synth.db"
    copy.write_bytes((root / "synth.db").read_bytes())
    with sqlite3.connect(copy) as db:  # as if the run had been killed before its last task was recorded
        db.execute("DELETE FROM syntheses WHERE position = ?", (DEMO_FIRST - 1,))
    again = _synth(tmp_path, "--suite", "demo", "--limit", str(DEMO_FIRST), "--timeout", "5",
                   "--out", tmp_path / "out.jsonl", "--run", "demo-run", store=copy)
    assert again.returncode == 0, again.stderr
    assert f"resuming run demo-run: {DEMO_FIRST - 1} of {DEMO_FIRST} tasks already done" in again.stderr
    assert again.stdout.count("(stored)") == DEMO_FIRST - 1
    assert [line["task_id"] for line in read_jsonl(tmp_path / "out.jsonl")] == \
           [line["task_id"] for line in read_jsonl(root / "out.jsonl")]
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT COUNT(*) FROM syntheses").fetchone()[0] == DEMO_FIRST


def test_hidden_examples_judge_the_program_the_visible_ones_chose(tmp_path):
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [OVERFIT, DOUBLE])
    run = _synth(tmp_path, "--tasks", tasks, "--timeout", "5", "--out", tmp_path / "out.jsonl")
    assert run.returncode == 0, run.stderr
    overfit, double = read_jsonl(tmp_path / "out.jsonl")
    assert overfit["status"] == "solved" and overfit["hidden_passed"] is False
    assert double["status"] == "solved" and double["hidden_passed"] is True
    assert "hidden FAIL" in run.stdout


def test_tasks_without_hidden_examples_report_none(tmp_path):
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [_task("t/inc", [([1], 2), ([5], 6), ([-1], 0)])])
    run = _synth(tmp_path, "--tasks", tasks, "--timeout", "5", "--out", tmp_path / "out.jsonl")
    assert run.returncode == 0, run.stderr
    [line] = read_jsonl(tmp_path / "out.jsonl")
    assert line["status"] == "solved" and line["hidden_passed"] is None
    assert "n/a" in run.stdout  # no hidden column to count


def test_a_program_the_sandbox_does_not_confirm_is_not_solved(sandbox):
    """The trust rule: whatever the synthesizer says, the sandbox decides."""
    task = Task.model_validate(DOUBLE)
    wrong = Synthesis(status="solved", program="def f(n):\n    return n + 2\n", expression="n + 2", seconds=0.1,
                      size=3, ambiguity=None)
    solution, result = confirm(task, wrong, 0.1, sandbox)
    assert solution.status == "not_found" and solution.program is None
    assert "visible example" in solution.note and not result.passed
    right = Synthesis(status="solved", program="def f(n):\n    return n * 2\n", expression="n * 2", seconds=0.1,
                      size=3, ambiguity=None)
    solution, result = confirm(task, right, 0.1, sandbox)
    assert solution.status == "solved" and solution.hidden_passed is True and result.passed


def test_argument_names_come_from_the_task_or_its_prompt():
    named = Task.model_validate(_task("t/a", [([1, 2], 3)], arg_names=["left", "right"]))
    assert arg_names_of(named) == ["left", "right"]
    prompted = Task.model_validate({**_task("t/b", [([1, 2], 3)]), "prompt": "def f(a, b):\n    \"\"\"Add.\"\"\"\n"})
    assert arg_names_of(prompted) == ["a", "b"]
    assert arg_names_of(Task.model_validate(_task("t/c", [([1, 2], 3)]))) is None  # the synthesizer names them


# ---- bad input ------------------------------------------------------------------------------

def _narrow(root: Path, *args) -> Run:
    return bombe("synth", "--store", root / "synth.db", *args, cwd=root)


def test_malformed_tasks_file_is_one_line(tmp_path):
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [DOUBLE, '{"task_id": "x", "entry_point": '])
    assert_one_line_error(_narrow(tmp_path, "--tasks", tasks), str(tasks), "line 2")
    asserts = {"task_id": "t/a", "entry_point": "f", "test_list": ["assert f(1) == 2"]}
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [DOUBLE, asserts])
    assert_one_line_error(_narrow(tmp_path, "--tasks", tasks), str(tasks), "line 2", "field 'tests'")
    keywords = _task("t/k", [([1], 2)])
    keywords["tests"].append({"args": [], "kwargs": {"n": 3}, "expected": 6})
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [keywords])
    assert_one_line_error(_narrow(tmp_path, "--tasks", tasks), "line 1", "field 'tests.1.kwargs'")
    no_checks = {"task_id": "t/b", "entry_point": "f"}
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [no_checks])
    assert_one_line_error(_narrow(tmp_path, "--tasks", tasks), "line 1", "'tests'")


def test_unknown_suite_missing_data_and_missing_file_are_one_line(tmp_path):
    assert_one_line_error(_narrow(tmp_path, "--suite", "nope"), "unknown suite 'nope'", "lambdabeam")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(_narrow(tmp_path, "--suite", "lambdabeam-handwritten", "--data-dir", empty),
                          "lambdabeam_tasks_200.json", "looked in")
    assert_one_line_error(_narrow(tmp_path, "--tasks", tmp_path / "absent.jsonl"), "absent.jsonl", "not found")
    assert_one_line_error(_narrow(tmp_path), "--suite")


def test_ctrl_c_keeps_finished_tasks_and_says_how_to_resume(tmp_path):
    rng = random.Random(5)
    # Lists to unrelated lists: nothing small explains them, so the search runs to its limit.
    noise = _task("t/noise", [([[rng.randrange(-50, 50) for _ in range(6)]],
                               [rng.randrange(-50, 50) for _ in range(rng.randrange(2, 7))]) for _ in range(5)])
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [DOUBLE, noise])
    args = [BOMBE, "synth", "--tasks", tasks, "--timeout", "60", "--run", "int", "--out", tmp_path / "out.jsonl",
            "--store", tmp_path / "synth.db"]
    process = subprocess.Popen([str(a) for a in args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "NO_COLOR": "1"}, preexec_fn=restore_sigint)
    out, deadline = tmp_path / "out.jsonl", time.monotonic() + 60
    while not (out.is_file() and out.read_text().strip()):  # the first task is done
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.1)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "1 of 2 tasks are kept" in stderr and "rerun with --run int" in stderr and "Traceback" not in stderr
    with sqlite3.connect(tmp_path / "synth.db") as db:
        assert db.execute("SELECT task_id FROM syntheses").fetchall() == [("t/double",)]

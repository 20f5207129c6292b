"""The `bombe evaluate` command, run as a user runs it: a subprocess on files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bombe.sandbox.isolation import LEVELS

BOMBE = shutil.which("bombe", path=str(Path(sys.executable).parent)) or shutil.which("bombe")
RESULT_FIELDS = {"task_id", "sample_index", "status", "passed", "checks_run", "checks_passed", "error", "wall_ms"}
USAGE_ERROR = 2

ADD = {
    "task_id": "demo/add",
    "prompt": "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n",
    "entry_point": "add",
    "tests": [
        {"args": [1, 2], "expected": 3},
        {"args": [-1, 1], "expected": 0},
        {"args": [2], "kwargs": {"b": 5}, "expected": 7},
    ],
    "hidden_tests": [{"args": [10, 20], "expected": 30}],
    "canonical_solution": "    return a + b\n",
}
MEAN = {
    "task_id": "demo/mean",
    "prompt": "def mean(xs):\n",
    "entry_point": "mean",
    "tests": [{"args": [[1, 2, 2]], "expected": 1.666667, "atol": 1e-5}, {"args": [[0.5]], "expected": 0.5}],
    "canonical_solution": "    return sum(xs) / len(xs)\n",
}
EVEN = {
    "task_id": "demo/even",
    "prompt": "def is_even(n):\n",
    "entry_point": "is_even",
    "test": "def check(candidate):\n    assert candidate(2) == True\n    assert candidate(7) == False\n"
            "    assert candidate(0) == True\n",
    "canonical_solution": "    return n % 2 == 0\n",
}
REV = {
    "task_id": "demo/rev",
    "prompt": "",
    "entry_point": "rev",
    "setup": "BACKWARDS = 'cba'",
    "test_list": ["assert rev('abc') == BACKWARDS", "assert rev('') == ''", "assert rev('xy') == 'yx'"],
    "canonical_solution": "def rev(s):\n    return s[::-1]\n",
}
TASKS = [ADD, MEAN, EVEN, REV]

# (sample, expected status, expected sample_index), in input order, tasks interleaved
SAMPLES = [
    ({"task_id": "demo/add", "completion": "    return a + b\n"}, "pass", 0),
    ({"task_id": "demo/rev", "solution": "def rev(s):\n    return ''.join(reversed(s))\n"}, "pass", 0),
    ({"task_id": "demo/add", "completion": "    return a - b\n"}, "fail", 1),
    ({"task_id": "demo/even", "completion": "    return not n & 1\n"}, "pass", 0),
    ({"task_id": "demo/add", "solution": "def add(a, b)\n    return a + b\n"}, "invalid", 2),
    ({"task_id": "demo/rev", "solution": "def rev(s):\n    while True:\n        pass\n"}, "timeout", 1),
    ({"task_id": "demo/even", "completion": "    return n % 2 == 1\n"}, "fail", 1),
    ({"task_id": "demo/mean", "completion": "    return sum(xs) / len(xs)\n"}, "pass", 0),
    # right on every visible pair, wrong on the hidden one: the hidden pairs are judged too
    ({"task_id": "demo/add", "completion": "    return a + b if a < 5 else 0\n"}, "fail", 3),
]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def write_jsonl(path: Path, records: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def restore_sigint() -> None:
    """For a child a test will Ctrl-C: a shell that started the suite in the background set
    SIGINT to ignored, and Python keeps an ignored SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def bombe(*args: str | Path, cwd: Path, timeout: float = 60) -> Run:
    assert BOMBE, "the bombe command is not installed next to this interpreter"
    # a narrow terminal: a long error line must still come out as one line
    env = {**os.environ, "COLUMNS": "40", "NO_COLOR": "1"}
    done = subprocess.run([BOMBE, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    return Run(done.returncode, done.stdout, done.stderr)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_one_line_error(run: Run, *mentions: str) -> str:
    assert run.returncode == USAGE_ERROR, run.stderr
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    text = run.stderr.rstrip("\n")
    assert text.strip(), "no error message"
    assert "\n" not in text, f"more than one line on stderr:\n{run.stderr}"
    for mention in mentions:
        assert mention in text, f"{mention!r} not in {text!r}"
    return text


# --- a real evaluation ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    tasks = write_jsonl(root / "tasks.jsonl", TASKS)
    samples = write_jsonl(root / "samples.jsonl", [sample for sample, _, _ in SAMPLES])
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, "--out", root / "results.jsonl",
                "--summary", root / "summary.json", "--timeout", "1", "--workers", "2",
                "--unsafe-no-isolation", cwd=root)
    return run, root


def test_evaluate_exits_zero(evaluated):
    run, _ = evaluated
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr


def test_one_result_per_sample_in_input_order(evaluated):
    run, root = evaluated
    results = read_jsonl(root / "results.jsonl")
    assert [r["task_id"] for r in results] == [s["task_id"] for s, _, _ in SAMPLES]
    for result in results:
        assert set(result) == RESULT_FIELDS


def test_statuses(evaluated):
    _, root = evaluated
    results = read_jsonl(root / "results.jsonl")
    assert [r["status"] for r in results] == [status for _, status, _ in SAMPLES], results
    for result in results:
        assert result["passed"] is (result["status"] == "pass")


def test_sample_index_counts_per_task(evaluated):
    _, root = evaluated
    results = read_jsonl(root / "results.jsonl")
    assert [r["sample_index"] for r in results] == [index for _, _, index in SAMPLES]


def test_result_details(evaluated):
    _, root = evaluated
    results = read_jsonl(root / "results.jsonl")
    for result in results:
        assert isinstance(result["wall_ms"], (int, float)) and result["wall_ms"] >= 0
        assert 0 <= result["checks_passed"] <= result["checks_run"]
        if result["passed"]:
            assert result["error"] is None
            assert result["checks_run"] >= 1 and result["checks_passed"] == result["checks_run"]
        else:
            assert isinstance(result["error"], str) and result["error"]
    add_right, rev_right, add_wrong, _, invalid, timeout, _, mean_right, add_hidden_wrong = results
    assert (add_right["checks_run"], add_right["checks_passed"]) == (4, 4)        # 3 visible + 1 hidden
    assert (mean_right["checks_run"], mean_right["checks_passed"]) == (2, 2)
    assert (rev_right["checks_run"], rev_right["checks_passed"]) == (3, 3)        # one per test_list entry
    assert (add_wrong["checks_run"], add_wrong["checks_passed"]) == (4, 0)        # a - b is wrong on every pair
    assert add_hidden_wrong["checks_passed"] == 3 and add_hidden_wrong["checks_run"] == 4
    assert invalid["checks_passed"] == 0
    assert "Syntax" in invalid["error"]
    assert timeout["checks_passed"] == 0
    assert timeout["wall_ms"] < 30_000


def test_summary_file(evaluated):
    _, root = evaluated
    summary = json.loads((root / "summary.json").read_text())
    assert {"samples", "passed", "pass_at_k", "status_counts", "isolation"} <= set(summary)
    assert summary["samples"] == len(SAMPLES)
    assert summary["passed"] == sum(status == "pass" for _, status, _ in SAMPLES) == 4
    assert summary["status_counts"] == {"fail": 3, "invalid": 1, "pass": 4, "timeout": 1}
    # pass@1 is the mean over tasks of c/n: add 1/4, rev 1/2, even 1/2, mean 1/1
    assert summary["pass_at_k"]["1"] == pytest.approx((1 / 4 + 1 / 2 + 1 / 2 + 1) / 4)
    assert "10" not in summary["pass_at_k"]   # no task has 10 samples
    assert summary["isolation"] in LEVELS


def test_summary_is_printed(evaluated):
    run, _ = evaluated
    assert "pass@1" in run.stdout


def test_without_out_file_still_summarizes(tmp_path):
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [ADD])
    samples = write_jsonl(tmp_path / "samples.jsonl", [{"task_id": "demo/add", "completion": "    return a + b\n"}] * 2)
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, "--summary", tmp_path / "summary.json",
                "--unsafe-no-isolation", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["samples"] == 2 and summary["passed"] == 2 and summary["pass_at_k"]["1"] == 1.0


# --- reference solutions -------------------------------------------------------------------------


def test_reference_samples_all_pass(tmp_path):
    tasks = write_jsonl(tmp_path / "tasks.jsonl", TASKS)
    out, summary_path = tmp_path / "results.jsonl", tmp_path / "summary.json"
    run = bombe("evaluate", "--tasks", tasks, "--samples", "reference", "--out", out, "--summary", summary_path,
                "--unsafe-no-isolation", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    results = read_jsonl(out)
    assert [r["task_id"] for r in results] == [t["task_id"] for t in TASKS]
    assert [r["status"] for r in results] == ["pass"] * len(TASKS), results
    assert [r["sample_index"] for r in results] == [0] * len(TASKS)
    summary = json.loads(summary_path.read_text())
    assert summary["passed"] == len(TASKS) and summary["pass_at_k"]["1"] == 1.0


def test_reference_program_is_prompt_plus_canonical_solution(tmp_path):
    # the prompt holds a helper that the canonical solution calls: it passes only if both are joined
    task = {
        "task_id": "joined", "entry_point": "double",
        "prompt": "def _twice(x):\n    return x * 2\n\ndef double(x):\n",
        "canonical_solution": "    return _twice(x)\n",
        "tests": [{"args": [4], "expected": 8}],
    }
    broken = {**task, "task_id": "broken", "canonical_solution": "    return _thrice(x)\n"}
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [task, broken])
    out = tmp_path / "results.jsonl"
    run = bombe("evaluate", "--tasks", tasks, "--samples", "reference", "--out", out, "--unsafe-no-isolation",
                cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert [r["status"] for r in read_jsonl(out)] == ["pass", "error"]


def test_reference_needs_canonical_solutions(tmp_path):
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [ADD, {k: v for k, v in MEAN.items() if k != "canonical_solution"}])
    run = bombe("evaluate", "--tasks", tasks, "--samples", "reference", cwd=tmp_path)
    assert_one_line_error(run, str(tasks), "canonical_solution", "demo/mean")


# --- bad input: exit code 2 and one line naming file, line and field -----------------------------


@pytest.fixture
def good_files(tmp_path):
    tasks = write_jsonl(tmp_path / "tasks.jsonl", TASKS)
    samples = write_jsonl(tmp_path / "samples.jsonl", [s for s, _, _ in SAMPLES[:3]])
    return tmp_path, tasks, samples


def test_malformed_task_file_bad_json(good_files):
    root, _, samples = good_files
    tasks = write_jsonl(root / "broken-tasks.jsonl", [ADD, MEAN, '{"task_id": "x", "entry_point": '])
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, cwd=root)
    assert_one_line_error(run, str(tasks), "line 3")


def test_malformed_task_file_missing_field(good_files):
    root, _, samples = good_files
    tasks = write_jsonl(root / "broken-tasks.jsonl", [ADD, {k: v for k, v in MEAN.items() if k != "entry_point"}])
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, cwd=root)
    assert_one_line_error(run, str(tasks), "line 2", "entry_point")


def test_malformed_task_file_wrong_type(good_files):
    root, _, samples = good_files
    tasks = write_jsonl(root / "broken-tasks.jsonl", [{**ADD, "tests": [{"args": 1, "expected": 2}]}])
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, cwd=root)
    assert_one_line_error(run, str(tasks), "line 1", "tests.0.args")


def test_malformed_sample_file(good_files):
    root, tasks, _ = good_files
    samples = write_jsonl(root / "broken-samples.jsonl", [SAMPLES[0][0], {"task_id": "demo/add", "code": "x"}])
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, cwd=root)
    assert_one_line_error(run, str(samples), "line 2", "solution", "completion")


def test_sample_file_bad_json(good_files):
    root, tasks, _ = good_files
    samples = write_jsonl(root / "broken-samples.jsonl", ["not json at all"])
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, cwd=root)
    assert_one_line_error(run, str(samples), "line 1")


def test_sample_for_unknown_task(good_files):
    root, tasks, _ = good_files
    samples = write_jsonl(root / "samples.jsonl", [SAMPLES[0][0], {"task_id": "demo/nope", "solution": "x"}])
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, cwd=root)
    assert_one_line_error(run, str(samples), "line 2", "task_id", "demo/nope")


def test_error_line_shows_user_text_verbatim(good_files):
    # user text in the message must not be read as console markup
    root, tasks, _ = good_files
    samples = write_jsonl(root / "samples.jsonl", [{"task_id": "[/x] [bold]y", "solution": "x"}])
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, cwd=root)
    assert_one_line_error(run, str(samples), "line 1", "task_id", "[/x] [bold]y")


def test_missing_tasks_file(good_files):
    root, _, samples = good_files
    missing = root / "no-such-tasks.jsonl"
    run = bombe("evaluate", "--tasks", missing, "--samples", samples, cwd=root)
    assert_one_line_error(run, str(missing), "not found")


def test_missing_samples_file(good_files):
    root, tasks, _ = good_files
    missing = root / "no-such-samples.jsonl"
    run = bombe("evaluate", "--tasks", tasks, "--samples", missing, cwd=root)
    assert_one_line_error(run, str(missing), "not found")


def test_empty_samples_file(good_files):
    root, tasks, _ = good_files
    empty = root / "empty.jsonl"
    empty.write_text("\n")
    run = bombe("evaluate", "--tasks", tasks, "--samples", empty, cwd=root)
    assert_one_line_error(run, str(empty))


def test_unknown_benchmark(good_files):
    root, _, samples = good_files
    run = bombe("evaluate", "--benchmark", "no-such-bench", "--samples", samples, cwd=root)
    assert_one_line_error(run, "no-such-bench", "humaneval")


def test_benchmark_whose_data_file_is_missing(good_files, tmp_path):
    root, _, samples = good_files
    empty = tmp_path / "empty-data"
    empty.mkdir()
    run = bombe("evaluate", "--benchmark", "mbpp", "--data-dir", empty, "--samples", "reference", cwd=root)
    assert_one_line_error(run, "mbpp.jsonl.gz", "empty-data")


def test_benchmark_needing_data_without_a_data_directory(good_files):
    root, _, _ = good_files
    env_free = {k: v for k, v in os.environ.items() if k != "BOMBE_DATA"}
    done = subprocess.run([BOMBE, "evaluate", "--benchmark", "cruxeval-o", "--samples", "reference"], cwd=root,
                          env={**env_free, "COLUMNS": "40"}, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert_one_line_error(Run(done.returncode, done.stdout, done.stderr), "--data-dir", "BOMBE_DATA")


def test_jsonl_benchmark_with_missing_file(good_files):
    root, _, samples = good_files
    run = bombe("evaluate", "--benchmark", "jsonl:missing.jsonl", "--samples", samples, cwd=root)
    assert_one_line_error(run, "missing.jsonl")


def test_both_tasks_and_benchmark(good_files):
    root, tasks, samples = good_files
    run = bombe("evaluate", "--tasks", tasks, "--benchmark", "humaneval", "--samples", samples, cwd=root)
    assert_one_line_error(run, "--tasks", "--benchmark")


def test_neither_tasks_nor_benchmark(good_files):
    root, _, samples = good_files
    run = bombe("evaluate", "--samples", samples, cwd=root)
    assert_one_line_error(run, "--tasks", "--benchmark")


# --- trusted comparison end to end ---------------------------------------------------------------


def test_huge_int_answer_to_a_float_task_is_a_plain_fail(tmp_path):
    # the trusted comparison must not crash on an int too large for a float
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [MEAN])
    samples = write_jsonl(tmp_path / "samples.jsonl", [{"task_id": "demo/mean", "completion": "    return 10 ** 400\n"}])
    out = tmp_path / "results.jsonl"
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, "--out", out, "--unsafe-no-isolation",
                cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    [result] = read_jsonl(out)
    assert result["status"] == "fail", result


def test_two_lone_surrogates_do_not_pass_for_the_character_they_would_pair_into(tmp_path):
    # the task wants U+1F600; a candidate returning the two code points D83D DE00 gave a different string
    task = {"task_id": "emoji", "entry_point": "f", "tests": [{"args": [], "expected": "\U0001F600"}]}
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [task])
    samples = write_jsonl(tmp_path / "samples.jsonl", [
        {"task_id": "emoji", "solution": "def f():\n    return chr(0xD83D) + chr(0xDE00)\n"},
        {"task_id": "emoji", "solution": "def f():\n    return chr(0x1F600)\n"},
    ])
    out = tmp_path / "results.jsonl"
    run = bombe("evaluate", "--tasks", tasks, "--samples", samples, "--out", out, "--unsafe-no-isolation",
                cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert [r["status"] for r in read_jsonl(out)] == ["fail", "pass"]

"""bombe.task: reading tasks and samples from JSONL, and the errors a user sees for bad files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bombe.task import InputError, Sample, Task, load_samples, load_tasks

CALL_TASK = {
    "task_id": "demo/add",
    "prompt": "def add(a, b):\n    \"\"\"Sum.\"\"\"\n",
    "entry_point": "add",
    "tests": [
        {"args": [1, 2], "expected": 3},
        {"args": [2], "kwargs": {"b": 5}, "expected": 7},
        {"args": [0.1, 0.2], "expected": 0.3, "atol": 1e-9, "rtol": 1e-6},
    ],
    "hidden_tests": [{"args": [10, 20], "expected": 30}],
    "canonical_solution": "    return a + b\n",
    "source": "hand-written",  # extra fields are kept, not refused
}
HUMANEVAL_TASK = {
    "task_id": "demo/even",
    "prompt": "def is_even(n):\n",
    "entry_point": "is_even",
    "test": "def check(candidate):\n    assert candidate(2) == True\n",
}
MBPP_TASK = {
    "task_id": "demo/rev",
    "prompt": "",
    "entry_point": "rev",
    "test_list": ["assert rev('ab') == 'ba'", "assert rev('') == ''"],
    "setup": "import string",
}


def write_jsonl(path: Path, records: list) -> Path:
    """Write records one a line; a str is written verbatim (to make malformed lines)."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def task(task_id: str = "t", **fields) -> dict:
    return {"task_id": task_id, "entry_point": "f", "tests": [{"args": [1], "expected": 1}], **fields}


def assert_names(error: InputError, path: Path, line: int | None, *fields: str) -> None:
    message = str(error)
    assert str(path) in message
    assert error.path == str(path)
    if line is not None:
        assert f"line {line}" in message
        assert error.line == line
    for name in fields:
        assert name in message, f"{name!r} not named in {message!r}"


# --- valid tasks -----------------------------------------------------------------------------


def test_loads_all_three_check_kinds(tmp_path):
    tasks = load_tasks(write_jsonl(tmp_path / "tasks.jsonl", [CALL_TASK, HUMANEVAL_TASK, MBPP_TASK]))

    assert [t.task_id for t in tasks] == ["demo/add", "demo/even", "demo/rev"]
    add, even, rev = tasks

    assert add.entry_point == "add"
    assert add.prompt == CALL_TASK["prompt"]
    assert add.test is None and add.test_list is None
    first, second, third = add.tests
    assert (first.args, first.kwargs, first.expected) == ([1, 2], {}, 3)
    assert first.atol is None and first.rtol is None
    assert (second.args, second.kwargs, second.expected) == ([2], {"b": 5}, 7)
    assert (third.atol, third.rtol) == (1e-9, 1e-6)
    assert [t.expected for t in add.hidden_tests] == [30]
    # the judge sees visible and hidden pairs, in that order
    assert [t.expected for t in add.all_call_tests] == [3, 7, 0.3, 30]
    assert add.model_extra == {"source": "hand-written"}

    assert even.test == HUMANEVAL_TASK["test"]
    assert even.tests is None and even.test_list is None
    assert even.all_call_tests == []

    assert rev.test_list == MBPP_TASK["test_list"]
    assert rev.setup == "import string"
    assert rev.prompt == ""


def test_call_test_defaults(tmp_path):
    [loaded] = load_tasks(write_jsonl(tmp_path / "t.jsonl", [task(tests=[{}])]))
    [call] = loaded.tests
    assert call.args == [] and call.kwargs == {} and call.expected is None


def test_empty_tests_list_is_refused(tmp_path):
    # with nothing to check, any program that loads would pass
    with pytest.raises(InputError, match="'tests' is empty"):
        load_tasks(write_jsonl(tmp_path / "t.jsonl", [task(tests=[])]))


def test_expected_values_keep_their_json_types(tmp_path):
    expected = {"xs": [1, 2.5, None, True, "s"], "n": -3}
    [loaded] = load_tasks(write_jsonl(tmp_path / "t.jsonl", [task(tests=[{"args": [], "expected": expected}])]))
    got = loaded.tests[0].expected
    assert got == expected
    assert type(got["xs"][3]) is bool and type(got["xs"][0]) is int and type(got["xs"][1]) is float


def test_blank_lines_are_skipped(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", ["", task("a"), "   ", task("b"), ""])
    assert [t.task_id for t in load_tasks(path)] == ["a", "b"]


def test_empty_file_gives_no_tasks(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert load_tasks(path) == []


def test_gzipped_file_works(tmp_path):
    path = tmp_path / "tasks.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for record in (CALL_TASK, HUMANEVAL_TASK, MBPP_TASK):
            handle.write(json.dumps(record) + "\n")
    assert [t.task_id for t in load_tasks(path)] == ["demo/add", "demo/even", "demo/rev"]


def test_gzipped_file_reports_line_numbers(tmp_path):
    path = tmp_path / "tasks.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(task("a")) + "\n" + json.dumps({"task_id": "b", "test": "x"}) + "\n")
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 2, "entry_point")


def test_path_may_be_a_string(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [task("a")])
    assert [t.task_id for t in load_tasks(str(path))] == ["a"]


def test_reference_solution_is_prompt_plus_canonical_solution(tmp_path):
    add, even = load_tasks(write_jsonl(tmp_path / "t.jsonl", [CALL_TASK, HUMANEVAL_TASK]))
    assert add.reference_solution() == CALL_TASK["prompt"] + CALL_TASK["canonical_solution"]
    assert even.reference_solution() is None


# --- malformed tasks: each one line naming file, line and field --------------------------------


def test_bad_json_on_line_3(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [task("a"), task("b"), '{"task_id": "c", '])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 3)
    assert "JSON" in str(caught.value)


def test_line_numbers_count_blank_lines(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [task("a"), "", "{not json"])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 3)


@pytest.mark.parametrize("line", ["[1, 2]", '"a string"', "42", "null"])
def test_non_object_line(tmp_path, line):
    path = write_jsonl(tmp_path / "t.jsonl", [task("a"), line])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 2)
    assert "object" in str(caught.value)


def test_missing_task_id(tmp_path):
    record = task()
    del record["task_id"]
    path = write_jsonl(tmp_path / "t.jsonl", [task("a"), record])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 2, "task_id")
    assert caught.value.field == "task_id"


def test_task_id_must_be_a_string(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [task(7)])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 1, "task_id")


def test_missing_entry_point(tmp_path):
    record = task("a")
    del record["entry_point"]
    path = write_jsonl(tmp_path / "t.jsonl", [record])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 1, "entry_point")
    assert caught.value.field == "entry_point"


def test_no_check_kind(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"task_id": "a", "entry_point": "f", "prompt": "p"}])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 1, "tests", "test", "test_list")


@pytest.mark.parametrize(
    "kinds",
    [
        {"test": "def check(c): pass", "test_list": ["assert f(1)"]},
        {"tests": [], "test": "def check(c): pass"},
        {"tests": [], "test_list": []},
    ],
)
def test_two_check_kinds(tmp_path, kinds):
    path = write_jsonl(tmp_path / "t.jsonl", [task("a"), {"task_id": "b", "entry_point": "f", **kinds}])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 2, *kinds)


def test_hidden_tests_need_call_tests(tmp_path):
    record = {**HUMANEVAL_TASK, "hidden_tests": [{"args": [1], "expected": 1}]}
    path = write_jsonl(tmp_path / "t.jsonl", [record])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 1, "hidden_tests")


@pytest.mark.parametrize(
    "tests, field",
    [
        ("assert f(1) == 1", "tests"),
        ({"args": [1], "expected": 1}, "tests"),
        ([{"args": 1, "expected": 1}], "tests.0.args"),
        ([{"args": [1], "expected": 1}, {"args": [], "kwargs": [1]}], "tests.1.kwargs"),
        ([{"args": [1], "expected": 1, "atol": "tiny"}], "tests.0.atol"),
        ([{"args": [1], "expect": 1}], "tests.0.expect"),  # a typo is refused, not read as expected=None
    ],
)
def test_wrong_type_for_tests(tmp_path, tests, field):
    path = write_jsonl(tmp_path / "t.jsonl", [task("a", tests=tests)])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 1, field)
    assert caught.value.field == field


@pytest.mark.parametrize("field, value", [("test", ["not", "a", "string"]), ("test_list", "assert f(1)"),
                                          ("setup", 3), ("hidden_tests", "x")])
def test_wrong_type_for_other_check_fields(tmp_path, field, value):
    record = {"task_id": "a", "entry_point": "f"}
    if field in ("setup", "hidden_tests"):
        record["tests"] = []
    record[field] = value
    path = write_jsonl(tmp_path / "t.jsonl", [record])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 1, field)


def test_duplicate_task_ids(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [task("a"), task("b"), task("a")])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 3, "task_id")
    assert "'a'" in str(caught.value)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.jsonl"
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, None)
    assert "not found" in str(caught.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"task_id": "\xff"}\n')
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, None)


def test_a_directory_is_not_a_tasks_file(tmp_path):
    with pytest.raises(InputError) as caught:
        load_tasks(tmp_path)
    assert_names(caught.value, tmp_path, None)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(b"this is not gzip data\n")
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, None)


def test_deeply_nested_json_is_an_input_error(tmp_path):
    # json.loads raises RecursionError here, which is not a JSONDecodeError
    path = write_jsonl(tmp_path / "t.jsonl", [task("a"), "[" * 100_000])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 2)


def test_integer_beyond_pythons_digit_limit_is_an_input_error(tmp_path):
    # json.loads raises a plain ValueError for ints over sys.get_int_max_str_digits() digits
    line = '{"task_id": "a", "entry_point": "f", "tests": [{"args": [' + "9" * 5000 + '], "expected": 1}]}'
    path = write_jsonl(tmp_path / "t.jsonl", [line])
    with pytest.raises(InputError) as caught:
        load_tasks(path)
    assert_names(caught.value, path, 1)


# --- samples ---------------------------------------------------------------------------------


def test_load_samples(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": "a", "completion": "    return 1\n"},
        {"task_id": "b", "solution": "def f(): return 2\n", "model": "m"},
        {"task_id": "a", "completion": ""},
    ])
    samples = load_samples(path, {"a", "b"})
    assert [s.task_id for s in samples] == ["a", "b", "a"]
    assert samples[0].completion == "    return 1\n" and samples[0].solution is None
    assert samples[1].solution == "def f(): return 2\n"
    assert samples[1].model_extra == {"model": "m"}
    assert samples[2].completion == ""


def test_load_samples_without_known_ids_accepts_any_task_id(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "whatever", "solution": "x = 1"}])
    assert [s.task_id for s in load_samples(path)] == ["whatever"]


def test_sample_needs_solution_or_completion(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "a", "solution": "x"}, {"task_id": "a"}])
    with pytest.raises(InputError) as caught:
        load_samples(path, {"a"})
    assert_names(caught.value, path, 2, "solution", "completion")


def test_sample_solution_must_be_a_string(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "a", "solution": ["x"]}])
    with pytest.raises(InputError) as caught:
        load_samples(path, {"a"})
    assert_names(caught.value, path, 1, "solution")


def test_sample_needs_task_id(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [{"solution": "x"}])
    with pytest.raises(InputError) as caught:
        load_samples(path)
    assert_names(caught.value, path, 1, "task_id")


def test_sample_for_unknown_task(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": "a", "solution": "x"},
        {"task_id": "a", "solution": "x"},
        {"task_id": "nope", "solution": "x"},
    ])
    with pytest.raises(InputError) as caught:
        load_samples(path, {"a", "b"})
    assert_names(caught.value, path, 3, "task_id")
    assert "'nope'" in str(caught.value)
    assert caught.value.field == "task_id"


def test_samples_bad_json(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "a", "solution": "x"}, "{'single': 'quotes'}"])
    with pytest.raises(InputError) as caught:
        load_samples(path, {"a"})
    assert_names(caught.value, path, 2)


def test_samples_missing_file(tmp_path):
    path = tmp_path / "missing-samples.jsonl"
    with pytest.raises(InputError) as caught:
        load_samples(path, {"a"})
    assert_names(caught.value, path, None)


def test_samples_gzipped(tmp_path):
    path = tmp_path / "s.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"task_id": "a", "completion": "pass"}) + "\n")
    [sample] = load_samples(path, {"a"})
    assert sample.completion == "pass"


# --- Sample.program ---------------------------------------------------------------------------


def test_program_from_completion_is_prompt_plus_completion():
    task_ = Task.model_validate(CALL_TASK)
    sample = Sample(task_id="demo/add", completion="    return a + b\n")
    assert sample.program(task_) == CALL_TASK["prompt"] + "    return a + b\n"


def test_program_from_solution_ignores_the_prompt():
    task_ = Task.model_validate(CALL_TASK)
    sample = Sample(task_id="demo/add", solution="def add(a, b):\n    return b + a\n")
    assert sample.program(task_) == "def add(a, b):\n    return b + a\n"


def test_solution_wins_over_completion():
    task_ = Task.model_validate(CALL_TASK)
    sample = Sample(task_id="demo/add", solution="SOLUTION", completion="COMPLETION")
    assert sample.program(task_) == "SOLUTION"


def test_empty_completion_gives_the_prompt():
    task_ = Task.model_validate(CALL_TASK)
    assert Sample(task_id="demo/add", completion="").program(task_) == CALL_TASK["prompt"]

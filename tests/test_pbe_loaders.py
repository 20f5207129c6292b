"""The programming-by-example suites: counts, examples as exact call checks, malformed files,
the Lisp reader for lambda^2, fetching upstream files into the cache, and the demo suite."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import warnings
from pathlib import Path

import pytest
from benchkit import DATA

from bombe.benchmarks import MissingData, load_benchmark, pbe
from bombe.evaluate import reference_samples
from bombe.sandbox import Job
from bombe.task import InputError

needs_data = pytest.mark.skipif(not (DATA / "pbe").is_dir(), reason=f"PBE data not found at {DATA / 'pbe'}")


@needs_data
@pytest.mark.parametrize("suite, count, with_hidden", [
    ("lambdabeam", 200, 200), ("lambdabeam-handwritten", 100, 100), ("lambdabeam-synthetic", 100, 100),
    ("bustle", 127, 38), ("bustle-new", 38, 38), ("bustle-sygus", 89, 0), ("lambda2", 44, 0),
    ("sygus", 209, 0), ("dreamcoder", 218, 218),
])
def test_suite_sizes(suite, count, with_hidden):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tasks = load_benchmark(suite, DATA)
    # Only the loader's own notes count: a ResourceWarning from an earlier test may be collected here.
    skipped = [w for w in caught if issubclass(w.category, pbe.SkippedTasks)]
    assert len(skipped) == (1 if suite == "sygus" else 0)
    assert len(tasks) == count
    assert len({t.task_id for t in tasks}) == count
    assert sum(t.hidden_tests is not None for t in tasks) == with_hidden
    for task in tasks:
        assert task.tests and all(t.exact and not t.kwargs for t in task.all_call_tests)
        arity = len(task.tests[0].args)
        assert all(len(t.args) == arity for t in task.all_call_tests)
        assert len(task.model_extra["arg_names"]) == arity
        assert task.prompt.startswith(f"def {task.entry_point}(")


@needs_data
def test_lambdabeam_examples_are_positional_in_arg_order_with_held_out_hidden():
    task = next(t for t in load_benchmark("lambdabeam-handwritten", DATA) if t.task_id == "lambdabeam/none:deepcoder_0")
    assert task.model_extra["arg_names"] == ["k", "b"] and task.entry_point == "deepcoder_0"
    assert (task.tests[0].args, task.tests[0].expected) == ([2, [3, 5, 4, 7, 5]], 7)
    assert len(task.tests) == 5 and len(task.hidden_tests) == 3
    assert task.model_extra["split"] == "handwritten"
    # A name that is a builtin or an argument never becomes the function's name.
    ids = {t.task_id: t.entry_point for t in load_benchmark("lambdabeam", DATA)}
    assert ids["lambdabeam/none:range"] == "range_fn"


@needs_data
def test_bustle_holds_out_test_examples_only_where_they_differ():
    new = load_benchmark("bustle-new", DATA)
    assert sum(len(t.tests) for t in new) == 126 and sum(len(t.hidden_tests) for t in new) == 275
    assert new[0].entry_point == "add_decimal" and new[0].model_extra["arg_names"] == ["var_0"]
    assert "add decimal point" in new[0].prompt
    sygus = load_benchmark("bustle-sygus", DATA)
    assert sum(len(t.tests) for t in sygus) == 372 and all(t.hidden_tests is None for t in sygus)


@needs_data
def test_dreamcoder_shows_five_examples_and_holds_out_ten():
    tasks = load_benchmark("dreamcoder", DATA)
    assert all(len(t.tests) == 5 and len(t.hidden_tests) == 10 for t in tasks)
    assert tasks[0].tests[0].args == [[3, 4, 4, 13, 6]] and tasks[0].tests[0].expected == [4, 5, 5, 14, 7]


@needs_data
def test_sygus_leaves_out_the_task_without_examples_and_says_so():
    with pytest.warns(pbe.SkippedTasks, match="max3.sl"):
        tasks = load_benchmark("sygus", DATA)
    assert sum(len(t.tests) for t in tasks) == 8813
    assert not any(t.task_id.endswith("max3.sl") for t in tasks)


@needs_data
def test_lambda2_parses_lisp_examples_and_marks_trees():
    tasks = {t.task_id: t for t in load_benchmark("lambda2", DATA)}
    dupli = tasks["lambda2/dupli"]
    assert [(t.args, t.expected) for t in dupli.tests][2] == ([[1, 2, 3]], [1, 1, 2, 2, 3, 3])
    member = tasks["lambda2/member"]
    assert (member.tests[1].args, member.tests[1].expected) == ([[0], 0], True)
    sumt = tasks["lambda2/sumt"]
    assert sumt.model_extra["needs_tree"] and sumt.tests[2].args == [[1, [2], [3]]]
    assert tasks["lambda2/sum"].entry_point == "sum_fn"  # `def sum` would shadow the builtin it needs
    assert sum(bool(t.model_extra.get("needs_tree")) for t in tasks.values()) == 18
    assert tasks["lambda2/Dedup"].model_extra["background"] == ["member"]


def test_lisp_reader():
    assert pbe.parse_l2_example("(f [1 -2 3] 4) -> [[1] []]") == ("f", [[1, -2, 3], 4], [[1], []], False)
    assert pbe.parse_l2_example("(g {5 {6}} #t) -> #f") == ("g", [[5, [6]], True], False, True)
    assert pbe.parse_l2_example("(h {}) -> {}") == ("h", [[]], [], True)
    for bad in ("(f [1 2) -> 3", "(f 1) 3", "(f 1) -> 3 4", "(f x) -> 1", "[1] -> 2"):
        with pytest.raises(pbe.LispSyntaxError):
            pbe.parse_l2_example(bad)


# ---- malformed files ---------------------------------------------------------------------

def _data(tmp_path: Path, relative: str, content) -> Path:
    path = tmp_path / "data" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return tmp_path / "data"


LB = "pbe/lambdabeam/lambdabeam_tasks_200.json"
GOOD_LB = {"name": "map:x", "split": "handwritten", "arg_names": ["x"],
           "train_examples": [{"inputs": {"x": [1]}, "output": [2]}],
           "held_out_examples": [{"inputs": {"x": [3]}, "output": [4]}]}


@pytest.mark.parametrize("record, field", [
    ({k: v for k, v in GOOD_LB.items() if k != "arg_names"}, "record 1 (map:y): arg_names"),
    ({**GOOD_LB, "train_examples": [{"inputs": {"z": 1}, "output": 2}]}, "record 1 (map:y): train_examples[0].inputs"),
    ({**GOOD_LB, "held_out_examples": [{"inputs": {"x": [1]}}]}, "record 1 (map:y): held_out_examples[0].output"),
    ({**GOOD_LB, "split": 3}, "record 1 (map:y): split"),
])
def test_malformed_lambdabeam_names_file_record_and_field(tmp_path, record, field):
    data = _data(tmp_path, LB, [GOOD_LB, {**record, "name": "map:y"}])
    with pytest.raises(InputError) as error:
        load_benchmark("lambdabeam", data)
    assert str(data / LB) in str(error.value) and f"field '{field}'" in str(error.value)


def test_malformed_json_and_shapes(tmp_path):
    data = _data(tmp_path, LB, '[{"name": "a",\n  oops}]')
    with pytest.raises(InputError, match=r"lambdabeam_tasks_200.json, line 2: not valid JSON"):
        load_benchmark("lambdabeam", data)
    data = _data(tmp_path, LB, {"not": "a list"})
    with pytest.raises(InputError, match="expected a JSON list of task objects"):
        load_benchmark("lambdabeam", data)
    bustle = "pbe/bustle/bustle_new_38.json"
    data = _data(tmp_path, bustle, [{"name": "n", "trainExamples": [{"inputs": [1], "output": "1"}],
                                     "testExamples": []}])
    with pytest.raises(InputError, match=r"record 0 \(n\): trainExamples.*string inputs"):
        load_benchmark("bustle-new", data)


def test_malformed_lambda2_example_names_the_example(tmp_path):
    data = tmp_path / "data"
    for name in pbe.LAMBDA2_NAMES:
        _data(tmp_path, f"pbe/lambda2/{name}.json",
              {"name": name, "contents": {"examples": ["(f [1]) -> 1"], "background": []}})
    _data(tmp_path, "pbe/lambda2/dupli.json",
          {"name": "dupli", "contents": {"examples": ["(dupli [1]) -> [1 1]", "(dupli [1 2) -> [1]"]}})
    with pytest.raises(InputError) as error:
        load_benchmark("lambda2", data)
    assert "dupli.json" in str(error.value) and "contents.examples[1]" in str(error.value)


def test_missing_data_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("BOMBE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MissingData, match="looked in"):
        load_benchmark("sygus", tmp_path)
    with pytest.raises(MissingData, match="--data-dir"):
        load_benchmark("dreamcoder", None)


# ---- fetching upstream files into the cache ----------------------------------------------

@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A loopback HTTP server laid out as raw.githubusercontent.com, serving the shared data's
    copies of the upstream files at the paths and commits SOURCE.md names."""
    root = tmp_path / "mirror"
    for relative, upstream in pbe.UPSTREAM.items():
        target = root / upstream
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA / relative, target)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("BOMBE_PBE_MIRROR", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("BOMBE_CACHE", str(tmp_path / "cache"))
    yield server
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@needs_data
def test_fetched_files_give_the_same_tasks(mirror, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for suite in ("bustle-new", "bustle-sygus", "lambda2"):
        fetched = load_benchmark(suite, empty)
        assert [t.model_dump() for t in fetched] == [t.model_dump() for t in load_benchmark(suite, DATA)]
    cached = tmp_path / "cache" / "pbe" / "lambda2" / "dupli.json"
    assert cached.read_bytes() == (DATA / "pbe/lambda2/dupli.json").read_bytes()
    mirror.shutdown()  # the cache answers from now on, with no server
    assert len(load_benchmark("bustle-new", None)) == 38


@needs_data
def test_a_failed_fetch_is_missing_data_and_leaves_nothing_in_the_cache(mirror, tmp_path):
    (tmp_path / "mirror" / pbe.UPSTREAM["pbe/bustle/bustle_new_38.json"]).unlink()
    with pytest.raises(MissingData, match="could not fetch http://127.0.0.1.*404"):
        load_benchmark("bustle-new", tmp_path / "nothing-here")
    assert not list((tmp_path / "cache").rglob("*.json*"))


def test_derived_files_are_not_fetched(tmp_path, monkeypatch):
    monkeypatch.setenv("BOMBE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(pbe.FetchFailed, match="no unchanged upstream copy"):
        pbe.fetch("pbe/lambdabeam/lambdabeam_tasks_200.json")


# ---- the demo suite bombe ships ------------------------------------------------------------

def test_demo_suite_is_packaged_and_well_formed():
    tasks = load_benchmark("demo")
    assert len(tasks) >= 30
    for task in tasks:
        assert 3 <= len(task.tests) <= 5 and len(task.hidden_tests) >= 3
        assert all(t.exact for t in task.all_call_tests)
        assert task.model_extra["arg_names"] and task.canonical_solution
    kinds = {type(t.tests[0].args[0]).__name__ for t in tasks}
    assert kinds == {"list", "str"}


def test_demo_references_pass_every_example(sandbox):
    """The demo's examples are what its reference solutions compute."""
    tasks = load_benchmark("demo")
    by_id = {t.task_id: t for t in tasks}
    outcomes = sandbox.run_all(Job.for_task(by_id[s.task_id], s.program(by_id[s.task_id]))
                               for s in reference_samples(tasks))
    assert [o.error for o in outcomes if not o.passed] == []

"""CRUXEval: output and input prediction, literal answers only, judged with exact types."""

from __future__ import annotations

import ast

import pytest

from bombe.benchmarks import MissingData, cruxeval, load_benchmark
from bombe.evaluate import evaluate, reference_samples
from bombe.sandbox import Job, Limits, Sandbox
from bombe.task import Outcome, Sample, Task

from benchkit import DATA
pytestmark = pytest.mark.skipif(not (DATA / cruxeval.DATA_FILE).is_file(),
                                reason=f"CRUXEval data not found at {DATA / cruxeval.DATA_FILE}")

# sample_0: tuples in a list; 135: no arguments; 152, 258: expression inputs; 415: one tuple
# argument; 452: a trailing comma; 459: a dict argument; 344: a lambda argument.
SAMPLED = ["sample_0", "sample_135", "sample_152", "sample_258", "sample_415", "sample_452", "sample_459",
           "sample_344"]


@pytest.fixture(scope="module")
def output_tasks() -> dict[str, Task]:
    return {t.cruxeval_id: t for t in load_benchmark("cruxeval-o", DATA)}


@pytest.fixture(scope="module")
def input_tasks() -> dict[str, Task]:
    return {t.cruxeval_id: t for t in load_benchmark("cruxeval-i", DATA)}


def judge(sandbox: Sandbox, answers: list[tuple[Task, str]]) -> list[Outcome]:
    """Judge (task, answer text) pairs; outcomes in input order."""
    jobs = [Job.for_task(task, Sample(task_id=task.task_id, solution=text).program(task)) for task, text in answers]
    return sandbox.run_all(jobs)


# --- loaders ---------------------------------------------------------------------------------------


def test_800_tasks_each_with_literal_answers(output_tasks, input_tasks):
    assert len(output_tasks) == len(input_tasks) == 800
    for tasks in (output_tasks, input_tasks):
        assert all(t.sample_kind == "literal" for t in tasks.values())
    assert output_tasks["sample_7"].task_id == "CRUXEval-O/7" and input_tasks["sample_7"].task_id == "CRUXEval-I/7"


def test_output_task_shape(output_tasks):
    task = output_tasks["sample_0"]
    assert task.entry_point == "answer"
    assert "def f(nums):" in task.prompt and "assert f([1, 1, 3, 1, 3, 1]) == ??" in task.prompt
    assert task.canonical_solution == "[(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]"
    assert task.reference_solution() == task.canonical_solution  # not prompt + literal
    (test,) = task.tests
    assert test.exact and test.args == [] and test.expected == [(4, 1)] * 4 + [(2, 3)] * 2
    assert type(test.expected[0]) is tuple


def test_every_output_is_plain_data(output_tasks):
    """No nan, inf or other value a literal cannot carry: each expected value prints back to itself."""
    for task in output_tasks.values():
        (test,) = task.tests
        assert ast.literal_eval(repr(test.expected)) == test.expected
        assert ast.literal_eval(task.canonical_solution) == test.expected


def test_input_task_shape(input_tasks):
    task = input_tasks["sample_0"]
    assert task.entry_point == cruxeval.CALL_ARGS
    assert "assert f(??) == [(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]" in task.prompt
    assert "def f(nums):" in task.test and "def check(candidate)" in task.test
    assert task.reference_solution() == "[1, 1, 3, 1, 3, 1]"


def test_input_references_are_the_dataset_text_unless_it_is_an_expression(input_tasks):
    rewritten = {}
    for cid, task in input_tasks.items():
        if task.canonical_solution != task.input:
            rewritten[cid] = task.canonical_solution
    assert set(rewritten) == set(cruxeval._EXPRESSION_INPUTS)
    assert rewritten["sample_152"] == "'" + "A" * 20 + "'"
    assert rewritten["sample_694"] == "{'e': 1, 'd': 2, 'c': 3}"
    for cid, text in rewritten.items():  # every rewritten reference is literals only
        call = ast.parse(f"f({text})", mode="eval").body
        [ast.literal_eval(arg) for arg in call.args]
    assert {cid for cid, t in input_tasks.items() if not t.literal_answer} == cruxeval.NEEDS_A_FUNCTION


def test_the_two_function_inputs_do_give_the_output(input_tasks):
    """sample_344 and sample_364 are right as data; only the literal rule makes them unsolvable."""
    for cid in sorted(cruxeval.NEEDS_A_FUNCTION):
        task = input_tasks[cid]
        namespace: dict = {}
        exec(task.code, namespace)  # benchmark code, trusted: two short list functions
        got = eval(f"f({task.input})", namespace)
        assert got == ast.literal_eval(task.output) and "lambda" in task.input


def test_missing_data_names_the_file(tmp_path):
    for name in ("cruxeval-o", "cruxeval-i"):
        with pytest.raises(MissingData, match="cruxeval.jsonl.gz"):
            load_benchmark(name, tmp_path)


# --- judging ---------------------------------------------------------------------------------------


def test_sampled_references_pass(sandbox, output_tasks, input_tasks):
    tasks = [output_tasks[c] for c in SAMPLED] + [input_tasks[c] for c in SAMPLED]
    outcomes = judge(sandbox, [(t, t.reference_solution()) for t in tasks])
    for task, outcome in zip(tasks, outcomes):
        expected = "error" if task.task_id == "CRUXEval-I/344" else "pass"  # a lambda is no literal
        assert outcome.status == expected, (task.task_id, outcome)


def test_output_answers_need_the_same_value_and_types(sandbox, output_tasks):
    sample_0 = output_tasks["sample_0"]          # [(4, 1), ... (2, 3)]
    text_task = output_tasks["sample_2"]         # 'hbtofdeiequ'
    bool_task = next(t for t in output_tasks.values() if t.output == "True")
    dict_task = output_tasks["sample_415"]       # {8: 2, 5: 3}
    answers = [
        (sample_0, "  [(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]\n", "pass"),   # whitespace around is fine
        (sample_0, "[[4, 1], [4, 1], [4, 1], [4, 1], [2, 3], [2, 3]]", "fail"),       # lists are not tuples
        (sample_0, "[(4, 1)] * 4 + [(2, 3)] * 2", "error"),                           # an expression, not a literal
        (sample_0, "f([1, 1, 3, 1, 3, 1])", "error"),                                 # a call, not a literal
        (bool_task, "True", "pass"),
        (bool_task, "1", "fail"),                                                     # True is not 1
        (dict_task, "{5: 3, 8: 2}", "pass"),                                          # dict order is free
        (dict_task, "{8: 2, 5: 3.0}", "fail"),                                        # 3.0 is not 3
        (text_task, '"hbtofdeiequ"', "pass"),                                         # any spelling of the value
        (text_task, "hbtofdeiequ", "error"),                                          # a name, not a literal
        (text_task, "", "error"),                                                     # no answer at all
    ]
    outcomes = judge(sandbox, [(task, text) for task, text, _ in answers])
    for (task, text, status), outcome in zip(answers, outcomes):
        assert outcome.status == status, (task.task_id, text, outcome)


def test_input_answers_are_call_arguments_run_through_f(sandbox, input_tasks):
    nums = input_tasks["sample_0"]               # f(nums) -> [(count, n), ...] sorted
    text = input_tasks["sample_452"]             # f(text) counts letters: 1
    none = input_tasks["sample_135"]             # f() takes nothing
    two = input_tasks["sample_770"]              # f(line, char)
    answers = [
        (nums, "[1, 3, 1, 3, 1, 1]", "pass"),                        # any input giving the output counts
        (nums, "f([1, 1, 3, 1, 3, 1])", "pass"),                     # CRUXEval's own answer shape
        (nums, "nums=[1, 1, 3, 1, 3, 1]", "pass"),                   # a keyword argument
        (nums, "[1, 1, 3]", "fail"),
        (nums, "[1, 1, 3, 1, 3, 1], 2", "error"),                    # f takes one argument: TypeError in f
        (nums, "list((1, 1, 3, 1, 3, 1))", "error"),                 # not a literal
        (nums, "*[[1, 1, 3, 1, 3, 1]]", "error"),                    # no unpacking
        (nums, "[1, 1, 3, 1, 3, 1]) or f([1]", "error"),             # not one argument list
        (text, "'l000*',", "pass"),                                  # trailing comma: one string
        (text, "('l000*',)", "fail"),                                # one tuple: no letters in it
        (text, "'a'", "pass"),
        (none, "", "pass"),
        (none, "1", "error"),
        (two, "'$78', '$'", "pass"),
        (two, "('$78', '$')", "error"),                              # one tuple is one argument
    ]
    outcomes = judge(sandbox, [(task, answer) for task, answer, _ in answers])
    for (task, answer, status), outcome in zip(answers, outcomes):
        assert outcome.status == status, (task.task_id, answer, outcome)


def test_input_answers_cannot_cheat_the_judge(sandbox, input_tasks):
    """The answer is data: code in it never runs, and f runs in the judge, not the candidate."""
    nums = input_tasks["sample_0"]
    attacks = [
        "__import__('os')._exit(0)",
        "(lambda: [(4, 1)])()",
        "[1]); f = lambda *a: [(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]; (1",
        "'\\n'; import os",
    ]
    for outcome in judge(sandbox, [(nums, text) for text in attacks]):
        assert not outcome.passed


@pytest.mark.slow
def test_every_reference_passes_but_the_two_function_inputs():
    """The full reference-fidelity sweep: 800/800 for CRUXEval-O, 798/800 for CRUXEval-I."""
    with Sandbox(workers=2, limits=Limits(timeout=10)) as box:
        for name, failing in (("cruxeval-o", set()), ("cruxeval-i", {"CRUXEval-I/344", "CRUXEval-I/364"})):
            tasks = load_benchmark(name, DATA)
            results: list = []
            summary = evaluate(tasks, reference_samples(tasks), box, on_result=results.append)
            assert summary["passed"] == 800 - len(failing), name
            assert {r.task_id for r in results if not r.passed} == failing

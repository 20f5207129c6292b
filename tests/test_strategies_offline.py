"""Strategies without a model: visible checks, the input mutator, budgets, fingerprints and clusters."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bombe.models.client import GenerationParams, Reply
from bombe.models.prompts import Prompt
from bombe.models.spec import ModelSpec
from bombe.sandbox import Limits, Sandbox
from bombe.strategies import Budget, BudgetExceeded, BudgetTracker, make_strategy, visible_task
from bombe.strategies.behaviour import Pool, clusters, select
from bombe.strategies.budget import prompt_token_bound
from bombe.strategies.consensus import consensus_order, replace_function
from bombe.strategies.filter_cluster import parse_model_inputs, parse_model_tests
from bombe.strategies.mutate import mutate_inputs
from bombe.strategies.plansearch import parse_observations
from bombe.strategies.runtime import Executor, ModelAccess
from bombe.strategies.subsets import SEED, draw_subset, read_task_list, subset_path
from bombe.strategies.visible import VisibleTask, parse_examples
from bombe.task import Task

HUMANEVAL_STYLE = '''from typing import List


def pick(xs: List[int], k: int = 1) -> List[int]:
    """ Keep the items of xs above k.
    >>> pick([1, 2, 3], 1)
    [2, 3]
    >>> pick([], 0)
    []
    pick([5, -1], k=0) == [5]
    pick([7]) ➞ [7]
    pick([1, 9], 5) ==> [9]
    For example pick([4], 4) should
    return []. And pick(xs, 2) is not an example; nor is pick([1, 2]) alone.
    pick([3], 1)   # returns [3]
    """
'''


def test_docstring_examples_become_call_expected_pairs():
    calls = parse_examples(HUMANEVAL_STYLE, "pick")
    got = [(c.inputs, c.call_test().expected) for c in calls]
    assert got == [
        (([[1, 2, 3], 1], {}), [2, 3]), (([[], 0], {}), []), (([[5, -1]], {"k": 0}), [5]),
        (([[7]], {}), [7]), (([[1, 9], 5], {}), [9]), (([[4], 4], {}), []), (([[3], 1], {}), [3]),
    ]


def test_examples_that_call_the_function_by_another_name_stand_for_it():
    prompt = ('def letter_grades(grades):\n    """Grades as letters.\n    Example:\n'
              "    grade_equation([4.0, 3]) ==> ['A+', 'B']\n    \"\"\"\n")
    [call] = parse_examples(prompt, "letter_grades")
    assert call.inputs == ([[4.0, 3]], {}) and call.call_test().expected == ["A+", "B"]
    # A function the prompt defines is not the entry point under another name.
    helper = 'def shift(s):\n    return s\n\n\ndef unshift(s):\n    """\n    shift(\'a\') == \'a\'\n    """\n'
    assert parse_examples(helper, "unshift") == []
    # Nor is one of two names the examples call.
    two = 'def f(x):\n    """\n    g(1) == 2\n    h(1) == 3\n    """\n'
    assert parse_examples(two, "f") == []


def test_a_worked_computation_states_its_value_last_and_parentheses_beside_tuples_make_one():
    worked = 'def f(xs, n):\n    """\n    f([1, 3], 19) ->19 - 1 - 3 = 15\n    f([2], 0) == 1 + 9 = 10\n    """\n'
    assert [c.call_test().expected for c in parse_examples(worked, "f")] == [15, 10]
    planets = 'def bf(a, b):\n    """\n    bf("A", "D") ==> ("B", "C")\n    bf("A", "C") ==> ("B")\n    """\n'
    assert [c.call_test().expected for c in parse_examples(planets, "bf")] == [("B", "C"), ("B",)]
    alone = 'def g(a):\n    """\n    g(1) ==> ("B")\n    """\n'
    assert [c.call_test().expected for c in parse_examples(alone, "g")] == ["B"]


def test_prose_is_neither_a_worked_computation_nor_a_name_for_the_function():
    because = 'def f(n):\n    """\n    f(2) == 4 because x = 2\n    f(3) -> True (as n = 3)\n    """\n'
    assert [c.call_test().expected for c in parse_examples(because, "f")] == [4, True]
    # "numbers (ints)" calls nothing: the one name the examples call stands for the function.
    prose = ('from typing import List, Tuple\n\n\ndef count(xs):\n    """Count the numbers (ints) in xs.\n'
             '    Example:\n    tally([1, 2]) ==> 2\n    """\n')
    [call] = parse_examples(prose, "count")
    assert call.inputs == ([[1, 2]], {}) and call.call_test().expected == 2


def test_float_examples_compare_within_a_tolerance():
    [call] = parse_examples('def f(x):\n    """\n    >>> f(2)\n    0.5\n    """\n', "f")
    assert call.atol and call.call_test().expected == 0.5


literals = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(st.characters(blacklist_categories=("Cs",)),
                                                                        max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner), max_leaves=6)


@settings(max_examples=60, deadline=None)
@given(args=st.lists(literals, min_size=1, max_size=3), expected=literals)
def test_any_literal_example_parses_back(args, expected):
    call_text = f"f({', '.join(repr(a) for a in args)})"
    for text in (f">>> {call_text}\n    {expected!r}\n", f"{call_text} == {expected!r}\n"):
        prompt = f'def f(*args):\n    """Doc.\n    {text}    """\n'
        if "\n" in repr(expected) or '"""' in text:
            continue
        [call] = parse_examples(prompt, "f")
        assert call.call_test().args == args and call.call_test().expected == expected


def _secret_task(**fields) -> Task:
    base = {"task_id": "toy/secret", "prompt": 'def f(x):\n    """Double x.\n    >>> f(2)\n    4\n    """\n',
                "entry_point": "f", "canonical_solution": "    return 2 * x\n"}
    return Task(**{**base, **fields})


def test_visible_task_copies_only_what_a_strategy_may_see():
    hidden = [{"args": ["SECRET-HIDDEN-INPUT"], "expected": "SECRET-HIDDEN-OUTPUT"}]
    view = visible_task(_secret_task(tests=[{"args": [9], "expected": 18}], hidden_tests=hidden))
    assert isinstance(view, VisibleTask) and not isinstance(view, Task)
    assert [c.inputs for c in view.calls] == [([2], {})]  # the prompt's example, not the tests
    assert "SECRET" not in repr(view) and "return 2 * x" not in repr(view)
    for name in ("hidden_tests", "tests", "canonical_solution", "test_list", "__dict__"):
        assert not hasattr(view, name)
    with pytest.raises((AttributeError, TypeError)):  # (TypeError: CPython 3.11's frozen-slots quirk)
        view.hidden = 1  # frozen, slotted: nothing can be hung on it either
    # A task that splits its own pairs, with no examples in its prompt: its `tests` are visible.
    plain = visible_task(_secret_task(prompt="def f(x):\n    pass\n", tests=[{"args": [9], "expected": 18}],
                                      hidden_tests=hidden))
    assert [c.inputs for c in plain.calls] == [([9], {})] and "SECRET" not in repr(plain)
    # EvalPlus's base inputs are the original benchmark's hidden tests: never visible.
    evalplus = visible_task(_secret_task(prompt="def f(x):\n    pass\n", tests=[{"args": [9]}], hidden_tests=hidden,
                                         expected_from_reference=True))
    assert evalplus.calls == () and evalplus.asserts == ()


def test_mbpp_shows_its_first_assert_only():
    task = Task(task_id="Mbpp/1", prompt="Write f.", entry_point="f",
                test_list=["assert f(1) == 2", "assert f(2) == 4", "assert abs(f(3) - 6) < 1e-9"])
    view = visible_task(task)
    assert [(c.inputs, c.call_test().expected) for c in view.calls] == [(([1], {}), 2)] and view.asserts == ()
    odd = visible_task(task.model_copy(update={"test_list": ["assert set(f(1)) == {2}", "assert f(2) == 4"]}))
    assert view.calls and odd.calls == () and odd.asserts == ("assert set(f(1)) == {2}",)


# --- the input mutator -----------------------------------------------------------------------

SEEDS = [([[1, 2, 3], "abc", 2.5, True, (1, "x"), {"a": 1}], {})]


def test_mutants_keep_every_argument_type_and_are_reproducible():
    made = mutate_inputs(SEEDS, 40, seed=3)
    assert len(made) == 40 and made == mutate_inputs(SEEDS, 40, seed=3) and made != mutate_inputs(SEEDS, 40, seed=4)
    assert len({repr(m) for m in made} | {repr(SEEDS[0])}) == 41  # all distinct, none a seed
    for args, kwargs in made:
        assert [type(a) for a in args] == [list, str, float, bool, tuple, dict] and kwargs == {}
        assert len(args[4]) == 2  # tuples keep their arity
        assert all(type(x) is int for x in args[0])
    assert {tuple(a[0]) for a, _ in made} != {(1, 2, 3)} and {a[1] for a, _ in made} != {"abc"}


@settings(max_examples=40, deadline=None)
@given(seeds=st.lists(st.lists(literals, min_size=1, max_size=3), min_size=1, max_size=3), seed=st.integers(0, 99))
def test_mutants_are_new_small_and_of_the_seed_arity(seeds, seed):
    made = mutate_inputs([(s, {}) for s in seeds], 15, seed=seed)
    arities = {len(s) for s in seeds}
    assert len(made) <= 15 and all(len(args) in arities for args, _ in made)
    assert not {repr((s, {})) for s in seeds} & {repr(m) for m in made}
    assert all(len(repr(m)) < 20_000 for m in made)


# --- budgets ---------------------------------------------------------------------------------

class FakeModel:
    """Replies of random length up to max_tokens; prompt tokens within the tracker's bound."""

    def __init__(self, rng: random.Random, honours_n: bool):
        self.spec = ModelSpec("openai", "fake", "http://fake")
        self.concurrency = 1
        self.rng, self.honours_n = rng, honours_n
        self.requests: list[GenerationParams] = []

    async def generate(self, prompt: Prompt, params: GenerationParams, n: int, seed: int) -> Reply:
        self.requests.append(params)
        # a prompt always has the same length in tokens, somewhere below the tracker's bound
        prompt_tokens = max(1, prompt_token_bound(prompt) // (1 + hash(repr(prompt.as_key())) % 4))
        completion = sum(self.rng.randint(1, params.max_tokens) for _ in range(n))
        return Reply([f"reply {i}" for i in range(n)], prompt_tokens * (1 if self.honours_n else n), completion, 1.0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens=st.integers(50, 3000), samples=st.integers(1, 12), honours_n=st.booleans(), seed=st.integers(0, 10**6),
       calls=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 300), st.integers(0, 400)), min_size=1, max_size=15))
def test_no_sequence_of_requests_spends_past_the_budget(tokens, samples, honours_n, seed, calls):
    rng = random.Random(seed)
    tracker = BudgetTracker(Budget(tokens=tokens, samples=samples), min_completion_tokens=4)
    model = FakeModel(rng, honours_n)
    access = ModelAccess(model, tracker)

    async def go():
        for n, max_tokens, length in calls:
            prompt = Prompt("chat", messages=(("user", "x" * length),)) if length % 2 else \
                Prompt("completion", text="y" * length)
            try:
                got = await access.sample(prompt, n, 0.5, max_tokens)
            except BudgetExceeded:
                continue
            assert 1 <= len(got) <= n
    asyncio.run(go())
    assert tracker.spent.tokens <= tokens and tracker.spent.samples <= samples
    assert all(p.max_tokens <= 300 for p in model.requests)
    assert tracker.reserved_tokens == 0 and tracker.reserved_samples == 0


def test_a_request_is_capped_to_what_is_left_and_refused_when_nothing_is():
    tracker = BudgetTracker(Budget(tokens=500), min_completion_tokens=16)
    prompt = Prompt("completion", text="x" * 100)  # at most 164 tokens
    grant = tracker.grant("k", prompt, 1, 1000)
    assert grant.max_tokens == 500 - prompt_token_bound(prompt)
    tracker.charge_request("k", grant, [(30, 300)])
    # The same prompt again is known to cost 30 tokens: 170 left, so 140 for the completion.
    assert tracker.grant("k", prompt, 1, 1000).max_tokens == 140
    with pytest.raises(BudgetExceeded):
        tracker.grant("k", prompt, 1, 1000)  # the first grant's reservation still holds the rest
    executions = BudgetTracker(Budget(executions=3))
    assert executions.grant_executions(5) == 3
    executions.charge_executions(3)
    with pytest.raises(BudgetExceeded):
        executions.grant_executions(1)


def test_a_chat_that_continues_one_already_sent_is_bounded_by_what_that_one_cost():
    tracker = BudgetTracker(Budget(tokens=10_000))
    first = Prompt("chat", messages=(("system", "s" * 300), ("user", "u" * 900)))
    grant = tracker.grant("first", first, 1, 100)
    tracker.charge_request("first", grant, [(310, 100)], first)
    turn = Prompt("chat", messages=first.messages + (("assistant", "a" * 200), ("user", "fix it")))
    grant = tracker.grant("turn", turn, 1, 100)
    new_bytes = len("assistant") + 200 + len("user") + len("fix it")
    assert grant.reserved_tokens == 310 + new_bytes + 2 * 16 + 64 + 100 < prompt_token_bound(turn)


def test_dollars_cap_the_completion_too():
    from bombe.models.cache import Prices

    tracker = BudgetTracker(Budget(dollars=0.001), Prices(prompt=1.0, completion=10.0))
    grant = tracker.grant("k", Prompt("completion", text="x" * 36), 1, 1000)  # 100 prompt tokens: $0.0001
    assert grant.max_tokens in (89, 90)  # $0.0009 left at $10 per million (rounded down, floats)


# --- behaviour: fingerprints, clusters, consensus ----------------------------------------------

@pytest.fixture(scope="module")
def box():
    with Sandbox(workers=2, limits=Limits(timeout=5)) as sandbox:
        yield sandbox


def _view(calls=((2, 3, 5),)) -> VisibleTask:
    from bombe.strategies.visible import make_call

    return VisibleTask("toy", "def add(a, b):\n    pass\n", "add", tuple(make_call([a, b], {}, c) for a, b, c in calls))


ADD = "def add(a, b):\n    return a + b\n"
ADD_TOO = "def add(a, b):\n    return b + a\n"
ADD_LOOP = "def add(a, b):\n    total = a\n    total += b\n    return total\n"
SUB = "def add(a, b):\n    return a - b if b > 3 else a + b\n"
BROKEN = "def add(a, b)\n    return a + b\n"


def test_the_pool_runs_each_behaviour_once_and_counts_votes(box):
    tracker = BudgetTracker(Budget(executions=10))
    inputs = [([1, 10], {}), ([-4, 4], {}), ([0, 7], {})]
    pool = Pool(Executor(box, tracker, _view()), inputs)

    async def go():
        first = await pool.add([ADD, ADD_TOO, SUB, ADD, BROKEN], "s")
        second = await pool.add([ADD_LOOP, ADD], "s")
        return first, second
    first, second = asyncio.run(go())
    assert len(first) == 3 and second == []  # add, sub, broken; add_loop behaves like add
    assert tracker.spent.executions == 5  # distinct texts only: ADD twice and again later ran once
    entry = pool.entry_of(ADD)
    assert entry is pool.entry_of(ADD_LOOP) is pool.entry_of(ADD_TOO) and entry.votes == 5 and entry.program == ADD
    assert entry.behaviour.passes_visible and entry.behaviour.outputs[1:] == ("b", "0", "7")
    assert pool.entry_of(SUB).behaviour.passes_visible  # visible checks cannot tell it apart
    broken = pool.entry_of(BROKEN).behaviour
    assert not broken.loaded and "did not load" in broken.failures[0]
    assert select(pool, 2) == [ADD, SUB]  # the largest behaviour cluster first
    assert {e.program for e in pool.survivors()} == {ADD, SUB}


def test_behaviours_are_represented_by_the_greedy_program_else_the_first_sampled(box):
    pool = Pool(Executor(box, BudgetTracker(Budget()), _view()), [([1, 10], {})])

    async def go():
        await pool.add([ADD_LOOP], "greedy")
        await pool.add([ADD, SUB, ADD_TOO], "sample")
    asyncio.run(go())
    # ADD is shorter, but the checks cannot tell it from greedy's program, which is submitted.
    assert pool.entry_of(ADD).program == ADD_LOOP and select(pool) == [ADD_LOOP]
    assert pool.entry_of(SUB).first == 2

    later = Pool(Executor(box, BudgetTracker(Budget()), _view()), [([1, 10], {})])
    asyncio.run(later.add([ADD_LOOP, ADD], "sample"))
    assert later.entry_of(ADD).program == ADD_LOOP  # no greedy program: the first sampled


def test_failures_say_which_visible_check_failed_and_how(box):
    tracker = BudgetTracker(Budget())
    view = _view(((2, 3, 5), (1, 1, 2)))
    wrong = "def add(a, b):\n    return a * b if a > 1 else a + b\n"
    raises = "def add(a, b):\n    raise ValueError('nope')\n"
    behaviours = asyncio.run(Executor(box, tracker, view).run([wrong, raises]))
    assert behaviours[0].visible_passed == 1 and behaviours[0].failures == ("add(2, 3) returned 6, expected 5",)
    assert behaviours[1].failures[0] == "add(2, 3) raised ValueError: nope" and behaviours[1].visible_passed == 0


def test_execution_budget_stops_the_pool(box):
    tracker = BudgetTracker(Budget(executions=2))
    pool = Pool(Executor(box, tracker, _view()))

    async def go():
        await pool.add([ADD, SUB, ADD_LOOP], "s")
        with pytest.raises(BudgetExceeded):
            await pool.add([ADD_TOO], "s")
    asyncio.run(go())
    assert tracker.spent.executions == 2 and pool.entry_of(ADD_LOOP) is None and pool.entry_of(SUB) is not None


def test_clusters_ignore_inputs_most_programs_fail_on():
    from bombe.strategies.behaviour import Entry
    from bombe.strategies.runtime import ERROR, Behaviour

    def entry(outputs, votes):
        return Entry(Behaviour(True, None, 1, 1, (), tuple(outputs), ()), [f"p{outputs}"], votes)
    # input 2 is outside the domain: most programs raise, one returns something.
    a = entry(["5", "1", ERROR], 3)
    b = entry(["5", "1", "9"], 1)
    c = entry(["5", "2", ERROR], 2)
    found = clusters([a, b, c], visible=1)
    assert [cl.votes for cl in found] == [4, 2] and set(map(id, found[0].entries)) == {id(a), id(b)}
    assert consensus_order([c, a, b], visible=1)[0] is a


def test_helpers_are_replaced_in_place():
    program = "def helper(x):\n    return x\n\n\ndef main(x):\n    return helper(x) + 1\n"
    new = replace_function(program, "helper", "def helper(x):\n    return 2 * x")
    namespace: dict = {}
    exec(new, namespace)  # our own test string
    assert namespace["main"](3) == 7 and new.count("def helper") == 1


def test_model_written_inputs_tests_and_observations_parse():
    assert parse_model_inputs("```python\nf(1, 'a)')\nf([2])\nprint(f(3))\nf(x)\n```", "f") == \
        [([1, "a)"], {}), ([[2]], {}), ([3], {})]
    assert [t.inputs for t in parse_model_tests("assert f(1) == 2\nassert f(g(1)) == 2\nassert 3 == f(2)", "f")] == \
        [([1], {}), ([2], {})]
    assert parse_observations("Intro:\n1. The list may be empty.\n2) Sort first.\n- Use a set.\n", 5) == \
        ["The list may be empty.", "Sort first.", "Use a set."]


def test_strategy_options_are_typed_and_checked():
    assert make_strategy("filter-cluster", {"n": "4", "dual": "true"}).options()["dual"] is True
    from bombe.strategies import StrategyOptionError

    with pytest.raises(StrategyOptionError, match="no option 'wings'"):
        make_strategy("sample", {"wings": "2"})
    with pytest.raises(StrategyOptionError, match="cannot be 'many'"):
        make_strategy("sample", {"n": "many"})
    with pytest.raises(StrategyOptionError, match="unknown strategy"):
        make_strategy("magic")


def test_the_40_task_subset_is_the_seeded_draw():
    listed = read_task_list(subset_path())
    every = [f"HumanEval/{i}" for i in range(164)]
    assert listed == draw_subset(every, 40, SEED) and len(set(listed)) == 40
    assert draw_subset(every, 40, SEED + 1) != listed


class ScriptedModel:
    """Answers every request with the same text."""

    def __init__(self, text: str):
        self.spec = ModelSpec("openai", "scripted", "http://scripted")
        self.concurrency = 1
        self.text = text
        self.prompts: list[Prompt] = []
        self.temperatures: list[float] = []

    async def generate(self, prompt: Prompt, params: GenerationParams, n: int, seed: int) -> Reply:
        self.prompts.append(prompt)
        self.temperatures.append(params.temperature)
        return Reply([self.text] * n, 10 * n, 5 * n, 1.0)


def _context(task: VisibleTask, model, sandbox=None):
    from bombe.models.prompts import Templates
    from bombe.strategies.base import Context

    tracker = BudgetTracker(Budget(tokens=5000))
    executor = Executor(sandbox, tracker, task) if sandbox is not None else None
    return Context(task, ModelAccess(model, tracker), executor, tracker, "chat", Templates.load())


def _projected_view(calls=(), asserts=()) -> VisibleTask:
    """A task whose outputs the judge projects as EvalPlus does (a set compared as a sorted list)."""
    from bombe.benchmarks.evalplus import call_entry_point_source
    from bombe.strategies.visible import make_call

    setup = call_entry_point_source("uniq", None, "sorted(out)")
    return VisibleTask("toy/projected", "def uniq(xs):\n    pass\n", "uniq",
                       tuple(make_call([xs], {}, expected) for xs, expected in calls), tuple(asserts),
                       setup=setup, call_entry_point="_bombe_call")


UNIQ_SET = "def uniq(xs):\n    return set(xs)\n"
UNIQ_LIST = "def uniq(xs):\n    return list(xs)\n"


def test_projected_tasks_judge_visible_values_and_asserts_through_the_projection(box):
    # The prompt states a set; the judge compares the projection, a sorted list.
    tracker = BudgetTracker(Budget(executions=3))
    executor = Executor(box, tracker, _projected_view(calls=[([3, 1, 3, 2], {1, 2, 3})]))
    right, wrong = asyncio.run(executor.run([UNIQ_SET, UNIQ_LIST]))
    assert right.passes_visible and not wrong.passes_visible
    # The projection is a sandbox job too, charged with the two programs' jobs.
    assert tracker.spent.executions == 3 and executor.jobs_run == 3
    with pytest.raises(BudgetExceeded):
        asyncio.run(executor.run([UNIQ_SET]))
    # An assert calls the function by its name, and goes through the projection all the same.
    view = _projected_view(asserts=["assert uniq([2, 1, 2]) == [1, 2]"])
    right, wrong = asyncio.run(Executor(box, BudgetTracker(Budget()), view).run([UNIQ_SET, UNIQ_LIST]))
    assert right.passes_visible and not wrong.passes_visible


def test_a_check_whose_inputs_cannot_reach_the_program_is_no_check():
    prompt = '"""\nWrite angle(c).\nassert math.isclose(angle(0, 1j), 1.57, rel_tol=0.001)\n"""\n'
    task = Task(task_id="toy/complex", prompt=prompt, entry_point="angle", canonical_solution="",
                tests=[{"args": [0, 1]}], hidden_tests=[], setup=_projected_view().setup,
                call_entry_point="_bombe_call", expected_from_reference=True)
    view = visible_task(task)
    assert view.calls == () and view.asserts == () and not view.has_checks


def test_repair_samples_new_fixes_when_the_model_keeps_answering_with_the_same_behaviour(box):
    model = ScriptedModel(f"```python\n{SUB}```")  # fails add(5, 7) == 12, whatever it is told
    view = _view(((5, 7, 12),))
    solution = asyncio.run(make_strategy("repair", {"rounds": "4"}).solve(_context(view, model, box)))
    assert solution.submissions == [SUB] and solution.notes["rounds"] == 4
    # The greedy program, one focused fix, then fixes sampled at the sampling temperature.
    assert model.temperatures == [0.0, 0.2, 0.8, 0.8, 0.8]
    assert "add(5, 7) returned -2, expected 12" in model.prompts[1].messages[-1][1]


def test_tasks_without_examples_get_model_written_inputs_and_their_mutants():
    from bombe.strategies.filter_cluster import fingerprint_inputs

    model = ScriptedModel("```python\nadd(1, 2)\nadd(-5, 40)\n```")
    bare = VisibleTask("toy", "def add(a, b):\n    pass\n", "add")
    inputs = asyncio.run(fingerprint_inputs(_context(bare, model), 6, 0, 5, 64))
    assert inputs[:2] == [([1, 2], {}), ([-5, 40], {})] and len(inputs) == 8 and len(model.prompts) == 1
    with_examples = asyncio.run(fingerprint_inputs(_context(_view(), model), 6, 0, 5, 64))
    assert len(with_examples) == 6 and len(model.prompts) == 1  # mutants only: the model was not asked


def test_dual_agreement_prefers_the_cluster_the_model_tests_agree_with():
    from bombe.strategies.behaviour import Entry
    from bombe.strategies.filter_cluster import select_clusters
    from bombe.strategies.runtime import Behaviour
    from bombe.strategies.visible import make_call

    class Stub:
        task = _view()

    def entry(program, outputs, votes):
        values = tuple(int(o) for o in outputs)
        return Entry(Behaviour(True, None, 1, 1, (), tuple(outputs), values), [program], votes)
    # visible input, then one model-test input; the model's test says f(...) == 7
    big = entry("big", ["5", "8"], 3)
    small = entry("small", ["5", "7"], 2)
    pool = Pool(Stub())
    pool.entries = {("big",): big, ("small",): small}
    test = make_call([3, 4], {}, 7)
    ctx = _context(_view(), ScriptedModel(""))
    assert select_clusters(ctx, pool, [], 1, 2) == ["big", "small"]  # by size
    assert select_clusters(ctx, pool, [test], 1, 2) == ["small", "big"]  # by dual agreement


def test_visible_asserts_that_are_not_pairs_run_in_the_judge(box):
    view = VisibleTask("Mbpp/x", '"""\nWrite f.\nassert set(f([1, 2])) == {1, 2}\n"""\n', "f",
                       asserts=("assert set(f([1, 2])) == {1, 2}",))
    tracker = BudgetTracker(Budget(executions=4))
    good, bad = asyncio.run(Executor(box, tracker, view).run(["def f(xs):\n    return xs[::-1]\n",
                                                              "def f(xs):\n    return xs[:1]\n"]))
    assert good.passes_visible and (good.visible_passed, good.visible_total) == (1, 1)
    assert not bad.passes_visible and "failed" in bad.failures[0]
    assert tracker.spent.executions == 4  # each program: its calls job and its asserts job


@pytest.mark.parametrize("benchmark", ["humaneval+", "mbpp+", "mbpp", "mbpp-sanitized"])
def test_every_visible_check_of_a_real_benchmark_holds_for_its_reference(benchmark, box):
    """A visible check the reference fails would steer every strategy away from right programs."""
    from bombe.benchmarks import load_benchmark

    from benchkit import DATA

    tasks = [t for t in load_benchmark(benchmark, DATA) if t.canonical_solution]
    views = [(task, visible_task(task)) for task in tasks]
    views = [(task, view) for task, view in views if view.has_checks]
    assert len(views) >= MIN_WITH_CHECKS[benchmark]

    async def failing() -> set[str]:  # the strategies' own executor judges each reference
        async def judge(task: Task, view: VisibleTask) -> bool:
            code = task.prompt + task.canonical_solution if benchmark == "humaneval+" else task.canonical_solution
            [behaviour] = await Executor(box, BudgetTracker(Budget()), view).run([code])
            return behaviour.passes_visible
        verdicts = await asyncio.gather(*(judge(task, view) for task, view in views))
        return {task.task_id for (task, _), passed in zip(views, verdicts) if not passed}
    assert asyncio.run(failing()) == KNOWN_MISLEADING.get(benchmark, set())


MIN_WITH_CHECKS = {"humaneval+": 142, "mbpp+": 370, "mbpp": 970, "mbpp-sanitized": 420}


# Visible checks that the reference fails, each for a reason a prompt parser cannot fix (listed
# so that no new one slips in).
KNOWN_MISLEADING = {
    "humaneval+": {
        "HumanEval/47",   # the docstring's median of [-10, 4, 6, 1000, 10, 20] is 15.0; it is 8.0
        "HumanEval/116",  # the docstring's examples sort by value, not by the count of ones
        "HumanEval/130",  # `tri(1) = 3` defines the sequence; the function returns a list
    },
}

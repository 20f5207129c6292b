"""The two doors a strategy spends its budget through: the model and the sandbox.

`ModelAccess` asks the model for completions: every request is granted (and capped) by the
budget tracker first, served from the completion cache where the same request was answered
before, and written to the ledger. `Executor` runs candidate programs in the sandbox on the
visible checks and on extra inputs, after the tracker grants the executions, and returns each
program's `Behaviour`: what it did on every input, as plain data, judged by trusted code here.
"""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bombe.models.cache import CompletionCache, Ledger, complete
from bombe.models.extract import defines
from bombe.models.client import GenerationParams, Model
from bombe.models.prompts import Prompt
from bombe.sandbox import Job, Limits, Sandbox
from bombe.sandbox.codec import values_match
from bombe.strategies.budget import BudgetTracker
from bombe.strategies.visible import VisibleTask
from bombe.task import CallTest

Inputs = tuple[list, dict]  # (args, kwargs) of one call
# MBPP+ prompts' asserts call math.isclose and sys.getsizeof without importing them (EvalPlus's
# harness has them).
ASSERT_PRELUDE = "import math\nimport sys\n"


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    cached: bool
    finish_reason: str | None


class ModelAccess:
    """A model, behind the budget, the completion cache and the ledger."""

    def __init__(self, model: Model, tracker: BudgetTracker, cache: CompletionCache | None = None,
                 ledger: Ledger | None = None, task_id: str = "", position_base: int = 0, seed: int = 0,
                 top_p: float = 1.0, on_prompt: Callable[[Prompt], None] | None = None):
        self._model = model
        self._tracker = tracker
        self._cache = cache
        self._ledger = ledger
        self._task_id = task_id
        self._position = position_base
        self._seed = seed
        self._top_p = top_p
        self._on_prompt = on_prompt
        self._next_index: dict[str, int] = {}
        self._limit = asyncio.Semaphore(max(1, getattr(model, "concurrency", 1)))

    async def sample(self, prompt: Prompt, n: int = 1, temperature: float = 0.0, max_tokens: int = 512) -> list[Completion]:
        """Up to n completions (fewer when the budget allows fewer; BudgetExceeded when none)."""
        prompt_key = json.dumps([prompt.mode, prompt.as_key()])
        grant = self._tracker.grant(prompt_key, prompt, n, max_tokens)
        params = GenerationParams(temperature=temperature, max_tokens=grant.max_tokens, top_p=self._top_p,
                                  seed=self._seed)
        # The same prompt asked again (more samples of it) continues its sample indices, and so
        # its seeds, even when the budget capped max_tokens differently: every sample is new,
        # has its own cache entry, and a replay asks for the very same ones.
        start = self._next_index.get(prompt_key, 0)
        self._next_index[prompt_key] = start + grant.n
        on_request = (lambda: self._on_prompt(prompt)) if self._on_prompt is not None else None
        try:
            got = await complete(self._model, self._cache, prompt, params, list(range(start, start + grant.n)),
                                 self._limit, on_request)
        except BaseException:
            self._tracker.charge_request(prompt_key, grant, [])
            raise
        ordered = [got[i] for i in range(start, start + grant.n)]
        self._tracker.charge_request(prompt_key, grant, [(c.prompt_tokens, c.completion_tokens) for c, _ in ordered],
                                     prompt)
        results = []
        for completion, cached in ordered:
            if self._ledger is not None:
                self._ledger.record(self._position, self._task_id, completion, cached)
            self._position += 1
            results.append(Completion(completion.text, completion.prompt_tokens, completion.completion_tokens,
                                      cached, completion.finish_reason))
        return results


# --- behaviour -------------------------------------------------------------------------------

def canonical(value: Any) -> str:
    """A text for a plain value, equal for equal values: floats to 9 significant digits, sets sorted."""
    kind = type(value)
    if kind is float:
        return format(value, ".9g")
    if kind in (list, tuple):
        return kind.__name__ + "[" + ",".join(canonical(v) for v in value) + "]"
    if kind in (set, frozenset):
        return "set{" + ",".join(sorted(canonical(v) for v in value)) + "}"
    if kind is dict:
        return "dict{" + ",".join(sorted(f"{canonical(k)}:{canonical(v)}" for k, v in value.items())) + "}"
    if kind is int:
        return format(value, "x")
    try:
        return repr(value)
    except ValueError:
        return "<unprintable>"


ERROR = "!error"
MISSING = "!missing"


@dataclass(frozen=True)
class Behaviour:
    """What one program did: loading, the visible checks, and its outputs on every input."""

    loaded: bool
    load_error: str | None
    visible_passed: int
    visible_total: int
    failures: tuple[str, ...]  # one line per failed visible check: the call, and what went wrong
    outputs: tuple[str, ...]   # canonical output per input (visible inputs first), ERROR or MISSING
    values: tuple[Any, ...]    # the outputs themselves (None where there is none)

    @property
    def passes_visible(self) -> bool:
        return self.loaded and self.visible_passed == self.visible_total

    @property
    def fingerprint(self) -> tuple[str, ...]:
        return ("loaded",) + self.outputs if self.loaded else ("load error",)

    @property
    def ok_fraction(self) -> float:
        if not self.outputs:
            return 1.0 if self.loaded else 0.0
        return sum(1 for o in self.outputs if o not in (ERROR, MISSING)) / len(self.outputs)


def _describe_args(args: list, kwargs: dict, entry_point: str) -> str:
    def show(value: Any) -> str:
        try:
            text = repr(value)
        except ValueError:
            text = "<an int too long to print>"
        return text if len(text) <= 100 else text[:97] + "..."
    return f"{entry_point}({', '.join([show(a) for a in args] + [f'{k}={show(v)}' for k, v in kwargs.items()])})"


class Executor:
    """Runs programs on the visible checks and extra inputs, one sandbox job per program."""

    def __init__(self, sandbox: Sandbox, tracker: BudgetTracker, task: VisibleTask,
                 limits: Limits | None = None, call_seconds: float = 1.0):
        self._sandbox = sandbox
        self._tracker = tracker
        self._task = task
        self._limits = limits or Limits(timeout=5.0)
        self._call_seconds = call_seconds
        self._lock = asyncio.Lock()
        self._visible_tests: list[CallTest] | None = None
        # The judge compares a projected task's outputs (EvalPlus: a set, a complex number as a
        # tuple, a re.Match as a bool), so its asserts call through the projection too. An MBPP
        # adapter's set-up defines the judge's own `entry_point`, which its asserts already call.
        aliased = task.call_entry_point and not defines(ast.parse(task.setup), task.entry_point)
        self._asserts = [f"{task.entry_point} = {task.call_entry_point}\n{check}" if aliased else check
                         for check in task.asserts]
        self.jobs_run = 0

    @property
    def task(self) -> VisibleTask:
        return self._task

    async def run(self, programs: Sequence[str], inputs: Sequence[Inputs] = ()) -> list[Behaviour]:
        """Each program's behaviour; fewer than asked when the execution budget allows fewer
        (BudgetExceeded when it allows none)."""
        if not programs:
            return []
        task = self._task
        per_program = 1 + (1 if task.asserts else 0)
        async with self._lock:
            visible = await self._visible()
            allowed = self._tracker.grant_executions(len(programs) * per_program) // per_program
            if allowed <= 0:
                from bombe.strategies.budget import BudgetExceeded

                raise BudgetExceeded("the execution budget cannot run another program")
            programs = list(programs[:allowed])
            return await self._run(programs, inputs, visible, per_program)

    async def _run(self, programs: list[str], inputs: Sequence[Inputs], visible: list[CallTest],
                   per_program: int) -> list[Behaviour]:
        task = self._task
        entry = task.call_entry_point or task.entry_point
        asserts = self._asserts
        calls = visible + [CallTest(args=list(a), kwargs=dict(k)) for a, k in inputs]
        jobs: list[Job] = []
        for program in programs:
            jobs.append(Job(program, entry, calls=calls, setup=task.setup, limits=self._limits,
                            call_timeouts=[self._call_seconds] * len(calls)))
            if asserts:
                jobs.append(Job(program, entry, checks=asserts, prelude=ASSERT_PRELUDE + task.prompt,
                                setup=task.setup, limits=self._limits))
        outcomes = await asyncio.to_thread(self._sandbox.run_all, jobs)
        self._tracker.charge_executions(len(jobs))
        self.jobs_run += len(jobs)
        behaviours = []
        for i in range(len(programs)):
            call_job, outcome = jobs[i * per_program], outcomes[i * per_program]
            assert_outcome = outcomes[i * per_program + 1] if task.asserts else None
            behaviours.append(self._behaviour(calls, call_job, outcome, assert_outcome))
        return behaviours

    async def _visible(self) -> list[CallTest]:
        """The visible call checks, with the values the prompt states projected as the judge
        projects outputs (once per task): a stub returning each stated value in turn is called
        through the task's projection in the sandbox. Values it cannot project stay as stated."""
        if self._visible_tests is None:
            tests = [c.call_test() for c in self._task.calls]
            if self._task.call_entry_point and tests:
                # One more sandbox job, charged like any other (BudgetExceeded without the budget).
                self._tracker.grant_executions(1)
                tests = await asyncio.to_thread(self._project, tests)
                self._tracker.charge_executions(1)
                self.jobs_run += 1
            self._visible_tests = tests
        return self._visible_tests

    def _project(self, tests: list[CallTest]) -> list[CallTest]:
        task = self._task
        stub = (f"_bombe_stated = iter([{', '.join(repr(t.expected) for t in tests)}])\n"
                f"def {task.entry_point}(*args, **kwargs):\n    return next(_bombe_stated)\n")
        job = Job(stub, task.call_entry_point, calls=[CallTest(args=t.args, kwargs=t.kwargs) for t in tests],
                  setup=task.setup, limits=self._limits)
        self._sandbox.run_one(job)
        replies = job.replies or []
        if len(replies) != len(tests) or not all(r.ok for r in replies):
            return tests
        return [t.model_copy(update={"expected": r.value}) for t, r in zip(tests, replies)]

    def _behaviour(self, calls: list[CallTest], job: Job, outcome, assert_outcome) -> Behaviour:
        task = self._task
        replies = job.replies
        loaded = outcome.status != "invalid" and "while loading" not in (outcome.error or "")
        visible = len(task.calls)
        passed, failures = 0, []
        outputs: list[str] = []
        values: list[Any] = []
        for index, test in enumerate(calls):
            reply = replies[index] if index < len(replies) else None
            if reply is None:
                outputs.append(MISSING)
                values.append(None)
            elif reply.ok:
                outputs.append(canonical(reply.value))
                values.append(reply.value)
            else:
                outputs.append(ERROR)
                values.append(None)
            if index >= visible:
                continue
            where = _describe_args(test.args, test.kwargs, task.entry_point)
            if reply is not None and reply.ok and values_match(reply.value, test.expected, test.atol, test.rtol,
                                                               test.exact):
                passed += 1
            elif reply is None:
                failures.append(f"{where} did not return: {outcome.error or outcome.status}")
            elif reply.ok:
                failures.append(f"{where} returned {_describe_args([reply.value], {}, '')[1:-1]}, "
                                f"expected {_describe_args([test.expected], {}, '')[1:-1]}")
            else:
                failures.append(f"{where} raised {reply.exc_type}: {(reply.exc_msg or '')[:200]}")
        total = visible
        if assert_outcome is not None:
            total += len(task.asserts)
            if assert_outcome.passed:
                passed += len(task.asserts)
            else:
                failures.append(f"{task.asserts[0][:200]} failed: {assert_outcome.error or assert_outcome.status}")
        load_error = None if loaded else (outcome.error or outcome.status)
        if not loaded:
            failures = [f"the program did not load: {load_error}"]
            passed = 0
        return Behaviour(loaded, load_error, passed, total, tuple(failures), tuple(outputs), tuple(values))

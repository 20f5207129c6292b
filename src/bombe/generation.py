"""Prompt to verdict: a model writes samples, the sandbox judges each one as soon as it exists.

Generation runs as asyncio tasks (up to the model's concurrency); judging runs in a thread
that hands the sandbox whatever samples are ready. Every completion goes to the cache and
the ledger, every program and result to the store, the moment they exist, all from the
event loop's thread, so a crash or Ctrl-C keeps everything finished and a rerun resumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field

from bombe.models.cache import CachedCompletion, CompletionCache, Ledger, complete
from bombe.models.client import GenerationParams, Model
from bombe.models.extract import program_from_reply
from bombe.models.prompts import Mode, Templates, build_prompt
from bombe.sandbox import Job, Sandbox
from bombe.task import Result, Sample, Task


@dataclass(frozen=True)
class GeneratedSample:
    position: int
    task: Task
    sample_index: int
    program: str
    completion: CachedCompletion | None  # None for a stored sample being judged on resume
    cached: bool

    def sample(self) -> Sample:
        return Sample(task_id=self.task.task_id, solution=self.program)


@dataclass
class Plan:
    tasks: list[Task]
    model: Model
    n: int
    params: GenerationParams
    mode: Mode
    templates: Templates
    have: set[int] = field(default_factory=set)  # positions whose samples already exist

    @property
    def total(self) -> int:
        return len(self.tasks) * self.n


async def generate(plan: Plan, cache: CompletionCache, emit: Callable[[GeneratedSample], None]) -> None:
    """Produce every sample the plan lacks, from the cache where it can, and emit each one."""
    limit = asyncio.Semaphore(max(1, plan.model.concurrency))

    async def one_task(task_number: int, task: Task) -> None:
        prompt = build_prompt(task, plan.mode, plan.templates)
        missing = [i for i in range(plan.n) if task_number * plan.n + i not in plan.have]
        if not missing:
            return
        got = await complete(plan.model, cache, prompt, plan.params, missing, limit)
        for index, (completion, cached) in sorted(got.items()):
            program = program_from_reply(completion.text, task.prompt, task.entry_point, plan.mode)
            emit(GeneratedSample(task_number * plan.n + index, task, index, program, completion, cached))

    await gather_all([one_task(i, task) for i, task in enumerate(plan.tasks)])


async def gather_all(coroutines: list[Coroutine]) -> None:
    """Run them together; when one fails, cancel the rest and wait for them before raising."""
    jobs = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.gather(*jobs)
    finally:
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)


class Judge:
    """Judges samples as they arrive, in a thread, and hands each result back to the event loop."""

    def __init__(self, sandbox: Sandbox, on_result: Callable[[int, Result], None]):
        self.sandbox = sandbox
        self.on_result = on_result
        self.queue: asyncio.Queue[GeneratedSample | None] = asyncio.Queue()

    def submit(self, sample: GeneratedSample) -> None:
        self.queue.put_nowait(sample)

    async def run(self) -> None:
        """Until `close()`: take what is ready, judge it as one batch, repeat."""
        loop = asyncio.get_running_loop()
        finished = False
        while not finished:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            if None in batch:
                finished = True
                batch = [s for s in batch if s is not None]
            if batch:
                await asyncio.to_thread(self._judge, batch, loop)

    def _judge(self, batch: list[GeneratedSample], loop: asyncio.AbstractEventLoop) -> None:
        jobs = [Job.for_task(s.task, s.program, self.sandbox.limits) for s in batch]
        for index, outcome in self.sandbox.run(jobs):
            sample = batch[index]
            result = outcome.result(sample.task.task_id, sample.sample_index)
            loop.call_soon_threadsafe(self.on_result, sample.position, result)

    def close(self) -> None:
        self.queue.put_nowait(None)


async def generate_and_judge(plan: Plan, cache: CompletionCache, ledger: Ledger, sandbox: Sandbox,
                             on_sample: Callable[[GeneratedSample], None],
                             on_result: Callable[[int, Result], None],
                             unjudged: list[GeneratedSample] = ()) -> None:
    """Generate what is missing and judge it as it comes; `unjudged` are stored samples with no result yet."""
    judge = Judge(sandbox, on_result)
    judging = asyncio.ensure_future(judge.run())

    def emit(sample: GeneratedSample) -> None:
        ledger.record(sample.position, sample.task.task_id, sample.completion, sample.cached)
        on_sample(sample)
        judge.submit(sample)

    for sample in unjudged:
        judge.submit(sample)
    try:
        await plan.model.check()
        await generate(plan, cache, emit)
    finally:
        judge.close()  # what was generated is still judged, even when generation failed
        try:
            await judging
        finally:
            await plan.model.close()

"""Evaluate samples against tasks: the sandbox runs them, trusted code judges, results stream out."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from bombe import metrics
from bombe.sandbox import Job, Limits, Sandbox
from bombe.task import InputError, Result, Sample, Task


def reference_samples(tasks: Iterable[Task], source: str = "reference") -> list[Sample]:
    samples = []
    for task in tasks:
        code = task.reference_solution()
        if code is None:
            raise InputError(source, None, "canonical_solution", f"task {task.task_id!r} has no reference solution")
        samples.append(Sample(task_id=task.task_id, solution=code))
    return samples


class OrderedWriter:
    """Writes results in input order as soon as every earlier one is known."""

    def __init__(self, handle: IO[str] | None):
        self.handle = handle
        self.waiting: dict[int, Result] = {}
        self.next_index = 0

    def add(self, index: int, result: Result) -> None:
        self.waiting[index] = result
        while self.next_index in self.waiting:
            ready = self.waiting.pop(self.next_index)
            if self.handle is not None:
                self.handle.write(ready.model_dump_json() + "\n")
                self.handle.flush()
            self.next_index += 1


def judge_samples(
    tasks: list[Task], samples: list[Sample], sandbox: Sandbox, limits: Limits | None = None
) -> Iterator[tuple[int, Result]]:
    """Yield (sample position, result) as each sample is judged."""
    by_id = {task.task_id: task for task in tasks}
    per_task_index: dict[str, int] = defaultdict(int)
    jobs, labels = [], []
    for sample in samples:
        task = by_id[sample.task_id]
        labels.append((task.task_id, per_task_index[task.task_id]))
        per_task_index[task.task_id] += 1
        jobs.append(Job.for_task(task, sample.program(task), limits))
    for index, outcome in sandbox.run(jobs):
        task_id, sample_index = labels[index]
        yield index, outcome.result(task_id, sample_index)


def summarize(results: Iterable[Result], isolation: str) -> dict:
    results = list(results)
    per_task: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for result in results:
        per_task[result.task_id][0] += 1
        per_task[result.task_id][1] += int(result.passed)
    counts = {task: (n, c) for task, (n, c) in per_task.items()}
    smallest_n = min((n for n, _ in counts.values()), default=0)
    pass_at = {
        str(k): metrics.mean_pass_at_k(counts, k) for k in (1, 10, 100) if k <= smallest_n
    }
    return {
        "samples": len(results),
        "passed": sum(r.passed for r in results),
        "tasks": len(counts),
        "tasks_solved": sum(1 for _, c in counts.values() if c > 0),
        "pass_at_k": pass_at,
        "status_counts": metrics.status_counts(r.status for r in results),
        "isolation": isolation,
    }


def evaluate(
    tasks: list[Task],
    samples: list[Sample],
    sandbox: Sandbox,
    out: Path | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> dict:
    """Judge every sample, writing results in input order as they become known; return the summary."""
    results: list[Result | None] = [None] * len(samples)
    handle = out.open("w", encoding="utf-8") if out else None
    try:
        writer = OrderedWriter(handle)
        for index, result in judge_samples(tasks, samples, sandbox):
            results[index] = result
            writer.add(index, result)
            if on_result:
                on_result(result)
    finally:
        if handle:
            handle.close()
    return summarize([r for r in results if r is not None], sandbox.isolation)


def write_summary(summary: dict, path: Path) -> None:
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

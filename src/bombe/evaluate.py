"""Evaluate samples against tasks: the sandbox runs them, trusted code judges, results stream out."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import IO

from bombe import metrics
from bombe.sandbox import Job, Sandbox
from bombe.task import InputError, Result, Sample, Task


def reference_samples(tasks: Iterable[Task], source: str = "reference",
                      skipped: list[str] | None = None) -> list[Sample]:
    """One sample per task from its reference solution. A task marked `no_reference` (its benchmark
    has none) is left out and its id appended to `skipped`; any other task without one is an error."""
    samples = []
    for task in tasks:
        code = task.reference_solution()
        if code is None:
            if task.no_reference:
                if skipped is not None:
                    skipped.append(task.task_id)
                continue
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
    tasks: list[Task], samples: list[Sample], sandbox: Sandbox, skip: Collection[int] = (),
) -> Iterator[tuple[int, Result]]:
    """Yield (sample position, result) as each sample not in `skip` is judged."""
    by_id = {task.task_id: task for task in tasks}
    labels = sample_labels(samples)
    positions = [position for position in range(len(samples)) if position not in skip]
    jobs = []
    for position in positions:
        task = by_id[samples[position].task_id]
        jobs.append(Job.for_task(task, samples[position].program(task), sandbox.limits))
    for index, outcome in sandbox.run(jobs):
        position = positions[index]
        yield position, outcome.result(*labels[position])


def sample_labels(samples: list[Sample]) -> list[tuple[str, int]]:
    """(task_id, sample_index) for each sample: its index among its task's samples."""
    per_task: dict[str, int] = defaultdict(int)
    labels = []
    for sample in samples:
        labels.append((sample.task_id, per_task[sample.task_id]))
        per_task[sample.task_id] += 1
    return labels


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
    record: Callable[[int, Result], None] | None = None,
    done: dict[int, Result] | None = None,
) -> dict:
    """Judge every sample not already `done`, hand each result to `record` (the store) the
    moment it exists, write all results in input order to `out`, and return the summary."""
    done = dict(done or {})
    handle = out.open("w", encoding="utf-8") if out else None
    try:
        writer = OrderedWriter(handle)
        for position, result in done.items():
            writer.add(position, result)
        for position, result in judge_samples(tasks, samples, sandbox, skip=done.keys()):
            if record:
                record(position, result)
            done[position] = result
            writer.add(position, result)
            if on_result:
                on_result(result)
    finally:
        if handle:
            handle.close()
    return summarize([done[p] for p in sorted(done)], sandbox.isolation)


def write_summary(summary: dict, path: Path) -> None:
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

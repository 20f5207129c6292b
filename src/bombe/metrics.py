"""Metrics over judged samples: the unbiased pass@k estimator and status counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
import math


def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. (2021): 1 - C(n-c, k) / C(n, k), in the numerically stable product form."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@{k} needs 1 <= k <= n and 0 <= c <= n (n={n}, c={c})")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def mean_pass_at_k(per_task: dict[str, tuple[int, int]], k: int) -> float | None:
    """Average pass@k over tasks given {task_id: (n, c)}; None when some task has n < k."""
    if not per_task or any(n < k for n, _ in per_task.values()):
        return None
    return sum(pass_at_k(n, c, k) for n, c in per_task.values()) / len(per_task)


def status_counts(statuses: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(statuses).items()))

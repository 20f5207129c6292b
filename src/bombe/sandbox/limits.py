"""Resource limits for one candidate, and applying them inside its process."""

from __future__ import annotations

import resource
from typing import NamedTuple


# The whole environment a candidate sees.
CANDIDATE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class Limits(NamedTuple):
    """What one candidate may use. Wall-clock time is enforced from outside the candidate.

    A NamedTuple, not a dataclass: the zygote imports this, and `dataclasses` would pull
    `inspect` into a process every candidate is forked from.
    """

    timeout: float = 10.0          # wall seconds for loading the candidate and all its checks
    memory_mb: int = 2048          # address space of each candidate process
    file_size_mb: int = 16         # largest file it may write
    tmp_size_mb: int = 64          # each of its private /tmp and /dev/shm
    open_files: int = 128
    processes: int = 64            # processes and threads inside its namespace
    output_bytes: int = 4 << 20    # stdout and stderr together
    value_bytes: int = 32 << 20    # one encoded result message

    @property
    def cpu_seconds(self) -> int:
        # A CPU cap two seconds past the wall clock: a backstop, never the first to fire.
        return int(self.timeout) + 2

    def to_dict(self) -> dict:
        return self._asdict()

    @classmethod
    def from_dict(cls, data: dict) -> Limits:
        return cls(**{k: v for k, v in data.items() if k in cls._fields})


def apply_rlimits(limits: Limits) -> None:
    """Set hard limits in the calling process; they cannot be raised again."""
    mb = 1 << 20

    def cap(kind: int, value: int) -> None:
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_CPU, limits.cpu_seconds)
    cap(resource.RLIMIT_AS, limits.memory_mb * mb)
    cap(resource.RLIMIT_FSIZE, limits.file_size_mb * mb)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_NPROC, limits.processes)
    cap(resource.RLIMIT_CORE, 0)

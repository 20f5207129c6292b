"""The Sandbox: a pool of workers, each a candidate zygote and a judge zygote.

`Sandbox.run(jobs)` takes many (candidate, checks) jobs and yields `(index, Outcome)`
as each finishes. The parent side here is trusted: it compares values for
call/expected checks and collects the judge's verdict for assert-style checks.
"""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bombe.sandbox import codec, isolation, verdict, wire
from bombe.sandbox.channel import CandidateChannel, CandidateGone, Reply, encode_calls
from bombe.sandbox.limits import CANDIDATE_ENV, Limits
from bombe.task import CallTest, Outcome, Task

_START_TIMEOUT = 60.0
_MAX_CONTROL_MESSAGE = 64 << 20


# With per-call limits, the most the calls of one job may take together on top of the job's
# own timeout (which then covers loading): EvalPlus caps each of its two runs of a sample (base
# inputs, plus inputs) at 60 seconds, so a candidate just under every per-call limit of a
# thousand-input task is stopped in minutes, not in a thousand seconds.
CALLS_TIME_CAP = 120.0


def whole_timeout(load_seconds: float, call_timeouts: list[float]) -> float:
    """The wall limit for a job with per-call limits: loading, then every call at its limit,
    bounded by CALLS_TIME_CAP."""
    return load_seconds + min(sum(call_timeouts), CALLS_TIME_CAP)


@dataclass
class Job:
    """One candidate program and the checks it must meet: call pairs, or assert code."""

    code: str
    entry_point: str
    calls: list[CallTest] | None = None
    checks: list[str] | None = None       # assert-style sources, run by the judge
    call_check: bool = False               # each source defines check(candidate): call it
    prelude: str = ""                      # trusted code the tests may use (the task prompt)
    setup: str = ""
    limits: Limits | None = None
    tag: object = field(default=None, compare=False)
    # Wall seconds each call may take, one per call, timed by the parent: a reply that does not
    # arrive within its call's limit of the previous one (or of sending the calls) is a timeout.
    call_timeouts: list[float] | None = None
    # Filled in by the worker that ran a calls job: its replies, each with the seconds it took
    # by the parent's clock (what bombe.reference times references with). A job run twice at
    # once keeps one run's replies.
    replies: list[Reply] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.call_timeouts is not None and len(self.call_timeouts) != len(self.calls or []):
            raise ValueError(f"{len(self.call_timeouts)} call timeouts for {len(self.calls or [])} calls")

    @classmethod
    def for_task(cls, task: Task, code: str, limits: Limits | None = None, tag: object = None) -> Job:
        """The job that judges `code` on `task`. A task's `timeout` is a floor on the wall limit;
        its `call_timeouts` give each call its own limit, and the wall limit grows to fit them
        (see `whole_timeout`). A task may name a `call_entry_point`: the function
        its calls go to, defined by its `setup`, which converts inputs or outputs that are not
        plain data and calls the entry point by name."""
        entry_point = task.call_entry_point or task.entry_point
        base = limits or Limits()
        if task.timeout is not None or task.value_bytes is not None:
            limits = base = base._replace(timeout=max(base.timeout, task.timeout or 0),
                                          value_bytes=max(base.value_bytes, task.value_bytes or 0))
        if task.tests is not None:
            timeouts = task.call_timeouts
            if timeouts is not None:  # Job checks that there is one per call
                limits = base._replace(timeout=whole_timeout(base.timeout, timeouts))
            return cls(code, entry_point, calls=task.all_call_tests, setup=task.setup or "", limits=limits,
                       tag=tag, call_timeouts=list(timeouts) if timeouts is not None else None)
        if task.test is not None:
            return cls(code, entry_point, checks=[task.test], call_check=True, prelude=task.prompt,
                       setup=task.setup or "", limits=limits, tag=tag)
        return cls(code, entry_point, checks=list(task.test_list or []), prelude=task.prompt,
                   setup=task.setup or "", limits=limits, tag=tag)


class WorkerDied(Exception):
    """A zygote stopped answering; the worker restarts it."""

    def __init__(self, message: str, overran: bool = False):
        super().__init__(message)
        self.overran = overran  # it was alive but did not answer by the deadline


class _Spawner:
    """Starts every zygote from one thread that lives as long as the process.

    The isolation tools tie their sandbox's life to the *thread* that started them
    (PR_SET_PDEATHSIG), and pool threads come and go; this thread does not.
    """

    def __init__(self) -> None:
        self.requests: queue.Queue = queue.Queue()
        threading.Thread(target=self._serve, name="bombe-zygote-spawner", daemon=True).start()

    def _serve(self) -> None:
        while True:
            arguments, reply = self.requests.get()
            try:
                reply.put(subprocess.Popen(**arguments))
            except Exception as exc:  # noqa: BLE001 - handed back to the caller
                reply.put(exc)

    def popen(self, **arguments) -> subprocess.Popen:
        reply: queue.Queue = queue.Queue()
        self.requests.put((arguments, reply))
        result = reply.get()
        if isinstance(result, Exception):
            raise result
        return result


_spawner_lock = threading.Lock()
_spawner: _Spawner | None = None


def _spawn(**arguments) -> subprocess.Popen:
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = _Spawner()
    return _spawner.popen(**arguments)


class Zygote:
    """One fork server process and the trusted end of its control socket."""

    def __init__(self, level: str, role: str, limits: Limits):
        self.level, self.role = level, role
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = isolation.zygote_command(level, role, theirs.fileno(), limits)
        debug = os.environ.get("BOMBE_DEBUG_SANDBOX")
        try:
            self.process = _spawn(
                args=command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=None if debug else subprocess.DEVNULL,
                start_new_session=True, env=CANDIDATE_ENV,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        try:
            hello = wire.recv_msg(ours, deadline=time.monotonic() + _START_TIMEOUT)
        except (wire.ChannelClosed, wire.ChannelTimeout) as exc:
            self.close()
            raise WorkerDied(f"the {role} sandbox ({level}) did not start: {exc}") from None
        self.fresh_namespaces = bool(hello.get("fresh_namespaces"))

    def send(self, message: dict, fd: int | None = None) -> None:
        try:
            wire.send_msg(self.sock, message, fd)
        except OSError as exc:
            raise WorkerDied(f"{self.role} zygote: {exc}") from None

    def receive(self, deadline: float) -> dict:
        try:
            return wire.recv_msg(self.sock, _MAX_CONTROL_MESSAGE, deadline)
        except wire.ChannelTimeout:
            raise WorkerDied(f"{self.role} zygote: no answer in time", overran=True) from None
        except wire.ChannelClosed as exc:
            raise WorkerDied(f"{self.role} zygote: {exc}") from None

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()


class Worker:
    """Runs one job at a time: its candidate in a fresh child, its tests in a judge child."""

    def __init__(self, level: str, limits: Limits):
        self.level, self.limits = level, limits
        self.candidates = Zygote(level, "candidate", limits)
        self.judges: Zygote | None = None

    def close(self) -> None:
        for zygote in (self.candidates, self.judges):
            if zygote is not None:
                zygote.close()

    def restart(self) -> None:
        self.close()
        self.judges = None
        self.candidates = Zygote(self.level, "candidate", self.limits)

    def run(self, job: Job) -> Outcome:
        try:
            return self._run(job)
        except WorkerDied as exc:
            self.restart()
            return Outcome("killed", 0, 0, f"sandbox worker lost: {exc}", 0.0)

    def _run(self, job: Job) -> Outcome:
        limits = job.limits or self.limits
        request = None
        if job.calls:
            # Before any candidate starts: inputs that are not plain data are the caller's
            # mistake, and leave the worker as it was.
            try:
                request = encode_calls([(t.args, t.kwargs) for t in job.calls])
            except codec.EncodeError as exc:
                return Outcome("killed", 0, 0, f"sandbox error: a call's inputs are not plain data: {exc}", 0.0)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.candidates.send({"op": "spawn", "limits": limits.to_dict()}, theirs.fileno())
        finally:
            theirs.close()
        deadline = time.monotonic() + limits.timeout + 0.5
        with ours:
            if job.calls is not None:
                load, replies, gone = self._drive_calls(ours, job, request, limits, deadline)
            else:
                judged = self._judge(ours, job, limits, deadline)
        self.candidates.send({"op": "finish"})
        report = self.candidates.receive(time.monotonic() + limits.timeout + 10)
        if job.calls is not None:
            return verdict.judge_calls(job.calls, load, replies, gone, report)
        return verdict.judge_asserts(judged, report)

    @staticmethod
    def _drive_calls(sock: socket.socket, job: Job, request: list[dict] | None, limits: Limits, deadline: float):
        """Load the candidate, send every call at once, and read the replies in order. With
        per-call limits, each reply has its own deadline: its limit after the previous reply
        (or after the calls were sent), on this trusted process's clock."""
        channel = CandidateChannel(sock, limits.value_bytes, deadline)
        load, replies = None, []
        limits_each = job.call_timeouts
        try:
            load = channel.load(job.code, job.entry_point, job.setup)
            if load["status"] == "ready" and request:
                channel.send_encoded(request)
                last = time.monotonic()
                for index in range(len(job.calls)):
                    reply = channel.next_reply(None if limits_each is None else last + limits_each[index])
                    now = time.monotonic()
                    replies.append(reply._replace(seconds=now - last))
                    last = now
        except CandidateGone:
            pass
        job.replies = replies
        return load, replies, channel.gone

    def _judge(self, sock: socket.socket, job: Job, limits: Limits, deadline: float) -> dict:
        if self.judges is None:
            self.judges = Zygote(self.level, "judge", self.limits)
        message = {
            "op": "judge",
            "job": {
                "code": job.code, "entry_point": job.entry_point, "checks": job.checks,
                "call_check": job.call_check, "prelude": job.prelude, "setup": job.setup,
                "timeout": limits.timeout, "max_bytes": limits.value_bytes,
            },
        }
        self.judges.send(message, sock.fileno())
        sock.close()
        try:
            return self.judges.receive(deadline + 5)
        except WorkerDied as exc:
            self.judges.close()
            self.judges = None
            # A check that overruns is spinning on what the candidate returned: its timeout.
            failure = ({"kind": "judge_timeout", "error": "the checks did not finish in time"} if exc.overran
                       else {"kind": "judge_error", "error": "the judge sandbox died"})
            return {"checks_run": 0, "checks_passed": 0, "load": None, "failure": failure}


class Sandbox:
    """The only place untrusted code runs: `workers` parallel workers under `limits`."""

    def __init__(
        self,
        workers: int | None = None,
        limits: Limits | None = None,
        isolation_level: str | None = None,
        allow_unsafe: bool = False,
    ):
        self.limits = limits or Limits()
        self.isolation = isolation.choose_level(isolation_level, allow_unsafe)
        self.worker_count = max(1, workers or os.cpu_count() or 1)
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._workers: list[Worker] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_workers(self) -> None:
        with self._lock:
            missing = self.worker_count - len(self._workers)
            if missing <= 0:
                return
            started: list[Worker] = []
            errors: list[Exception] = []

            def start() -> None:
                try:
                    started.append(Worker(self.isolation, self.limits))
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=start) for _ in range(missing)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for worker in started:
                self._workers.append(worker)
                self._idle.put(worker)
            if errors and not self._workers:
                raise errors[0]

    @property
    def fresh_namespaces(self) -> bool:
        self._start_workers()
        return all(w.candidates.fresh_namespaces for w in self._workers)

    def run_one(self, job: Job) -> Outcome:
        return next(self.run([job]))[1]

    def run_all(self, jobs: Iterable[Job]) -> list[Outcome]:
        """Every job's outcome, in the order of the jobs (run() yields them as they finish)."""
        jobs = list(jobs)
        outcomes: list[Outcome | None] = [None] * len(jobs)
        for index, outcome in self.run(jobs):
            outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[int, Outcome]]:
        """Yield (index, outcome) for each job as it finishes, not in input order."""
        self._start_workers()
        pending: queue.Queue = queue.Queue()
        done: queue.Queue = queue.Queue()
        stop = threading.Event()
        count = 0
        for count, job in enumerate(jobs, 1):
            pending.put((count - 1, job))

        def work() -> None:
            worker = self._idle.get()
            try:
                while not stop.is_set():
                    try:
                        index, job = pending.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        outcome = worker.run(job)
                    except Exception as exc:  # noqa: BLE001 - a harness bug must not hang the batch
                        outcome = Outcome("killed", 0, 0, f"sandbox error: {type(exc).__name__}: {exc}", 0.0)
                        # Its zygotes may be mid-job: the next job gets fresh ones.
                        try:
                            worker.restart()
                        except Exception:  # noqa: BLE001 - the next job's WorkerDied restarts again
                            pass
                    done.put((index, outcome))
            finally:
                self._idle.put(worker)

        threads = [threading.Thread(target=work, daemon=True) for _ in range(min(len(self._workers), count))]
        for thread in threads:
            thread.start()
        try:
            for _ in range(count):
                yield done.get()
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    def close(self) -> None:
        with self._lock:
            for worker in self._workers:
                worker.close()
            self._workers.clear()
            self._idle = queue.Queue()

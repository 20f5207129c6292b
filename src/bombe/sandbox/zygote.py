"""The fork server: a warm interpreter inside the isolation that forks one child per job.

Run as `python -I -m bombe.sandbox.zygote --role candidate|judge --control-fd N`.
It never runs candidate code itself. As `candidate` it forks, per job, a child that
becomes PID 1 of fresh user, PID, mount and IPC namespaces (so every process the
candidate starts dies with it), with its own /tmp, limits it cannot lift, and no
capabilities; it kills that child at the deadline, caps its output, and reports how it
ended. As `judge` it forks a child that runs a benchmark's tests against the candidate
through a proxy, and reports the result. Decisions are made by the parent, not here.
"""

from __future__ import annotations

import fcntl
import gc
import os
import resource
import select
import signal
import socket
import sys
import time

from bombe.sandbox import linux, runner, seccomp, wire
from bombe.sandbox.limits import CANDIDATE_ENV, Limits, apply_rlimits

# Modules candidates commonly import, loaded once here so each fork gets them for free.
# Heavy ones (hashlib pulls in OpenSSL: 3.5 MB; dataclasses pulls in inspect) are left out:
# every fork pays for the zygote's size.
PRELOAD = (
    "array bisect cmath collections copy datetime fractions functools heapq itertools math "
    "numbers operator random re statistics string struct textwrap typing unicodedata"
).split()

_NAMESPACES = linux.CLONE_NEWUSER | linux.CLONE_NEWPID | linux.CLONE_NEWNS | linux.CLONE_NEWIPC
_TAIL = 2000
# Read-only paths under /tmp that candidates need (set from --keep-under-tmp).
KEEP_UNDER_TMP: tuple[str, ...] = ()
# Directories hidden at the `unshare` level, whose view is the whole host (set from --hide).
HIDE: tuple[str, ...] = ()
NOBODY = 65534


def _exit_child(code: int = 0) -> None:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _mount_private_dirs(limits: Limits, keep_under_tmp: tuple[str, ...] = ()) -> None:
    linux.mount("none", "/", None, linux.MS_REC | linux.MS_PRIVATE)
    _fresh_tmp_and_shm(f"size={limits.tmp_size_mb}m,mode=1777", keep_under_tmp)
    # Hide /proc: the kernel refuses a fresh procfs under bubblewrap's overmounts, and
    # trying costs half a millisecond a candidate.
    hidden = linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC | linux.MS_RDONLY
    linux.mount("tmpfs", "/proc", "tmpfs", hidden, "size=4k,mode=555")


def _fresh_tmp_and_shm(options: str, keep_under_tmp: tuple[str, ...]) -> None:
    """Cover /tmp and /dev/shm with new tmpfs. Where bombe or Python itself lives under /tmp (a
    checkout there), carry those mounts over into it, through fds opened before it covers them."""
    kept = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in keep_under_tmp]
    linux.mount("tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, options)
    for path, fd in kept:
        os.makedirs(path, exist_ok=True)
        linux.mount(f"/proc/self/fd/{fd}", path, None, linux.MS_BIND | linux.MS_REC)
        os.close(fd)
    if os.path.isdir("/dev/shm"):
        linux.mount("tmpfs", "/dev/shm", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, options)


def _place_fds(channel_fd: int, out_w: int) -> None:
    """Leave exactly: 0 /dev/null, 1 and 2 the output pipe, 3 the channel."""
    devnull = os.open("/dev/null", os.O_RDONLY)
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in (devnull, out_w, channel_fd)]
    os.dup2(high[0], 0)
    os.dup2(high[1], 1)
    os.dup2(high[1], 2)
    os.dup2(high[2], 3)
    os.closerange(4, 1 << 20)


def _become_candidate(
    channel_fd: int, out_w: int, limits: Limits, fresh_namespaces: bool, use_seccomp: bool = False
) -> None:
    """In the forked child: shut every door, then serve the candidate's calls. Never returns."""
    try:
        # Should the zygote die without killing us (no bwrap around it), so do we.
        linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
        if fresh_namespaces:
            # Our ids were mapped from outside; a map does not change credentials, so take
            # on root of the new namespace (the unprivileged host id it maps to).
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
            _mount_private_dirs(limits, KEEP_UNDER_TMP)
        else:
            private = f"/tmp/bombe-candidate-{os.getpid()}"
            os.makedirs(private, mode=0o700)
            os.chdir(private)
        os.setsid()
        if fresh_namespaces:
            os.chdir("/tmp")
        _place_fds(channel_fd, out_w)
        if os.environ != CANDIDATE_ENV:  # the zygote is normally started with exactly this
            os.environ.clear()
            os.environ.update(CANDIDATE_ENV)
        apply_rlimits(limits)
        if fresh_namespaces:
            linux.drop_all_capabilities()
        linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
        if use_seccomp:
            seccomp.install_filter()
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        runner.serve(socket.socket(fileno=3))
    except BaseException:  # noqa: BLE001 - nothing may escape into the zygote's loop
        _exit_child(70)
    _exit_child(0)


class CandidateServer:
    def __init__(self, control: socket.socket, own_pid_namespace: bool, use_seccomp: bool = False,
                 as_nobody: bool = False):
        self.control = control
        self.own_pid_namespace = own_pid_namespace
        self.use_seccomp = use_seccomp
        self.candidate_ids = self._candidate_ids(as_nobody)
        self.fresh_namespaces = self._probe_namespaces(self.candidate_ids)

    @staticmethod
    def _candidate_ids(as_nobody: bool) -> tuple[int, int]:
        """The host ids a candidate runs as: `nobody` where asked and possible, else our own.

        Run by real root, mapping candidates to root would exempt them from the kernel's
        process limit and open root-only files to them. Asked only where the view of the
        host is one that `nobody` can read (bubblewrap's).
        """
        if as_nobody and os.getuid() == 0:
            try:
                with open("/proc/self/uid_map") as handle:
                    whole_range = handle.read().split()[2] == "4294967295"
            except (OSError, IndexError):
                whole_range = False
            if whole_range:
                return NOBODY, NOBODY
        return os.getuid(), os.getgid()

    @staticmethod
    def _probe_namespaces(ids: tuple[int, int]) -> bool:
        """Can we give each candidate fresh namespaces here, with our ids mapped into them?"""
        if not linux.clone_supported():
            return False
        try:
            pid = linux.clone(_NAMESPACES)
        except OSError:
            return False
        if pid == 0:
            time.sleep(5)  # killed by the parent below
            _exit_child(0)
        try:
            linux.write_id_maps(*ids, pid)
            return True
        except OSError:
            return False
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def _fork_candidate(self, channel_fd: int, out_w: int, limits: Limits) -> int:
        if not self.fresh_namespaces:
            pid = os.fork()
            if pid == 0:
                _become_candidate(channel_fd, out_w, limits, False, self.use_seccomp)
            return pid
        go_r, go_w = os.pipe()
        pid = linux.clone(_NAMESPACES)
        if pid == 0:  # PID 1 of its namespaces: wait until the zygote has mapped our ids
            os.close(go_w)
            if os.read(go_r, 1) != b"1":
                _exit_child(71)
            os.close(go_r)
            _become_candidate(channel_fd, out_w, limits, True, self.use_seccomp)
        os.close(go_r)
        try:
            linux.write_id_maps(*self.candidate_ids, pid)
            os.write(go_w, b"1")
        finally:
            os.close(go_w)
        return pid

    def handle(self, channel_fd: int, limits: Limits) -> dict:
        started = time.monotonic()
        deadline = started + limits.timeout
        out_r, out_w = os.pipe()
        try:
            pid = self._fork_candidate(channel_fd, out_w, limits)
        except OSError as exc:  # the host, not the candidate (EAGAIN under load): stay up, say so
            os.close(out_r)
            wire.recv_msg(self.control)  # the parent's "finish", sent once the channel closes
            return {"spawn_error": str(exc), "wall_ms": 0.0}
        finally:
            os.close(out_w)
            os.close(channel_fd)
        report = self._supervise(pid, out_r, deadline, limits)
        report["wall_ms"] = round((report.pop("ended") - started) * 1000, 3)
        if not self.fresh_namespaces:
            import shutil  # only this fallback needs it; the zygote stays small

            shutil.rmtree(f"/tmp/bombe-candidate-{pid}", ignore_errors=True)
        if self.own_pid_namespace:
            _kill_everything_else()
        return report

    def _supervise(self, pid: int, out_r: int, deadline: float, limits: Limits) -> dict:
        pidfd = os.pidfd_open(pid)
        poller = select.poll()
        for fd in (out_r, pidfd, self.control.fileno()):
            poller.register(fd, select.POLLIN)
        tail, total = bytearray(), 0
        timed_out = output_exceeded = finished = killed = False
        status = rusage = None
        ended = None
        while not finished or status is None:
            if finished and not killed:
                killed = self._kill(pid)
            wait = None if killed else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                timed_out, killed = True, self._kill(pid)
                wait = None
            for fd, _ in poller.poll(None if wait is None else wait * 1000):
                if fd == out_r:
                    chunk = os.read(out_r, 1 << 16)
                    if not chunk:
                        poller.unregister(out_r)
                        continue
                    total += len(chunk)
                    tail = (tail + chunk)[-_TAIL:]
                    if total > limits.output_bytes and not killed:
                        output_exceeded, killed = True, self._kill(pid)
                elif fd == pidfd:
                    _, status, rusage = os.wait4(pid, 0)
                    ended = time.monotonic()
                    poller.unregister(pidfd)
                else:
                    message = wire.recv_msg(self.control)
                    if message.get("op") != "finish":
                        raise RuntimeError(f"unexpected message while supervising: {message}")
                    finished = True
                    poller.unregister(self.control.fileno())
        os.close(pidfd)
        os.close(out_r)
        ended_by = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        return {
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": ended_by,
            # A crash that was already under way when we sent SIGKILL is still a crash.
            "killed_by_us": killed and ended_by == signal.SIGKILL,
            "timed_out": timed_out,
            "output_exceeded": output_exceeded,
            "output_bytes": total,
            "output_tail": tail.decode("utf-8", "replace"),
            "max_rss_kb": rusage.ru_maxrss if rusage else 0,
            "ended": ended or time.monotonic(),
        }

    @staticmethod
    def _kill(pid: int) -> bool:
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass
        return True


def _kill_everything_else() -> None:
    """Inside our own PID namespace, nothing but us should be alive between jobs."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        return
    while True:
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        time.sleep(0.001)


class JudgeServer:
    """Runs each job's tests right here: the judge never loads candidate code, only plain
    values cross into it, so no fork per job is needed. The parent kills and replaces this
    process if a test overruns its deadline.
    """

    def __init__(self, control: socket.socket):
        self.control = control

    def handle(self, channel_fd: int, job: dict) -> dict:
        from bombe.sandbox import judge  # only judges load it: candidate zygotes stay small

        deadline = time.monotonic() + float(job["timeout"])
        with socket.socket(fileno=channel_fd) as channel:
            return judge.main(channel, job, deadline, int(job["max_bytes"]))


def _make_view_read_only() -> None:
    """For the `unshare` level: remount every mount read-only, then give us a private /tmp."""
    linux.mount("none", "/", None, linux.MS_REC | linux.MS_PRIVATE)
    keep = {"nosuid": linux.MS_NOSUID, "nodev": linux.MS_NODEV, "noexec": linux.MS_NOEXEC}
    with open("/proc/self/mountinfo") as handle:
        mounts = [line.split() for line in handle]
    for fields in mounts:
        point, options = fields[4], fields[5].split(",")
        if point.startswith("/proc") or point.startswith("/dev"):
            continue
        flags = linux.MS_BIND | linux.MS_REMOUNT | linux.MS_RDONLY
        for option in options:
            flags |= keep.get(option, 0)
        try:
            linux.mount("none", point, None, flags)
        except OSError:
            pass
    _fresh_tmp_and_shm("size=256m,mode=1777", KEEP_UNDER_TMP)
    for path in HIDE:  # what candidates must not read at this level (bombe's caches)
        if os.path.isdir(path):
            linux.mount("tmpfs", path, "tmpfs", linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV, "size=4k,mode=555")


def serve(role: str, control_fd: int, own_pid_namespace: bool, use_seccomp: bool = False,
          judge_memory_mb: int = 4096, as_nobody: bool = False) -> None:
    control = socket.socket(fileno=control_fd)
    if role == "judge":  # tests may size things by a candidate's answer: bound the judge too
        resource.setrlimit(resource.RLIMIT_AS, (judge_memory_mb << 20, judge_memory_mb << 20))
    linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)
    linux.prctl(linux.PR_SET_DUMPABLE, 0)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    for name in PRELOAD:
        __import__(name)
    # Everything loaded so far lives as long as we do: keep the collector from walking it in
    # every child, which would also copy every page it touches.
    gc.collect()
    gc.freeze()
    sys.set_int_max_str_digits(0)
    if role == "candidate":
        server: CandidateServer | JudgeServer = CandidateServer(control, own_pid_namespace, use_seccomp, as_nobody)
    else:
        server = JudgeServer(control)
    wire.send_msg(control, {
        "hello": role,
        "pid": os.getpid(),
        "fresh_namespaces": getattr(server, "fresh_namespaces", False),
    })
    while True:
        try:
            message, fd = wire.recv_msg_fd(control)
        except wire.ChannelClosed:
            return
        if fd is None:
            continue
        if message["op"] == "spawn":
            report = server.handle(fd, Limits.from_dict(message["limits"]))
        else:
            report = server.handle(fd, message["job"])
        wire.send_msg(control, report)


def main(argv: list[str] | None = None) -> None:
    """Flags: --role candidate|judge --control-fd N [--own-pid-namespace] [--read-only-view]
    [--seccomp] [--judge-memory-mb N] [--candidates-as-nobody] [--keep-under-tmp PATH]... [--hide DIR]... Parsed by hand: argparse
    would add a megabyte to a process that every candidate is forked from."""
    args = sys.argv[1:] if argv is None else argv
    value = {name: args[i + 1] for i, name in enumerate(args[:-1]) if name in ("--role", "--control-fd",
                                                                               "--judge-memory-mb")}
    if value.get("--role") not in ("candidate", "judge") or "--control-fd" not in value:
        sys.exit("usage: zygote --role candidate|judge --control-fd N [options]")
    global KEEP_UNDER_TMP, HIDE
    KEEP_UNDER_TMP = tuple(args[i + 1] for i, name in enumerate(args[:-1]) if name == "--keep-under-tmp")
    HIDE = tuple(args[i + 1] for i, name in enumerate(args[:-1]) if name == "--hide")
    if "--read-only-view" in args:
        _make_view_read_only()
    serve(value["--role"], int(value["--control-fd"]), "--own-pid-namespace" in args, "--seccomp" in args,
          int(value.get("--judge-memory-mb", 4096)), "--candidates-as-nobody" in args)


if __name__ == "__main__":
    main()

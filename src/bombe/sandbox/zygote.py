"""The fork server: a warm interpreter inside the isolation that forks one child per job.

Run as `python -I -m bombe.sandbox.zygote --role candidate|judge --control-fd N`.
It never runs candidate code itself. As `candidate` it first becomes root of a user
namespace of its own (mapped to an unprivileged host id where it can), then forks, per
job, a child that becomes PID 1 of fresh PID, mount and IPC namespaces (so every process
the candidate starts dies with it), with its own /tmp, limits it cannot lift, and no
capabilities; it kills that child at the deadline, caps its output, and reports how it
ended. Each child is forked and locked down right after the previous job is reported (a
"spare"), and only then handed its job's channel. As `judge` it forks a child that runs a benchmark's tests against the candidate
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
from typing import NamedTuple

from bombe.sandbox import linux, runner, seccomp, wire
from bombe.sandbox.limits import CANDIDATE_ENV, Limits, apply_rlimits

# Modules candidates commonly import, loaded once here so each fork gets them for free.
# Heavy ones (hashlib pulls in OpenSSL: 3.5 MB; dataclasses pulls in inspect) are left out:
# every fork pays for the zygote's size.
PRELOAD = (
    "array bisect cmath collections copy datetime fractions functools heapq itertools math "
    "numbers operator random re statistics string struct textwrap typing unicodedata"
).split()

# Per candidate. Its user namespace is the zygote's own, made once (see _enter_own_user_namespace):
# a user namespace per candidate cost a quarter of a millisecond of id-map writing and a
# handshake, and bought nothing more, since the candidate drops every capability in it.
_NAMESPACES = linux.CLONE_NEWPID | linux.CLONE_NEWNS | linux.CLONE_NEWIPC
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


def _await_channel(handoff_fd: int) -> int:
    """Block until the zygote hands over a job's channel; leave quietly if it never does."""
    with socket.socket(fileno=handoff_fd) as handoff:
        _, fds, _, _ = socket.recv_fds(handoff, 1, 1)
    if len(fds) != 1:  # the zygote dropped us: the job came with other limits, or it is gone
        _exit_child(0)
    return fds[0]


def _become_candidate(
    handoff_fd: int, out_w: int, limits: Limits, fresh_namespaces: bool, use_seccomp: bool = False
) -> None:
    """In the forked child: shut every door, wait for a job's channel, then serve the
    candidate's calls. Never returns. Everything before the wait is done ahead of the job,
    between the zygote's jobs, off the critical path of either."""
    try:
        # Should the zygote die without killing us (no bwrap around it), so do we.
        linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
        if fresh_namespaces:
            _mount_private_dirs(limits, KEEP_UNDER_TMP)
        os.setsid()
        if fresh_namespaces:
            os.chdir("/tmp")
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
        channel_fd = _await_channel(handoff_fd)
        if not fresh_namespaces:  # made only now: a spare that never gets a job leaves nothing
            private = f"/tmp/bombe-candidate-{os.getpid()}"
            os.makedirs(private, mode=0o700)
            os.chdir(private)
        # Candidate code runs only after this, with nothing of the zygote's left open.
        _place_fds(channel_fd, out_w)
        runner.serve(socket.socket(fileno=3))
    except BaseException:  # noqa: BLE001 - nothing may escape into the zygote's loop
        _exit_child(70)
    _exit_child(0)


class _Spare(NamedTuple):
    """A candidate process forked and locked down ahead of its job, waiting for the channel."""

    pid: int
    handoff: socket.socket  # the zygote's end: the job's channel is sent over it
    out_r: int              # the read end of its stdout and stderr
    limits: Limits          # what it was set up for; a job with other limits gets a new one


class CandidateServer:
    def __init__(self, control: socket.socket, own_pid_namespace: bool, use_seccomp: bool = False,
                 as_nobody: bool = False):
        self.control = control
        self.own_pid_namespace = own_pid_namespace
        self.use_seccomp = use_seccomp
        self.candidate_ids = self._candidate_ids(as_nobody)
        self.fresh_namespaces = self._enter_own_user_namespace_if_it_works(self.candidate_ids)
        self.spare: _Spare | None = None

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
    def _enter_own_user_namespace_if_it_works(ids: tuple[int, int]) -> bool:
        """Enter a user namespace of our own, if a throwaway child shows that it works here and
        that a candidate can then get fresh namespaces in it; once entered, there is no way back."""
        if not linux.clone_supported():
            return False
        probe = os.fork()
        if probe == 0:
            try:
                _enter_own_user_namespace(*ids)
                pid = linux.clone(_NAMESPACES)
                if pid == 0:
                    _exit_child(0)
                _, status = os.waitpid(pid, 0)
                _exit_child(0 if status == 0 else 1)
            except BaseException:  # noqa: BLE001 - the answer is the exit status
                _exit_child(1)
        _, status = os.waitpid(probe, 0)
        if status != 0:
            return False
        _enter_own_user_namespace(*ids)
        return True

    def _start_spare(self, limits: Limits) -> _Spare:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        try:
            pid = linux.clone(_NAMESPACES) if self.fresh_namespaces else os.fork()
            if pid == 0:  # PID 1 of its namespaces, when it has fresh ones
                ours.close()
                os.close(out_r)
                _become_candidate(theirs.detach(), out_w, limits, self.fresh_namespaces, self.use_seccomp)
        except BaseException:
            ours.close()
            os.close(out_r)
            raise
        finally:
            theirs.close()
            os.close(out_w)
        return _Spare(pid, ours, out_r, limits)

    @staticmethod
    def _discard(spare: _Spare) -> None:
        """End a spare that never got a job (no candidate code ran in it)."""
        spare.handoff.close()
        os.close(spare.out_r)
        try:
            os.kill(spare.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(spare.pid, 0)

    def prepare(self, limits: Limits) -> None:
        """Between jobs: fork and lock down the next job's process now, off its critical path,
        expecting the same limits as the last job (a job with others discards it). Only where it
        gets a PID namespace of its own: that is how a spare is told from a candidate's leftover,
        which without one could be our child too."""
        if self.spare is None and self.fresh_namespaces:
            try:
                self.spare = self._start_spare(limits)
            except OSError:
                pass  # the host is short of something: the job will try again, and say so

    def _hand_over(self, channel_fd: int, limits: Limits) -> _Spare:
        """Give the job's channel to the spare made for its limits, or else to a new one."""
        spare, self.spare = self.spare, None
        if spare is not None and spare.limits != limits:
            self._discard(spare)
            spare = None
        if spare is not None:
            try:
                return self._send_channel(spare, channel_fd)
            except OSError:
                pass  # it died while it waited (the host's doing: nothing ran in it yet)
        return self._send_channel(self._start_spare(limits), channel_fd)

    @classmethod
    def _send_channel(cls, spare: _Spare, channel_fd: int) -> _Spare:
        try:
            socket.send_fds(spare.handoff, [b"1"], [channel_fd])
        except OSError:
            cls._discard(spare)
            raise
        spare.handoff.close()
        return spare

    def handle(self, channel_fd: int, limits: Limits) -> dict:
        started = time.monotonic()
        deadline = started + limits.timeout
        try:
            spare = self._hand_over(channel_fd, limits)
        except OSError as exc:  # the host, not the candidate (EAGAIN under load): stay up, say so
            wire.recv_msg(self.control)  # the parent's "finish", sent once the channel closes
            return {"spawn_error": str(exc), "wall_ms": 0.0}
        finally:
            os.close(channel_fd)
        pid = spare.pid
        report = self._supervise(pid, spare.out_r, deadline, limits)
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


def _enter_own_user_namespace(uid: int, gid: int) -> None:
    """Become root of a new user namespace whose root is `uid`/`gid` outside it, with every
    capability inside it (what a candidate needs to mount its own /tmp before it drops them).

    The id maps are written from outside by a helper child: mapping an id other than our own
    takes CAP_SETUID in the namespace we leave, which we no longer have once inside.
    """
    go_r, go_w = os.pipe()
    parent = os.getpid()
    helper = os.fork()
    if helper == 0:
        try:
            os.close(go_w)
            os.read(go_r, 1)
            linux.write_id_maps(uid, gid, parent)
        except BaseException:  # noqa: BLE001 - the answer is the exit status
            _exit_child(1)
        _exit_child(0)
    os.close(go_r)
    try:
        linux.unshare(linux.CLONE_NEWUSER)
    finally:
        os.close(go_w)  # the helper maps us, or finds the namespace unchanged and fails
        _, status = os.waitpid(helper, 0)
    if status != 0:
        raise OSError("could not map ids into the zygote's user namespace")
    # A map does not change credentials: take on root of the namespace (the host ids above).
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


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
    # Only now: a candidate server's helper writes our id maps through /proc, which a
    # process that is not dumpable closes to everyone but real root.
    linux.prctl(linux.PR_SET_DUMPABLE, 0)
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
            limits = Limits.from_dict(message["limits"])
            wire.send_msg(control, server.handle(fd, limits))
            server.prepare(limits)
        else:
            wire.send_msg(control, server.handle(fd, message["job"]))


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

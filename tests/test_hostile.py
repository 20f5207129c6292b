"""The hostile-program suite: candidates that attack the sandbox, and what must survive them.

Every program runs in the job styles where the style matters (call/expected pairs,
HumanEval `check(candidate)`, MBPP asserts) and must get its expected verdict. After every
test, in the `host` fixture's teardown, the host is inspected from outside: canary files
hidden from the candidate and visible to it read-only, files left in the host's /tmp,
/dev/shm and the other places a program aims at, processes that outlived their check,
connections that reached host listeners, an environment secret in any outcome, and a
trivial job that must still pass.

Programs see a few constants the harness prepends (MARKER, canary paths, ports). Each uses
MARKER in every file and process name it makes, so the host tells its leftovers from
anyone else's. Programs that *try* several escapes return the list of attempts that
worked: the expected value is `[]`, so a pass means every door was shut.

A newly found sandbox bug is a strict xfail naming it (Program.bugs), until it is fixed.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import select
import signal
import socket
import sys
import textwrap
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import pytest

from bombe.sandbox import Job, Limits, Sandbox, available_levels
from bombe.task import STATUSES, CallTest, Outcome

TIMEOUT = 2.0
LIMITS = Limits(timeout=TIMEOUT)
NOT_PASS = frozenset(STATUSES) - {"pass"}
STYLES = ("calls", "judge", "asserts")
SECRET_ENV = "BOMBE_TEST_SECRET"
PROJECT = Path(__file__).resolve().parent.parent
SITE_PACKAGES = next(p for p in sys.path if p.startswith(sys.prefix) and p.endswith("site-packages"))
SANDBOX_SOURCE = PROJECT / "src" / "bombe" / "sandbox" / "verdict.py"
CANARY_TEXT = "the host's own data\n"
TEARDOWN_GRACE = 2.0  # seconds the host gets to reap a killed candidate's processes


# ---------------------------------------------------------------------------------------
# The host side: listeners, canaries, and the checks run after every program
# ---------------------------------------------------------------------------------------


@dataclass
class Listeners:
    """Host sockets a candidate must not reach: TCP on loopback and an abstract unix socket."""

    tcp: socket.socket
    unix: socket.socket
    abstract_name: str

    @property
    def port(self) -> int:
        return self.tcp.getsockname()[1]

    def reached(self) -> list[str]:
        """Sockets someone got through to since the last call; their connections are dropped."""
        ready, _, _ = select.select([self.tcp, self.unix], [], [], 0)
        for listener in ready:
            listener.accept()[0].close()
        return [repr(s.getsockname()) for s in ready]


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class Proc:
    pid: int
    parent: int
    name: str        # from /proc/PID/comm: what PR_SET_NAME sets
    cmdline: str

    @property
    def is_wrapper(self) -> bool:
        return self.name in ("bwrap", "unshare")

    @property
    def is_zygote(self) -> bool:  # the wrappers' command lines name the zygote too
        return not self.is_wrapper and "bombe.sandbox.zygote" in self.cmdline


def _processes() -> dict[int, Proc]:
    """Every process on the host, as far as /proc shows it right now."""
    table = {}
    for entry in os.scandir("/proc"):
        stat = _read(f"/proc/{entry.name}/stat") if entry.name.isdigit() else ""
        if ")" in stat:  # the name may hold spaces and parentheses; the last ')' ends it
            parent = int(stat[stat.rindex(")") + 2:].split()[1])
            name = _read(f"/proc/{entry.name}/comm").strip()
            table[int(entry.name)] = Proc(int(entry.name), parent, name, _read(f"/proc/{entry.name}/cmdline"))
    return table


def _pid_namespace_init(pid: int) -> bool:
    """Is the process PID 1 of a PID namespace below ours?"""
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("NSpid:"):
            levels = line.split()[1:]
            return len(levels) > 1 and levels[-1] == "1"
    return False


def _servers_and_strays(table: dict[int, Proc]) -> tuple[set[int], dict[int, str]]:
    """Split our descendants into sandbox servers and strays.

    Servers are the isolation wrappers (bwrap, unshare), each zygote they start, and a
    zygote's spare: between jobs a zygote has at most one child, the process it forked ahead
    of its next job, PID 1 of a PID namespace of its own, that has started nothing. Any other
    descendant, a fork of a zygote included (it keeps the zygote's command line), was started
    by a candidate and outlived its check.
    """
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.parent, []).append(proc.pid)
    servers, strays = set(), {}
    spares: set[int] = set()  # the zygotes whose spare was seen
    todo = list(children.get(os.getpid(), []))
    while todo:
        proc = table[todo.pop()]
        parent = table.get(proc.parent)
        if proc.is_wrapper or (proc.is_zygote and not (parent and parent.is_zygote)):
            servers.add(proc.pid)
        elif (proc.is_zygote and parent and parent.is_zygote and parent.pid not in spares
              and not children.get(proc.pid) and _pid_namespace_init(proc.pid)):
            spares.add(parent.pid)
            servers.add(proc.pid)
        else:
            strays[proc.pid] = f"stray process {proc.pid} ({proc.name}), child of {proc.parent}"
        todo += children.get(proc.pid, [])
    return servers, strays


def _marked(table: dict[int, Proc], marker: str) -> dict[int, str]:
    return {p.pid: f"marked process {p.pid} {p.name!r} {p.cmdline[:80]!r}" for p in table.values()
            if p.pid != os.getpid() and (marker in p.name or marker in p.cmdline)}


def _listing(directory: Path) -> list[Path]:
    try:
        return list(directory.iterdir())
    except OSError:  # gone, or not ours to read
        return []


def _start_time(pid: int) -> str | None:
    stat = _read(f"/proc/{pid}/stat")
    return stat[stat.rindex(")") + 2:].split()[19] if ")" in stat else None


class Host:
    """One test's view of the host: canaries to aim at, the jobs it ran, and the checks after.

    Everything is keyed by a marker unique to the test, so what other users of this
    machine do meanwhile is never mistaken for a candidate's leftovers.
    """

    def __init__(self, sandbox: Sandbox, tmp_path: Path, listeners: Listeners, servers_seen: dict):
        self.sandbox = sandbox
        self.marker = "bh" + secrets.token_hex(5)  # 12 chars: fits a 15-char process name
        self.listeners = listeners
        self.servers_seen = servers_seen  # pid -> start time of each sandbox server seen so far
        self.outcomes: list[Outcome] = []
        self.shm_before = set(os.listdir("/dev/shm"))
        # Hidden from the candidate: the host's /tmp and the project's own directory.
        # Visible but read-only: a directory inside the virtual environment it runs from.
        self.canary_dirs = {
            "tmp": tmp_path / f"canary-{self.marker}",
            "project": PROJECT / "tests" / f".canary-{self.marker}",
            "venv": Path(sys.prefix) / f".canary-{self.marker}",
        }
        for directory in self.canary_dirs.values():
            directory.mkdir()
            (directory / "canary.txt").write_text(CANARY_TEXT)
        self.note_servers()
        self.root_secret = Path("/root") / f".bombe-secret-{secrets.token_hex(5)}"
        if os.access("/root", os.W_OK):
            self.root_secret.write_text(f"root-only {self.marker}\n")
            self.root_secret.chmod(0o600)

    def constants(self, **extra: Any) -> dict[str, Any]:
        """What a hostile program knows: names to aim at, never the answers."""
        canaries = {k: str(d / "canary.txt") for k, d in self.canary_dirs.items()}
        return {
            "MARKER": self.marker,
            "HIDDEN_CANARIES": [canaries["tmp"], canaries["project"]],
            "VISIBLE_CANARY": canaries["venv"],
            "CANARY_DIRS": [str(d) for d in self.canary_dirs.values()],
            "ROOT_SECRET": str(self.root_secret),
            "SECRET_ENV": SECRET_ENV,
            "SITE_PACKAGES": SITE_PACKAGES,
            "SANDBOX_SOURCE": str(SANDBOX_SOURCE),
            "PORT": self.listeners.port,
            "ABSTRACT": self.listeners.abstract_name,
            "TMP_LIMIT": LIMITS.tmp_size_mb << 20,
            "FILE_LIMIT": LIMITS.file_size_mb << 20,
            **extra,
        }

    def run(self, program: Program, style: str = "calls", **extra: Any) -> Outcome:
        outcome = self.sandbox.run_one(program.job(style, self.constants(**extra)))
        self.outcomes.append(outcome)
        return outcome

    def run_batch(self, jobs: list[Job]) -> dict[int, Outcome]:
        results = dict(self.sandbox.run(jobs))
        self.outcomes += results.values()
        return results

    def assert_intact(self) -> None:
        """The host as it was, nothing smuggled out, and a plain job still passes."""
        assert self.problems() == []
        after = self.sandbox.run_one(TRIVIAL)
        assert after.status == "pass", f"the sandbox broke: {_describe(after)}"

    def _marked_files(self) -> list[Path]:
        """Files named with our marker wherever a program tries to write outside its /tmp."""
        places = ["/", "/tmp", "/usr", "/etc", "/root", "/work", "/dev", "/dev/shm",
                  SITE_PACKAGES, SANDBOX_SOURCE.parent, PROJECT]
        return [path for place in places for path in _listing(Path(place)) if self.marker in path.name]

    def cleanup(self) -> None:
        """Remove the canaries, and whatever a breach left, so a failing run leaves no litter."""
        for path in self._marked_files():
            if path.is_file():
                path.unlink()
        for directory in self.canary_dirs.values():
            if directory.is_dir():
                for child in directory.iterdir():
                    child.unlink()
                directory.rmdir()
        self.root_secret.unlink(missing_ok=True)

    def problems(self) -> list[str]:
        found = []
        for name, directory in self.canary_dirs.items():
            held = sorted(p.name for p in _listing(directory))
            if held != ["canary.txt"]:
                found.append(f"{name} canary dir now holds {held}")
            elif (directory / "canary.txt").read_text() != CANARY_TEXT:
                found.append(f"{name} canary was rewritten")
        found += [f"left {path}" for path in self._marked_files()]
        found += [f"left /dev/shm/{n}" for n in set(os.listdir("/dev/shm")) - self.shm_before]
        if self.marker in _read(str(SANDBOX_SOURCE)):
            found.append(f"{SANDBOX_SOURCE} was modified")
        found += [f"connection reached host socket {s}" for s in self.listeners.reached()]
        secret = os.environ[SECRET_ENV]
        for outcome in self.outcomes:
            if any(secret in str(v) for v in (outcome.error, outcome.output_tail, outcome.outputs)):
                found.append("the environment secret came back in an outcome")
        return found + self._process_problems()

    def note_servers(self) -> None:
        """Remember the sandbox servers alive now, so that one orphaned later is recognised."""
        servers, _ = _servers_and_strays(_processes())
        for pid in servers:
            self.servers_seen.setdefault(pid, _start_time(pid))

    def _process_problems(self) -> list[str]:
        """Processes that outlived their check. Each is reported once, then killed: a leak must
        not burn the host's CPU for ever, nor be blamed on the tests after it."""
        deadline = time.monotonic() + TEARDOWN_GRACE
        while True:
            table = _processes()
            servers, strays = _servers_and_strays(table)
            # A server seen before that is gone from our tree but still alive was orphaned.
            orphans = {pid: f"sandbox server {pid} ({table[pid].name}) outlived its worker"
                       for pid, started in self.servers_seen.items()
                       if pid in table and pid not in servers and _start_time(pid) == started}
            leaked = {**strays, **orphans, **_marked(table, self.marker)}
            if not leaked or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for pid in leaked:
            self.servers_seen.pop(pid, None)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.note_servers()
        return sorted(leaked.values())


# ---------------------------------------------------------------------------------------
# Programs
# ---------------------------------------------------------------------------------------


# Prepended to every program after the constants: a daemon calls this so that, should it
# escape, the host finds it by name in /proc/*/comm.
_HELPERS = '''
def take_marker_name():
    import ctypes
    ctypes.CDLL(None).prctl(15, MARKER.encode(), 0, 0, 0)  # PR_SET_NAME
'''


@dataclass(frozen=True)
class Program:
    """A hostile (or legitimate) candidate defining `f()`, and the verdict it must get."""

    name: str
    source: str
    expect: frozenset[str] | str          # the exact status, or the statuses that are all correct
    expected: Any = 1                      # what the checks want f() to return
    styles: tuple[str, ...] = ("calls",)
    limits: Limits | None = None
    verify: Callable[[Outcome], None] | None = None
    check: str | None = None               # assert source naming `f`, for the judge styles
    bugs: dict[str, str] = field(default_factory=dict)  # style -> the sandbox bug it shows
    marks: tuple = ()

    def allowed(self) -> frozenset[str]:
        return frozenset([self.expect]) if isinstance(self.expect, str) else self.expect

    def job(self, style: str, constants: dict[str, Any]) -> Job:
        header = "".join(f"{key} = {value!r}\n" for key, value in constants.items())
        code = header + _HELPERS + textwrap.dedent(self.source)
        check = self.check or f"assert f() == {self.expected!r}"
        if style == "calls":
            return Job(code, "f", calls=[CallTest(expected=self.expected)], limits=self.limits)
        if style == "judge":
            source = f"def check(candidate):\n    f = candidate\n    {check}\n"
            return Job(code, "f", checks=[source], call_check=True, limits=self.limits)
        return Job(code, "f", checks=[check], limits=self.limits)


def _tail_is_text_with_replacements(outcome: Outcome) -> None:
    assert isinstance(outcome.output_tail, str) and "\ufffd" in outcome.output_tail


HAS_NUMPY = importlib.util.find_spec("numpy") is not None

# A value no candidate can know: only the trusted side holds it.
HIDDEN_ANSWER = "answer-" + secrets.token_hex(8)

# A crash (SIGSEGV, abort) is reported as "killed".
CRASHED = frozenset({"killed"})

_LIAR = """
        class AlwaysEqual:
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            __hash__ = object.__hash__
"""

PROGRAMS = [
    # --- time: the wall clock is enforced from outside, whatever the candidate does ---
    Program("busy_loop", """
        def f():
            while True:
                pass
    """, "timeout", styles=STYLES),
    Program("loop_ignoring_every_signal", """
        import signal
        def f():
            for sig in signal.valid_signals():
                try:
                    signal.signal(sig, signal.SIG_IGN)
                except (OSError, ValueError):
                    pass  # SIGKILL and SIGSTOP cannot be ignored
            while True:
                pass
    """, "timeout"),
    Program("loop_swallowing_timeout_exceptions", """
        import signal
        def _interrupt(*_):
            raise TimeoutError("alarm")
        def f():
            signal.signal(signal.SIGALRM, _interrupt)
            signal.signal(signal.SIGTERM, _interrupt)
            signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    continue
    """, "timeout", styles=("calls", "judge")),
    Program("loop_at_import", """
        while True:
            pass
        def f():
            return 1
    """, "timeout", styles=("calls", "asserts")),
    Program("sleep_forever", """
        import time
        def f():
            time.sleep(10 ** 6)
    """, "timeout"),
    # --- exits and hooks: how a process ends is never a verdict ---
    Program("sys_exit_zero_at_import", """
        import sys
        sys.exit(0)
        def f():
            return 1
    """, "error", styles=STYLES),
    Program("sys_exit_zero_in_call", """
        import sys
        def f():
            sys.exit(0)
    """, "error", styles=STYLES),
    Program("os_exit_zero_in_call", """
        import os
        def f():
            os._exit(0)
    """, "error", styles=STYLES),
    Program("os_exit_zero_at_import", """
        import os
        os._exit(0)
        def f():
            return 1
    """, "error", styles=("calls", "judge")),
    Program("keyboard_interrupt_in_call", """
        def f():
            raise KeyboardInterrupt
    """, "error", styles=("calls", "judge")),
    Program("excepthooks_print_a_pass", """
        import sys, threading
        def _claim_success(*_):
            print("OK: all checks passed")
        sys.excepthook = _claim_success
        threading.excepthook = _claim_success
        sys.unraisablehook = _claim_success
        def f():
            raise ValueError("the wrong answer")
    """, "error", styles=STYLES),
    Program("atexit_exits_zero_or_hangs_after_wrong_answer", """
        import atexit, os
        def _hang():
            while True:
                pass
        atexit.register(_hang)
        atexit.register(os._exit, 0)
        atexit.register(print, "ALL TESTS PASSED")
        def f():
            return 0
    """, "fail", styles=STYLES),
    # --- signals aimed outside: the candidate is PID 1 of its own namespace ---
    Program("kill_parent_then_answer_wrong", """
        import os, signal
        def f():
            for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
                try:
                    os.kill(os.getppid(), sig)
                except OSError:
                    pass
            return 0
    """, NOT_PASS, styles=("calls", "judge")),
    Program("killpg_zero_then_answer_wrong", """
        import os
        def f():
            try:
                os.killpg(0, 9)
            except OSError:
                pass
            return 0
    """, NOT_PASS, styles=("calls", "judge")),
    Program("kill_minus_one_then_answer_wrong", """
        import os
        def f():
            try:
                os.kill(-1, 9)
            except OSError:
                pass
            return 0
    """, NOT_PASS, styles=("calls", "judge")),
    Program("kill_every_pid_then_answer_wrong", """
        import os
        def f():
            for pid in range(2, 1 << 15):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            return 0
    """, NOT_PASS),
    # --- processes and threads ---
    Program("fork_bomb_exponential", """
        import os, time
        def f():
            for _ in range(11):  # 2**11 processes if nothing stops it
                try:
                    os.fork()
                except OSError:
                    pass
            take_marker_name()
            time.sleep(60)
            return 1
    """, NOT_PASS, styles=("calls", "judge")),
    Program("thread_bomb", """
        import threading, time
        def f():
            while True:
                threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    """, NOT_PASS, styles=("calls", "judge")),
    Program("double_fork_daemon_ignoring_signals", """
        import os, signal, time
        def _daemonize():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    take_marker_name()
                    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                        signal.signal(sig, signal.SIG_IGN)
                    while True:
                        time.sleep(0.05)
                os._exit(0)
        def f():
            _daemonize()
            time.sleep(0.1)
            return 1
    """, "pass", styles=STYLES),
    Program("subprocess_sleeper_in_new_session", """
        import subprocess, sys
        def f():
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", MARKER],
                             start_new_session=True)
            return 1
    """, "pass", styles=("calls", "judge")),
    Program("orphan_keeps_writing_output", """
        import os, time
        def f():
            if os.fork() == 0:
                take_marker_name()
                while True:
                    os.write(1, b"still here\\n")
                    time.sleep(0.01)
            return 1
    """, "pass"),
    # --- memory ---
    Program("memory_bomb_fast", """
        def f():
            return len(bytearray(1 << 40))
    """, "memory", styles=STYLES),
    Program("memory_bomb_slow", """
        def f():
            hoard = []
            while True:
                hoard.append(" " * (1 << 20))
    """, "memory", styles=("calls", "judge"), limits=Limits(timeout=TIMEOUT, memory_mb=512)),
    Program("memory_bomb_at_import", """
        hoard = bytearray(1 << 40)
        def f():
            return 1
    """, "memory"),
    Program("memory_bomb_swallowing_memory_errors", """
        def f():
            hoard = []
            while True:
                try:
                    hoard.append(" " * (1 << 20))
                except MemoryError:
                    pass
    """, NOT_PASS, limits=Limits(timeout=TIMEOUT, memory_mb=512)),
    # --- crashes ---
    Program("deep_recursion", """
        def f(depth=0):
            return f(depth + 1)
    """, "error", styles=("calls", "judge")),
    Program("c_stack_overflow", """
        import sys
        def f():
            sys.setrecursionlimit(10 ** 9)
            nested = []
            for _ in range(10 ** 6):
                nested = [nested]
            return repr(nested)
    """, NOT_PASS),
    Program("ctypes_segfault", """
        import ctypes
        def f():
            return ctypes.string_at(0)
    """, CRASHED, styles=STYLES),
    Program("abort", """
        import os
        def f():
            os.abort()
    """, CRASHED),
    # --- the host's files: hidden, or visible read-only ---
    Program("write_outside_tmp", """
        import os
        def f():
            # Not under /tmp: there the candidate writes its own private /tmp (see the
            # persistence test), and the host's copy is checked from outside.
            targets = ["/", "/usr", "/etc", "/root", "/work", os.path.dirname(SANDBOX_SOURCE),
                       SITE_PACKAGES, "/proc"] + [d for d in CANARY_DIRS if not d.startswith("/tmp/")]
            written = []
            for directory in targets:
                path = os.path.join(directory, MARKER)
                try:
                    os.makedirs(directory, exist_ok=True)
                    with open(path, "w") as handle:
                        handle.write(MARKER)
                    written.append(path)
                except OSError:
                    pass
            return written
    """, "pass", expected=[], styles=STYLES),
    Program("overwrite_and_delete_canaries", """
        import os
        def _attempts(path):
            yield "append", lambda: open(path, "a").write(MARKER)
            yield "truncate", lambda: os.truncate(path, 0)
            yield "chmod", lambda: os.chmod(path, 0o777)
            yield "rename", lambda: os.rename(path, path + MARKER)
            yield "unlink", lambda: os.unlink(path)
            yield "rmdir", lambda: os.rmdir(os.path.dirname(path))
        def f():
            worked = []
            for path in HIDDEN_CANARIES + [VISIBLE_CANARY]:
                for what, attempt in _attempts(path):
                    try:
                        attempt()
                        worked.append(f"{what} {path}")
                    except OSError:
                        pass
            return worked
    """, "pass", expected=[], styles=("calls", "judge")),
    Program("tamper_with_sandbox_code", """
        import os
        def f():
            worked = []
            # Opening for writing changes nothing by itself: a weak sandbox is found out
            # without the suite ever damaging the code it runs from.
            try:
                os.close(os.open(SANDBOX_SOURCE, os.O_WRONLY | os.O_APPEND))
                worked.append(SANDBOX_SOURCE)
            except OSError:
                pass
            plant = os.path.join(SITE_PACKAGES, MARKER + ".pth")  # would run in every interpreter
            try:
                with open(plant, "w") as handle:
                    handle.write("# " + MARKER + "\\n")
                worked.append(plant)
            except OSError:
                pass
            return worked
    """, "pass", expected=[], styles=("calls", "asserts")),
    Program("remount_read_write_in_new_namespaces", """
        import ctypes, os
        CLONE_NEWUSER, CLONE_NEWNS, MS_REMOUNT, MS_BIND = 0x10000000, 0x00020000, 32, 4096
        def f():
            libc = ctypes.CDLL(None, use_errno=True)
            libc.unshare(CLONE_NEWUSER | CLONE_NEWNS)  # may work: it grants nothing outside
            worked = []
            for directory in [os.path.dirname(VISIBLE_CANARY), SITE_PACKAGES, "/"]:
                libc.mount(None, directory.encode(), None, MS_REMOUNT | MS_BIND, None)
                libc.umount2(directory.encode(), 2)
                try:
                    with open(os.path.join(directory, MARKER), "w") as handle:
                        handle.write(MARKER)
                    worked.append(directory)
                except OSError:
                    pass
            return worked
    """, "pass", expected=[]),
    Program("fill_tmp_and_dev_shm", """
        import os
        def _fill(directory):
            chunk, total = b"\\0" * (1 << 20), 0
            for index in range(1000):
                try:
                    fd = os.open(f"{directory}/{MARKER}-{index}", os.O_WRONLY | os.O_CREAT)
                except OSError:
                    break
                try:
                    for _ in range(8):
                        total += os.write(fd, chunk)
                except OSError:
                    break
                finally:
                    os.close(fd)
            return total
        def f():
            total = _fill("/tmp") + _fill("/dev/shm")
            # each of /tmp and /dev/shm is its own tmpfs of Limits.tmp_size_mb
            return "within limit" if total <= 2 * TMP_LIMIT else f"wrote {total} bytes"
    """, "pass", expected="within limit"),
    Program("one_file_past_the_size_limit", """
        import os
        def f():
            written = 0
            with open(MARKER, "wb") as handle:
                try:
                    for _ in range(FILE_LIMIT // (1 << 20) * 2):
                        handle.write(b"\\0" * (1 << 20))
                        handle.flush()
                except OSError:
                    pass
            size = os.path.getsize(MARKER)
            return "within limit" if size <= FILE_LIMIT else f"wrote {size} bytes"
    """, "pass", expected="within limit"),
    # --- secrets ---
    Program("read_environment_secret", """
        import glob, os
        def f():
            found = [os.environ.get(SECRET_ENV)] if SECRET_ENV in os.environ else []
            for path in glob.glob("/proc/*/environ"):
                try:
                    found += [line for line in open(path, "rb").read().split(b"\\0")
                              if line.startswith(SECRET_ENV.encode())]
                except OSError:
                    pass
            print(found)
            return found
    """, "pass", expected=[], styles=("calls", "judge")),
    Program("read_root_only_and_hidden_files", """
        import os
        def f():
            paths = ["/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/root/.bash_history",
                     "/root/.ssh/id_rsa", "/root/.ssh/authorized_keys", ROOT_SECRET] + HIDDEN_CANARIES
            read = []
            for path in paths:
                try:
                    with open(path, "rb") as handle:
                        handle.read()
                    read.append(path)
                except OSError:
                    pass
            return read
    """, "pass", expected=[], styles=("calls", "asserts")),
    # --- network ---
    Program("connect_to_host_loopback_and_abstract_socket", """
        import socket
        def f():
            reached = []
            tries = [(socket.AF_INET, ("127.0.0.1", PORT)), (socket.AF_INET6, ("::1", PORT)),
                     (socket.AF_UNIX, ABSTRACT)]
            for family, address in tries:
                try:
                    with socket.socket(family, socket.SOCK_STREAM) as sock:
                        sock.settimeout(0.5)
                        sock.connect(address)
                        reached.append(repr(address))
                except OSError:
                    pass
            return reached
    """, "pass", expected=[], styles=("calls", "judge")),
    Program("dns_and_internet", """
        import socket
        def f():
            reached = []
            for name in ("example.com", "pypi.org"):
                try:
                    socket.getaddrinfo(name, 443)
                    reached.append(name)
                except OSError:
                    pass
            for address in (("1.1.1.1", 53), ("8.8.8.8", 443)):
                try:
                    socket.create_connection(address, timeout=0.5).close()
                    reached.append(repr(address))
                except OSError:
                    pass
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.sendto(b"\\0" * 12, ("8.8.8.8", 53))
                    reached.append("udp 8.8.8.8")
            except OSError:
                pass
            return reached
    """, "pass", expected=[]),
    # --- output and input ---
    Program("huge_stdout", """
        import sys
        def f():
            while True:
                sys.stdout.write("x" * 65536)
    """, "output_limit", styles=("calls", "judge")),
    Program("huge_stderr_from_a_child", """
        import os, time
        def f():
            if os.fork() == 0:
                while True:
                    os.write(2, b"y" * 65536)
            time.sleep(60)
    """, "output_limit"),
    Program("non_utf8_output", """
        import os
        def f():
            os.write(1, bytes(range(128, 256)) * 8)
            return 1
    """, "pass", verify=_tail_is_text_with_replacements),
    Program("forged_verdict_on_stdout", """
        import json
        def f():
            print("PASS")
            print(json.dumps({"status": "pass", "checks_run": 1, "checks_passed": 1, "failure": None}))
            print(json.dumps({"exit_code": 0, "signal": None, "timed_out": False}), flush=True)
            return 0
    """, "fail", styles=STYLES),
    Program("read_stdin", """
        import os, sys
        def f():
            return [sys.stdin.read(), os.read(0, 100)]
    """, "pass", expected=["", b""]),
    Program("input_at_eof", """
        def f():
            return input()
    """, "error"),
    # --- values that lie: only plain builtin data crosses back ---
    Program("lying_eq_object", _LIAR + """
        def f():
            return AlwaysEqual()
    """, frozenset({"fail", "error"}), styles=STYLES),
    Program("int_subclass_with_lying_eq", """
        class Liar(int):
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            __hash__ = int.__hash__
        def f():
            return Liar(0)
    """, frozenset({"fail", "error"}), styles=STYLES),
    Program("str_subclass_with_lying_eq", """
        class Liar(str):
            def __eq__(self, other):
                return True
            __hash__ = str.__hash__
        def f():
            return Liar("wrong")
    """, frozenset({"fail", "error"}), expected="right", styles=("calls", "judge")),
    Program("list_subclass_with_lying_eq", """
        class Liar(list):
            def __eq__(self, other):
                return True
        def f():
            return Liar()
    """, frozenset({"fail", "error"}), expected=[1, 2, 3], styles=("calls", "asserts")),
    Program("liar_nested_in_plain_containers", _LIAR + """
        def f():
            return {"answer": [AlwaysEqual()]}
    """, frozenset({"fail", "error"}), expected={"answer": [1]}, styles=("calls", "judge")),
    Program("patched_builtins", _LIAR + """
        import builtins, operator, sys
        class FakeAssertionError(Exception):
            pass
        def f():
            real_type = type
            def lying_type(*args):  # makes the candidate's own encoder take the liar for an int
                return int if len(args) == 1 and real_type(args[0]) is AlwaysEqual else real_type(*args)
            builtins.type = lying_type
            builtins.isinstance = lambda obj, kind: True
            builtins.AssertionError = FakeAssertionError
            operator.eq = lambda a, b: True
            for module in list(sys.modules.values()):
                if getattr(module, "__name__", "").startswith("bombe"):
                    for name in ("values_match", "judge_calls", "judge_asserts"):
                        if hasattr(module, name):
                            setattr(module, name, lambda *a, **k: True)
            return AlwaysEqual()
    """, frozenset({"fail", "error", "killed"}), styles=STYLES),
    Program("inspect_frames_and_gc_for_the_answer", """
        import gc, inspect, sys
        def _strings_in(obj):
            try:
                if type(obj) is dict:
                    items = [*obj.keys(), *obj.values()]
                elif type(obj) in (list, tuple, set, frozenset):
                    items = list(obj)
                else:  # attributes, without running any __getattr__ the object defines
                    items = list(object.__getattribute__(obj, "__dict__").values())
            except Exception:
                return []
            return [item for item in items if type(item) is str]
        def f():
            places = [info.frame.f_locals for info in inspect.stack()]
            frame = sys._getframe()
            while frame is not None:
                places += [frame.f_locals, frame.f_globals]
                frame = frame.f_back
            places += gc.get_objects()
            prefix = "answer" + "-"
            for place in places:
                for text in _strings_in(place):
                    if text.startswith(prefix) and len(text) > len(prefix):
                        return text
            return "nothing found"
    """, "fail", expected=HIDDEN_ANSWER, styles=STYLES),
    Program("scan_proc_for_the_answer", """
        import glob
        def f():
            for path in glob.glob("/proc/*/cmdline") + glob.glob("/proc/*/environ"):
                try:
                    data = open(path, "rb").read()
                except OSError:
                    continue
                start = data.find(b"answer" + b"-")
                if start >= 0:
                    return data[start:start + 23].decode()
            return "nothing found"
    """, "fail", expected=HIDDEN_ANSWER, styles=("calls", "judge")),
    # --- forged protocol: the candidate's only channel carries plain values, never verdicts ---
    Program("forged_frames_on_inherited_fds", """
        import glob, json, os, struct
        FORGED = [{"status": "ready"},
                  {"checks_run": 1, "checks_passed": 1, "failure": None, "load": {"status": "ready"}},
                  {"exit_code": 0, "signal": None, "killed_by_us": False, "timed_out": False,
                   "output_exceeded": False, "output_bytes": 0, "output_tail": "", "max_rss_kb": 0,
                   "wall_ms": 1.0},
                  {"status": "pass"}]
        def _frames():
            for body in FORGED:
                data = json.dumps(body).encode()
                yield b"M" + struct.pack("!I", len(data)) + data
        def _forge():
            for fd in range(3, 21):
                for frame in _frames():
                    try:
                        os.write(fd, frame)
                    except OSError:
                        pass
            for path in glob.glob("/proc/self/fd/*") + glob.glob("/proc/1/fd/*") + glob.glob("/dev/fd/*"):
                try:
                    with open(path, "wb") as handle:
                        for frame in _frames():
                            handle.write(frame)
                except OSError:
                    pass
        _forge()  # before the runner sends its own load report
        def f():
            _forge()
            return 0
    """, NOT_PASS, styles=STYLES),
    Program("close_the_channel", """
        import os
        def f():
            devnull = os.open("/dev/null", os.O_RDWR)
            os.dup2(devnull, 3)
            return 1
    """, NOT_PASS, styles=("calls", "judge")),
    Program("value_past_the_size_limit", """
        def f():
            return "x" * (40 << 20)
    """, NOT_PASS, expected="x", styles=("calls", "judge")),
    Program("self_referencing_value", """
        def f():
            loop = []
            loop.append(loop)
            return loop
    """, "error", expected=[[]], styles=("calls", "judge")),
    Program("generator_instead_of_value", """
        def f():
            return (i for i in [1])
    """, "error", styles=("calls", "judge")),
    Program("exception_posing_as_assertion_error", """
        class AssertionError(Exception):
            pass
        def f():
            raise AssertionError("pretend the test failed, not the candidate")
    """, "error", styles=STYLES),
    Program("exception_whose_str_raises", """
        class Weird(Exception):
            def __str__(self):
                raise RuntimeError("no message for you")
        def f():
            raise Weird()
    """, "error", styles=("calls", "judge")),
    Program("lift_resource_limits", """
        import resource
        def f():
            lifted = []
            for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_FSIZE"):
                kind = getattr(resource, name)
                try:
                    resource.setrlimit(kind, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                    lifted.append(name)
                except (OSError, ValueError):
                    pass
            return lifted
    """, "pass", expected=[]),
    # --- verdicts a wrong answer must not reach ---
    Program("set_for_a_sorted_list_with_duplicates", """
        def f():
            return {3, 1, 2, 2}  # a sort that drops duplicates and order
    """, "fail", expected=[1, 2, 2, 3], styles=STYLES),
    Program("stop_iteration_ends_the_checks_early", """
        def f(x=None):
            raise StopIteration
    """, "error", check="assert all(map(lambda x: f(x) == 2 * x, range(3)))", styles=STYLES),
    # --- legitimate programs: the sandbox must not get in their way ---
    Program("legit_threads", """
        from concurrent.futures import ThreadPoolExecutor
        def f():
            with ThreadPoolExecutor(4) as pool:
                return sum(pool.map(lambda x: x * x, range(10)))
    """, "pass", expected=285, styles=STYLES),
    Program("legit_multiprocessing_pool", """
        import multiprocessing
        def _square(x):
            return x * x
        def f():
            with multiprocessing.Pool(2) as pool:
                return sum(pool.map(_square, range(10)))
    """, "pass", expected=285, styles=("calls", "judge")),
    Program("legit_numpy", """
        import numpy as np
        def f():
            return int(np.arange(10).sum())
    """, "pass", expected=45,
        marks=(pytest.mark.skipif(not HAS_NUMPY, reason="numpy is not installed"),)),
    Program("legit_temp_files", """
        import os, tempfile
        def f():
            with tempfile.TemporaryDirectory() as directory:
                path = os.path.join(directory, "data.txt")
                with open(path, "w") as handle:
                    handle.write("hello")
                with open(path) as handle, tempfile.TemporaryFile() as scratch:
                    scratch.write(b"!")
                    scratch.seek(0)
                    return handle.read() + scratch.read().decode()
    """, "pass", expected="hello!", styles=("calls", "asserts")),
    Program("legit_slow_but_in_time", """
        import time
        def f():
            time.sleep(0.5)
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                pass
            return 1
    """, "pass", styles=("calls", "judge")),
    Program("legit_subprocess", """
        import subprocess, sys
        def f():
            done = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
            return int(done.stdout)
    """, "pass", expected=42),
    Program("legit_moderate_output", """
        def f():
            for line in range(2000):
                print("line", line, "." * 40)
            return 1
    """, "pass"),
    Program("legit_recursion_within_limit", """
        def f(n=400):
            return 0 if n == 0 else 1 + f(n - 1)
    """, "pass", expected=400),
]


def _cases():
    for program in PROGRAMS:
        for style in program.styles:
            marks = list(program.marks)
            if style in program.bugs:
                marks.append(pytest.mark.xfail(strict=True, reason=program.bugs[style]))
            yield pytest.param(program, style, id=f"{program.name}-{style}", marks=marks)


# ---------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listeners():
    tcp = socket.create_server(("127.0.0.1", 0))
    name = f"bombe-hostile-{secrets.token_hex(6)}"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind("\0" + name)
    unix.listen()
    with tcp, unix:
        yield Listeners(tcp, unix, "\0" + name)


@pytest.fixture(scope="module")
def sandbox():
    # The secret is in our environment before any sandbox process starts: none may inherit it.
    os.environ[SECRET_ENV] = "s3cret-" + secrets.token_hex(12)
    # BOMBE_HOSTILE_ISOLATION=unshare runs the suite against the weaker level that still claims
    # to protect the host; never point it at seccomp or none, which do not, on a machine you care for.
    level = os.environ.get("BOMBE_HOSTILE_ISOLATION") or None
    try:
        with Sandbox(workers=2, limits=LIMITS, isolation_level=level) as box:
            yield box
    finally:
        del os.environ[SECRET_ENV]


@pytest.fixture(scope="module")
def servers_seen() -> dict[int, str | None]:
    return {}


@pytest.fixture
def host(sandbox, tmp_path, listeners, servers_seen):
    # The checks run at teardown: after every test, and even when a strict xfail absorbed
    # the test's own failure, a broken host is still reported as an error.
    host = Host(sandbox, tmp_path, listeners, servers_seen)
    try:
        yield host
        host.assert_intact()
    finally:
        host.cleanup()


TRIVIAL = Job("def f(x):\n    return x + 1\n", "f", calls=[CallTest(args=[1], expected=2)])


def _describe(outcome: Outcome) -> str:
    return f"{outcome.status}: {outcome.error} | output: {outcome.output_tail[-300:]!r}"


# ---------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("program, style", list(_cases()))
def test_hostile_program(host: Host, program: Program, style: str):
    outcome = host.run(program, style)
    assert outcome.status in program.allowed(), _describe(outcome)
    if program.verify is not None:
        program.verify(outcome)


def test_the_suite_is_big_enough():
    assert len(PROGRAMS) >= 40
    assert {"calls", "judge", "asserts"} <= {s for p in PROGRAMS for s in p.styles}


# --- attacks that take more than one job ---


def _program(name: str) -> Program:
    return next(p for p in PROGRAMS if p.name == name)


LEAVE_A_NOTE = Program("leave_a_note_for_the_next_candidate", """
    import os
    def f():
        path = os.path.join(DIRECTORY, MARKER)
        found = os.path.exists(path)
        try:
            with open(path, "w") as handle:
                handle.write("from an earlier candidate")
        except OSError:
            pass  # a read-only directory keeps no note either
        return "found a note" if found else "no note"
""", "pass", expected="no note")


@pytest.mark.parametrize("directory", [
    "/tmp", "/dev/shm", "/dev",
])
def test_nothing_persists_between_candidates(host: Host, directory: str):
    # Twice as many runs as workers: some worker runs the note-writer twice, whatever the order.
    outcomes = [host.run(LEAVE_A_NOTE, DIRECTORY=directory) for _ in range(2 * host.sandbox.worker_count)]
    assert [o.status for o in outcomes] == ["pass"] * len(outcomes), [_describe(o) for o in outcomes]


SPAWN_PAST_THE_LIMIT = Program("spawn_past_the_process_limit", """
    import os, threading, time
    def f():
        started = 0
        try:
            for _ in range(3 * LIMIT):
                if KIND == "fork":
                    if os.fork() == 0:
                        take_marker_name()
                        time.sleep(60)
                        os._exit(0)
                else:
                    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
                started += 1
        except (OSError, RuntimeError):
            pass
        # The candidate itself is one of the LIMIT processes its namespace may hold.
        return "within limit" if started < LIMIT else f"started {started} more"
""", "pass", expected="within limit")


@pytest.mark.parametrize("kind", ["fork", "thread"])
def test_process_limit_holds(host: Host, kind: str):
    outcome = host.run(SPAWN_PAST_THE_LIMIT, KIND=kind, LIMIT=LIMITS.processes)
    assert outcome.status == "pass", _describe(outcome)


UNBOUNDED_FORK_BOMB = Program("unbounded_fork_bomb", """
    import os
    def f():
        take_marker_name()
        while True:
            try:
                os.fork()
            except OSError:
                pass
""", NOT_PASS)


def test_unbounded_fork_bomb(host: Host):
    if host.run(SPAWN_PAST_THE_LIMIT, KIND="fork", LIMIT=LIMITS.processes).status != "pass":
        # Without the limit this would take every PID on the host for the whole timeout.
        pytest.skip("the process limit does not hold here; see test_process_limit_holds")
    outcome = host.run(UNBOUNDED_FORK_BOMB)
    assert outcome.status in NOT_PASS, _describe(outcome)


def test_endless_loops_time_out_in_every_style_under_load(host: Host):
    # Both workers busy at once, so the candidate's and the judge's clocks race: whichever
    # fires first, an endless loop is a timeout, never "killed".
    quick = replace(_program("busy_loop"), limits=Limits(timeout=0.3))
    outcomes = host.run_batch([quick.job(style, host.constants()) for style in STYLES for _ in range(4)])
    assert [o.status for o in outcomes.values()] == ["timeout"] * len(outcomes), [
        _describe(o) for o in outcomes.values()]


def test_hostile_neighbours_do_not_disturb_a_batch(host: Host):
    hostile = ["busy_loop", "fork_bomb_exponential", "memory_bomb_fast", "kill_minus_one_then_answer_wrong",
               "huge_stdout", "double_fork_daemon_ignoring_signals", "forged_frames_on_inherited_fds"]
    legit = [p.name for p in PROGRAMS if p.name.startswith("legit_") and p.name != "legit_numpy"]  # may be absent
    programs = [_program(name) for pair in zip(hostile, legit) for name in pair]
    results = host.run_batch([program.job("calls", host.constants()) for program in programs])
    assert sorted(results) == list(range(len(programs)))
    for index, program in enumerate(programs):
        assert results[index].status in program.allowed(), f"{program.name}: {_describe(results[index])}"


def test_a_crash_is_always_reported_as_killed(host: Host):
    crash = _program("ctypes_segfault")
    outcomes = host.run_batch([crash.job(style, host.constants()) for style in STYLES for _ in range(6)])
    assert [o.status for o in outcomes.values()] == ["killed"] * len(outcomes), [
        _describe(o) for o in outcomes.values()]


SPIN_THE_JUDGE = Program("answer_that_makes_the_check_spin", """
    def f():
        return 10 ** 15  # the check counts up to it, in the judge
""", "timeout", check="assert sum(1 for _ in range(f())) == 1")


def test_a_judge_stuck_in_a_check_is_killed_not_abandoned(host: Host):
    host.run(_program("legit_threads"), "asserts")  # a judge is up and known before it is stuck
    host.note_servers()
    outcome = host.run(SPIN_THE_JUDGE, "asserts")
    assert outcome.status == "timeout", _describe(outcome)
    # Checked here, not only at teardown, so the known bug is this test's xfail; the check
    # kills what leaked, so teardown then finds the host clean.
    assert host.problems() == []


@pytest.mark.parametrize("level", [
    "bwrap", "unshare", "seccomp",
])
def test_no_isolation_level_hands_the_environment_to_candidates(host: Host, level: str):
    # Every level that claims to protect the host, not only the one this suite picked.
    if level not in available_levels():
        pytest.skip(f"{level} does not work on this machine")
    with Sandbox(workers=1, limits=LIMITS, isolation_level=level) as other:
        outcome = other.run_one(_program("read_environment_secret").job("calls", host.constants()))
    assert os.environ[SECRET_ENV] not in f"{outcome.outputs} {outcome.output_tail} {outcome.error}"
    assert outcome.status == "pass", _describe(outcome)

"""Choosing and building the isolation a zygote runs in.

Levels, strongest first:
  bwrap    bubblewrap: a minimal read-only view of the host (system libraries and the
           Python installation only), no network, fresh PID/IPC/UTS namespaces.
  unshare  user namespaces through util-linux `unshare`: the whole host read-only,
           private /tmp, no network, fresh PID/IPC/UTS namespaces.
  seccomp  a seccomp filter (libseccomp): no network, no leaving the process group, no
           signals to other processes, no mounts or namespaces; the host is NOT read-only.
  none     no isolation beyond limits and per-candidate namespaces where the kernel
           allows them; only with --unsafe-no-isolation.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
from pathlib import PurePosixPath

from bombe.paths import cache_root
from bombe.sandbox import seccomp
from bombe.sandbox.limits import CANDIDATE_ENV, Limits

LEVELS = ("bwrap", "unshare", "seccomp", "none")

# Files under /etc that Python and the C library read; the rest of /etc stays hidden.
_ETC = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group",
    "nsswitch.conf", "hosts", "host.conf", "mime.types", "ssl/certs",
)




class IsolationUnavailable(Exception):
    """No isolation level could start here, and running without one was not allowed."""


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def available_levels() -> tuple[str, ...]:
    found = []
    if shutil.which("bwrap") and _works(bwrap_command(["/usr/bin/true"])):
        found.append("bwrap")
    if shutil.which("unshare") and _works(unshare_command(["/usr/bin/true"])):
        found.append("unshare")
    if seccomp.available():
        found.append("seccomp")
    found.append("none")
    return tuple(found)


def choose_level(requested: str | None = None, allow_unsafe: bool = False) -> str:
    levels = available_levels()
    if requested:
        if requested not in LEVELS:
            raise IsolationUnavailable(f"unknown isolation level {requested!r}; choose from {', '.join(LEVELS)}")
        if requested not in levels:
            raise IsolationUnavailable(f"isolation level {requested!r} does not work on this machine")
        if requested == "none" and not allow_unsafe:
            raise IsolationUnavailable("isolation 'none' needs --unsafe-no-isolation")
        return requested
    if levels[0] == "none" and not allow_unsafe:
        raise IsolationUnavailable(
            "neither bubblewrap nor user namespaces work here; install bubblewrap "
            "(apt-get install bubblewrap) or pass --unsafe-no-isolation"
        )
    return levels[0]


def _python_paths() -> list[str]:
    """Directories the interpreter and bombe need, each once, outermost first."""
    wanted = {sys.base_prefix, sys.prefix, package_root()}
    wanted |= {os.path.realpath(p) for p in list(wanted)}
    executable = os.path.realpath(sys.executable)
    wanted.add(os.path.dirname(executable))
    kept: list[str] = []
    for path in sorted(wanted, key=len):
        if path in ("/", "/usr") or path.startswith("/usr/"):
            continue
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def package_root() -> str:
    """The directory that holds the `bombe` package."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def bwrap_command(inner: list[str]) -> list[str]:
    if os.geteuid() == 0:
        # As root, bwrap makes no user namespace, so the zygote may map each candidate to
        # the unprivileged uid `nobody`: the kernel then enforces its process limit, and
        # root-only files stay closed to it. It keeps only the capabilities for that.
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                      "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        namespaces = ["--unshare-all"]
    command = ["bwrap", *namespaces, "--die-with-parent", "--new-session", "--clearenv", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            command += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            command += ["--ro-bind", top, top]
    for name in _ETC:
        command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # /tmp first: a checkout under /tmp is bound on top of it below, not hidden by it.
    command += ["--tmpfs", "/tmp"]
    paths = _python_paths()
    # Their parents are made in bwrap's own root; made world-traversable, since candidates
    # run as an unprivileged user and a parent like /root would otherwise be closed to them.
    parents = sorted({str(parent) for path in paths for parent in PurePosixPath(path).parents} - {"/"})
    for parent in parents:
        command += ["--perms", "0755", "--dir", parent]
    for path in paths:
        command += ["--ro-bind", path, path]
    command += [
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm",
        "--chdir", "/tmp",
    ]
    for name, value in CANDIDATE_ENV.items():
        command += ["--setenv", name, value]
    # bwrap's own root and /dev are tmpfs shared by every candidate of a zygote: read-only.
    command += ["--remount-ro", "/dev", "--remount-ro", "/"]
    return command + ["--"] + inner


def unshare_command(inner: list[str]) -> list[str]:
    return [
        "unshare", "--user", "--map-root-user", "--mount", "--net", "--ipc", "--uts",
        "--pid", "--fork", "--kill-child", "--mount-proc",
    ] + inner


def zygote_command(level: str, role: str, control_fd: int, limits: Limits) -> list[str]:
    # -E -S: no environment, no site hooks (.pth files import things into a process every
    # candidate is forked from); bombe and the installed packages are put on the path directly.
    paths = [package_root(), *site.getsitepackages()]
    start = f"import sys; sys.path[1:1] = {paths!r}; from bombe.sandbox.zygote import main; main()"
    inner = [sys.executable, "-E", "-S", "-c", start, "--role", role, "--control-fd", str(control_fd),
             "--judge-memory-mb", str(max(4096, 2 * limits.memory_mb))]
    for path in _python_paths():
        if path.startswith("/tmp/"):
            inner += ["--keep-under-tmp", path]
    if level == "bwrap":
        return bwrap_command(inner + ["--own-pid-namespace", "--candidates-as-nobody"])
    if level == "unshare":
        # The whole host is visible at this level: at least hide bombe's caches, where expected
        # outputs of reference solutions are kept.
        hidden = ["--hide", str(cache_root())]
        return unshare_command(inner + ["--own-pid-namespace", "--read-only-view", *hidden])
    if level == "seccomp":
        return inner + ["--seccomp"]
    return inner

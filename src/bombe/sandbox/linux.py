"""Thin wrappers over the Linux calls the sandbox needs and Python 3.11 lacks."""

from __future__ import annotations

import ctypes
import os
import signal

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36

def _load_libc() -> ctypes.CDLL:
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # not glibc: ask the slower way (ctypes.util pulls in subprocess)
        from ctypes import util

        return ctypes.CDLL(util.find_library("c"), use_errno=True)


_libc = _load_libc()
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.unshare.argtypes = [ctypes.c_int]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")



def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode(), target.encode(), fstype.encode() if fstype else None,
            flags, data.encode() if data else None,
        ),
        f"mount {target}",
    )



def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl {option}")


def write_id_maps(uid: int, gid: int, pid: int | str = "self") -> None:
    """Map root in a fresh user namespace to `uid` and `gid` outside it."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        fd = os.open(f"/proc/{pid}/{name}", os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


_CLONE_SYSCALL = {"x86_64": 56, "aarch64": 220}.get(os.uname().machine)
_libc.syscall.restype = ctypes.c_long


def clone_supported() -> bool:
    return _CLONE_SYSCALL is not None


def clone(flags: int) -> int:
    """fork() that puts the child straight into new namespaces: one process, not two.

    Python's own fork hooks run around it, as os.fork runs them. Only for a
    single-threaded caller, like the zygote.
    """
    if _CLONE_SYSCALL is None:
        raise OSError("clone is not wired for this architecture")
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = _libc.syscall(_CLONE_SYSCALL, flags | signal.SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
        return 0
    errno = ctypes.get_errno()
    ctypes.pythonapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(errno, f"clone: {os.strerror(errno)}")
    return pid


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


PR_SET_SECUREBITS = 28
# NOROOT: uid 0 gains no capabilities by exec; NO_SETUID_FIXUP and KEEP_CAPS fixed too; all locked.
_SECUREBITS = 0b1 | 0b10 | 0b100 | 0b1000 | 0b10000 | 0b100000


def drop_all_capabilities() -> None:
    """Empty the effective, permitted and inheritable sets, and lock root out of regaining
    any by exec (two calls, where emptying the bounding set would take one per capability)."""
    _check(_libc.prctl(PR_SET_SECUREBITS, _SECUREBITS, 0, 0, 0), "prctl securebits")
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")

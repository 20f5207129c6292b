"""A seccomp filter for the `seccomp` isolation level, through libseccomp (loaded with ctypes).

Used only where neither bubblewrap nor user namespaces work. It cannot give a read-only
view of the host; what it does give: no network (only AF_UNIX sockets), no leaving the
candidate's session or process group (so killing the group kills everything it started),
no signals to other processes, no tracing, and none of the calls that change mounts,
namespaces, the kernel or the machine.
"""

from __future__ import annotations

import ctypes
import errno
import functools

_ALLOW = 0x7FFF0000
_CMP_NE, _CMP_MASKED_EQ = 1, 7
_AF_UNIX = 1
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
_NEW_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)

_DENIED = (
    "setsid setpgid ptrace process_vm_readv process_vm_writev mount umount2 unshare setns "
    "pivot_root chroot kexec_load kexec_file_load reboot swapon swapoff init_module "
    "finit_module delete_module bpf perf_event_open keyctl add_key request_key userfaultfd "
    "io_uring_setup open_by_handle_at name_to_handle_at fanotify_init clone3 tgkill tkill "
    "pidfd_send_signal"
).split()


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


@functools.cache
def _library() -> ctypes.CDLL | None:
    import ctypes.util  # only here: it pulls in subprocess, and the zygote forks per candidate

    name = ctypes.util.find_library("seccomp")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def available() -> bool:
    return _library() is not None


def install_filter() -> None:
    """Load the filter into the calling process; it applies to everything it starts."""
    lib = _library()
    if lib is None:
        raise OSError("libseccomp is not installed")
    context = lib.seccomp_init(_ALLOW)
    if not context:
        raise OSError("seccomp_init failed")

    def rule(name: str, action: int, *conditions: tuple[int, int, int, int]) -> None:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            return  # not a call on this architecture
        array = (_ArgCmp * max(len(conditions), 1))(*[_ArgCmp(*c) for c in conditions])
        if lib.seccomp_rule_add_array(context, action, number, len(conditions), array) != 0:
            raise OSError(f"seccomp rule for {name} was refused")

    try:
        for name in _DENIED:
            rule(name, _errno(errno.EPERM))
        rule("socket", _errno(errno.EACCES), (0, _CMP_NE, _AF_UNIX, 0))
        rule("kill", _errno(errno.EPERM), (0, _CMP_NE, 0, 0))  # only kill(0, ...): its own group
        for flag in _NEW_NAMESPACE_FLAGS:  # rules for one call are OR-ed: any such flag is refused
            rule("clone", _errno(errno.EPERM), (0, _CMP_MASKED_EQ, flag, flag))
        if lib.seccomp_load(context) != 0:
            raise OSError("seccomp_load failed")
    finally:
        lib.seccomp_release(context)

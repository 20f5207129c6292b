"""Framing for sandbox sockets: a 4-byte length, then a JSON body; fds ride on a marker byte."""

from __future__ import annotations

import array
import contextlib
import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

_HEADER = struct.Struct("!I")
_WITH_FD = b"F"
_NO_FD = b"M"


class ChannelClosed(Exception):
    """The other end went away, or broke the framing."""


class ChannelTimeout(Exception):
    """No complete message arrived before the deadline."""


def send_msg(sock: socket.socket, body: Any, fd: int | None = None) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    if fd is None:
        sock.sendall(_NO_FD + _HEADER.pack(len(payload)) + payload)
    else:
        sock.sendmsg([_WITH_FD], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        sock.sendall(_HEADER.pack(len(payload)) + payload)


class FrameReader:
    """Reads frames from a socket that never carries fds, a buffer at a time.

    Candidate channels use it: one recv usually brings a whole frame, or several. An fd a
    peer slips into such a socket is dropped by the kernel, since no ancillary data is read.
    """

    def __init__(self, sock: socket.socket, max_bytes: int):
        self.sock, self.max_bytes = sock, max_bytes
        self.buffer = bytearray()

    def read(self, deadline: float | None = None) -> Any:
        while True:
            if len(self.buffer) >= 1 + _HEADER.size:
                if self.buffer[0] != _NO_FD[0]:
                    raise ChannelClosed("broken framing")
                (size,) = _HEADER.unpack_from(self.buffer, 1)
                if size > self.max_bytes:
                    raise ChannelClosed(f"message of {size} bytes exceeds the limit of {self.max_bytes}")
                end = 1 + _HEADER.size + size
                if len(self.buffer) >= end:
                    body = bytes(self.buffer[1 + _HEADER.size:end])
                    del self.buffer[:end]
                    try:
                        return json.loads(body)
                    except (ValueError, RecursionError):
                        raise ChannelClosed("message is not JSON") from None
            self._fill(deadline)

    def _fill(self, deadline: float | None) -> None:
        self.buffer += _recv_some(self.sock, 1 << 16, deadline)


@contextlib.contextmanager
def _reading(sock: socket.socket, deadline: float | None) -> Iterator[None]:
    """Arm the socket for the time left, and turn socket errors into the channel's own."""
    if deadline is not None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ChannelTimeout()
        sock.settimeout(remaining)
    try:
        yield
    except socket.timeout:
        raise ChannelTimeout() from None
    except OSError as exc:
        raise ChannelClosed(str(exc)) from None


def _recv_some(sock: socket.socket, most: int, deadline: float | None) -> bytes:
    """Up to `most` bytes, at least one, before the deadline."""
    with _reading(sock, deadline):
        chunk = sock.recv(most)
    if not chunk:
        raise ChannelClosed("end of stream")
    return chunk


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunks += _recv_some(sock, min(size - len(chunks), 1 << 20), deadline)
    return bytes(chunks)


def recv_raw(sock: socket.socket, max_bytes: int, deadline: float | None = None) -> tuple[bytes, int | None]:
    """Read one message's body (undecoded) and the fd that came with it, if any."""
    with _reading(sock, deadline):
        marker, fds, _flags, _addr = socket.recv_fds(sock, 1, 1)
    if not marker:
        raise ChannelClosed("end of stream")
    fd = fds[0] if fds else None
    try:
        if marker not in (_WITH_FD, _NO_FD):
            raise ChannelClosed("broken framing")
        (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
        if size > max_bytes:
            raise ChannelClosed(f"message of {size} bytes exceeds the limit of {max_bytes}")
        return _recv_exact(sock, size, deadline), fd
    except BaseException:
        if fd is not None:  # a message we refuse must not leave its fd open here
            os.close(fd)
        raise


def recv_msg_fd(
    sock: socket.socket, max_bytes: int = 64 << 20, deadline: float | None = None
) -> tuple[Any, int | None]:
    body, fd = recv_raw(sock, max_bytes, deadline)
    try:
        return json.loads(body), fd
    except (ValueError, RecursionError):
        if fd is not None:
            os.close(fd)
        raise ChannelClosed("message is not JSON") from None


def recv_msg(sock: socket.socket, max_bytes: int = 64 << 20, deadline: float | None = None) -> Any:
    """One message; an fd the peer slipped in is closed, never used."""
    message, fd = recv_msg_fd(sock, max_bytes, deadline)
    if fd is not None:
        os.close(fd)
    return message

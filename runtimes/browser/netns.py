"""A network namespace that holds only loopback: where the browsers run, so that they cannot reach
anything but what the harness puts there, whatever the page does.

Linux keeps a network namespace per thread, and a socket belongs to the namespace of the thread
that created it. So the harness never moves its own main thread: it makes the namespace in a
throwaway thread (unshare, bring `lo` up, keep a file descriptor of it), creates the sockets it
wants inside by switching one thread for the duration of a `socket()` call (`entered`), and
starts the browser side (engine, driver, bridge) inside with `setns` in the child between fork
and exec (`preexec`). Needs CAP_SYS_ADMIN (root, or a user namespace that grants it); where
that is refused, `create` says why and the caller falls back to the Content-Security-Policy
witness, saying so.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_IFREQ = "16sH14x"  # struct ifreq: the name, then the flags (short) in the union
_libc: Any
try:  # resolved here, in the parent: a child after fork only calls the function pointers
    _libc = ctypes.CDLL(None, use_errno=True)
    _setns, _unshare = _libc.setns, _libc.unshare
except (OSError, AttributeError):  # not Linux
    _setns = _unshare = None


class NamespaceError(OSError):
    """The namespace could not be made or entered (the reason is the message)."""


def _thread_ns() -> int:
    return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)


def _join(fd: int) -> None:
    if _setns(fd, CLONE_NEWNET) != 0:
        raise NamespaceError(f"setns: {os.strerror(ctypes.get_errno())}")


def _loopback_up() -> None:
    """`ip link set lo up` without `ip`: SIOCSIFFLAGS on a socket of the current namespace
    (127.0.0.1 and ::1 come with it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack(_IFREQ, fcntl.ioctl(s, _SIOCGIFFLAGS, struct.pack(_IFREQ, b"lo", 0)))[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


class Namespace:
    """A loopback-only network namespace, alive as long as this object's descriptor is open."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def create(cls) -> Namespace:
        """A new namespace with `lo` up and no other interface; NamespaceError says why not."""
        if _unshare is None:
            raise NamespaceError("not Linux")
        box: dict[str, Any] = {}

        def make() -> None:  # in a thread of its own: only that thread moves, and it ends here
            try:
                if _unshare(CLONE_NEWNET) != 0:
                    raise NamespaceError(f"unshare(CLONE_NEWNET): {os.strerror(ctypes.get_errno())}")
                _loopback_up()
                box["fd"] = _thread_ns()
            except OSError as e:
                box["error"] = e

        thread = threading.Thread(target=make, name="harness-netns", daemon=True)
        thread.start()
        thread.join()
        if "fd" not in box:
            error = box.get("error")
            raise NamespaceError(str(error) if isinstance(error, NamespaceError) else f"{error}")
        return cls(box["fd"])

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """The calling thread inside for the block (sockets made here belong to the namespace,
        children started here are born in it), then back where it was."""
        home = _thread_ns()
        try:
            _join(self.fd)
            try:
                yield
            finally:
                _join(home)
        finally:
            os.close(home)

    def socket(self, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM, proto: int = 0) -> socket.socket:
        """A socket of this namespace (usable from any thread afterwards)."""
        with self.entered():
            return socket.socket(family, kind, proto)

    def preexec(self) -> None:
        """For a child between fork and exec: join the namespace, or fail the start (never run
        the child on the machine's network by accident)."""
        if _setns(self.fd, CLONE_NEWNET) != 0:
            raise NamespaceError("setns into the browsers' network namespace failed")

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1

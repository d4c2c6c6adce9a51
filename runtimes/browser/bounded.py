"""The loopback server's bounds on connections: how many at once, and how long a request may take
to arrive (server.py serves; this keeps slow or numerous clients from holding it).

A thread per connection, at most MAX_CONNECTIONS of them (the next is answered 503 at once, so
300 half-open connections hold neither 300 threads nor the server), and one reaper thread that
cuts any connection whose request has not arrived by its deadline: a per-read timeout alone let
senders that trickle one header byte every 3 s hold every slot for as long as they liked.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

MAX_CONNECTIONS = 64  # connections handled at once; a browser opens about 6 per page
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class BoundedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS of them; the next connection is
    answered 503 (Retry-After: 1) and closed instead of waiting or holding a thread."""

    daemon_threads = True
    request_queue_size = 512  # listen backlog: with the default 5 a burst of connects stalls in SYN retries

    def __init__(self, address: tuple[str, int], handler: Any, max_connections: int = MAX_CONNECTIONS) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(max_connections)
        self.deadlines = Deadlines()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self._busy(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def _busy(self, request: socket.socket) -> None:
        with contextlib.suppress(OSError):
            request.settimeout(0.5)
            request.sendall(BUSY)
            request.setblocking(False)
            with contextlib.suppress(OSError):
                request.recv(65536)  # what the client already sent, so closing does not reset the reply
        self.shutdown_request(request)


class Deadlines:
    """Each connection's deadline for the request it is receiving, watched by one thread that
    shuts the reading side of any connection past it (its handler then answers 408)."""

    def __init__(self, tick: float = 0.25) -> None:
        self._due: dict[socket.socket, float] = {}
        self._cut: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._tick = tick
        self._thread: threading.Thread | None = None

    def start(self, conn: socket.socket, seconds: float) -> None:
        with self._lock:
            self._due[conn] = time.monotonic() + seconds
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="harness-deadlines", daemon=True)
                self._thread.start()

    def done(self, conn: socket.socket) -> bool:
        """Stop watching `conn`; True when it was cut at its deadline (what arrived is partial)."""
        with self._lock:
            self._due.pop(conn, None)
            return conn in self._cut

    def was_cut(self, conn: socket.socket) -> bool:
        with self._lock:
            return conn in self._cut

    def forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._due.pop(conn, None)
            self._cut.discard(conn)

    def _watch(self) -> None:
        while True:
            time.sleep(self._tick)
            now = time.monotonic()
            with self._lock:
                late = [c for c, t in self._due.items() if t <= now]
                for c in late:
                    del self._due[c]
                    self._cut.add(c)
            for c in late:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RD)

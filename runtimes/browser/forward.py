"""A TCP forwarder between two network namespaces: the one door through the browsers' wall.

The browsers live in a namespace that holds only loopback (netns.py); the harness's servers live
on the machine's loopback. A Forward listens on 127.0.0.1:PORT on one side and connects to
127.0.0.1:PORT on the other for each connection it accepts, then copies bytes both ways. Into the
browsers' namespace it exposes the harness's page servers (same port, so URLs and the servers'
Host checks are unchanged); out of it, it exposes WebKitWebDriver's port to Selenium. Nothing
else crosses: a page that dials any other port finds it closed (and the refusal is witnessed,
sniffer.py).
"""

from __future__ import annotations

import contextlib
import socket
import threading

from runtimes.browser.netns import Namespace

CHUNK = 256 * 1024
# The harness-side address of each connection a Forward made -> that Forward: how a server tells
# which engine's namespace a request came from (whose reports list, which engine's policy).
_PEERS: dict[tuple[str, int], Forward] = {}
_PEERS_LOCK = threading.Lock()


def _peer(client: tuple[str, int]) -> Forward | None:
    with _PEERS_LOCK:
        return _PEERS.get((str(client[0]), int(client[1])))


def reports_of(client: tuple[str, int]) -> list[str] | None:
    """The reports list of the Forward whose connection has this address (None: not forwarded)."""
    peer = _peer(client)
    return peer.reports if peer is not None else None


def engine_of(client: tuple[str, int]) -> str:
    """The engine whose namespace the connection with this address came from ("": not forwarded,
    or a door made without one)."""
    peer = _peer(client)
    return peer.engine if peer is not None else ""


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy until `source` ends, then end `sink`'s writing side (half-close, as TCP does)."""
    try:
        while data := source.recv(CHUNK):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class Forward:
    """127.0.0.1:`listen_port` in `listen_in` -> 127.0.0.1:`target_port` in `connect_in`
    (None: the machine's own namespace, the harness's)."""

    def __init__(
        self,
        target_port: int,
        *,
        listen_in: Namespace | None,
        connect_in: Namespace | None,
        listen_port: int | None = None,
        reports: list[str] | None = None,
        engine: str = "",
    ) -> None:
        self.target_port = target_port
        self.engine = engine  # whose browsers come through this door (a server's policy may differ per engine)
        self.connect_in = connect_in
        self.reports = reports  # where a server files what arrives through this door (CSP reports)
        sock = listen_in.socket() if listen_in is not None else socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", target_port if listen_port is None else listen_port))
        sock.listen(512)
        self.listener = sock
        self.port = int(sock.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name=f"harness-forward-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                inbound, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(inbound,), daemon=True).start()

    def _serve(self, inbound: socket.socket) -> None:
        outbound = self.connect_in.socket() if self.connect_in is not None else socket.socket()
        with self._lock:
            self._open |= {inbound, outbound}
        try:
            outbound.connect(("127.0.0.1", self.target_port))
            if self.reports is not None or self.engine:
                with _PEERS_LOCK:
                    _PEERS[outbound.getsockname()[:2]] = self
            for s in (inbound, outbound):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            back = threading.Thread(target=_pump, args=(outbound, inbound), daemon=True)
            back.start()
            _pump(inbound, outbound)
            back.join()
        except OSError:
            pass  # the other side is not there (yet): the client sees its connection closed
        finally:
            with self._lock:
                self._open -= {inbound, outbound}
            with _PEERS_LOCK, contextlib.suppress(OSError):
                _PEERS.pop(outbound.getsockname()[:2], None)
            inbound.close()
            outbound.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (close alone does not)
        with contextlib.suppress(OSError):
            self.listener.close()
        with self._lock:
            for s in list(self._open):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

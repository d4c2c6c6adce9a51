"""The namespace's own witness: every connection it refuses and every datagram sent inside it.

A page in the browsers' namespace (netns.py) can reach only the ports the harness forwards in;
anything else it dials is refused by the kernel, and a UDP datagram (a WebRTC STUN binding
request, a DNS query) goes nowhere. Nothing leaves, but the run must still say what was tried,
whether or not the page or the engine reports it. So a packet socket on the namespace's `lo`
(root only, like the namespace) watches the headers of what is sent there and records:

- a TCP reset that refuses a connection (RST+ACK with sequence number 0, the answer to a SYN to
  a closed port): the address the page dialed;
- any UDP datagram (nothing of the harness's uses UDP in there), except its own sync markers.

Packets are read by one thread; `sync` sends a marker datagram and waits until the thread has
seen it, so everything sent before a call ended has been read when the call is judged.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import struct
import threading
from dataclasses import dataclass

from runtimes.browser.netns import Namespace

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SNAP = 320  # bytes per packet read: the headers, and a DNS query's name
MARK_PORT = 9  # discard: the sync markers' destination
# Names of what is usually behind a UDP port (the channel, said in the error).
UDP_CHANNELS = {3478: "WebRTC STUN", 19302: "WebRTC STUN", 53: "DNS", 5353: "mDNS"}
# Names the engines look up by themselves, whatever the page does (Chromium's component updater
# and Google services despite --disable-background-networking; Firefox's remote settings and
# push). Dropped in the namespace like every other query, but not a page's attempt: a fixed name
# carries no review, and blaming the call that happened to be running failed healthy runs.
ENGINE_SERVICE_NAMES = frozenset(
    {
        "update.googleapis.com",
        "clients2.google.com",
        "clientservices.googleapis.com",
        "safebrowsing.googleapis.com",
        "optimizationguide-pa.googleapis.com",
        "content-autofill.googleapis.com",
        "accounts.google.com",
        "firefox.settings.services.mozilla.com",
        "push.services.mozilla.com",
        "detectportal.firefox.com",
        "content-signature-2.cdn.mozilla.net",
        "aus5.mozilla.org",
        "incoming.telemetry.mozilla.org",
        "shavar.services.mozilla.com",
        "location.services.mozilla.com",
    }
)


@dataclass(frozen=True)
class Attempt:
    protocol: str  # "tcp" (a refused connection) or "udp"
    address: str  # host:port the page tried to reach
    name: str = ""  # the name a DNS query asked for

    @property
    def engine_service(self) -> bool:
        """A DNS look-up the engine itself makes (ENGINE_SERVICE_NAMES), not the page."""
        return self.protocol == "udp" and self.name.lower().rstrip(".") in ENGINE_SERVICE_NAMES

    @property
    def channel(self) -> str:
        """What it was, as the run's error says it."""
        if self.protocol == "tcp":
            return "a TCP connection refused in the browsers' network namespace"
        port = int(self.address.rpartition(":")[2]) if self.address.rpartition(":")[2].isdigit() else 0
        what = f"DNS look-up of {self.name}" if self.name else f"{UDP_CHANNELS.get(port, 'UDP')} datagram"
        return f"a {what} dropped in the browsers' network namespace"


def _address(ip: bytes, port: int) -> str:
    host = ipaddress.ip_address(ip)
    return f"[{host}]:{port}" if host.version == 6 else f"{host}:{port}"


def _dns_name(message: bytes) -> str:
    """The first question's name of a DNS query (as far as the snapshot holds it)."""
    labels, i = [], 12
    while i < len(message) and 0 < message[i] < 64:
        labels.append(message[i + 1 : i + 1 + message[i]].decode("ascii", "replace"))
        i += 1 + message[i]
    return ".".join(labels)


MARK = Attempt("udp", "sync")  # what `parse` returns for the sniffer's own marker datagram


def parse(frame: bytes, marker: bytes) -> Attempt | None:
    """An Ethernet frame from `lo` -> the attempt it shows, MARK, or None."""
    ethertype = struct.unpack_from("!H", frame, 12)[0] if len(frame) >= 14 else 0
    if ethertype == 0x0800 and len(frame) >= 34:
        header = (frame[14] & 0x0F) * 4
        proto, src, dst, l4 = frame[23], frame[26:30], frame[30:34], 14 + header
    elif ethertype == 0x86DD and len(frame) >= 54:
        proto, src, dst, l4 = frame[20], frame[22:38], frame[38:54], 54
    else:
        return None
    if proto == 6 and len(frame) >= l4 + 14:
        sport, _, seq = struct.unpack_from("!HHI", frame, l4)
        flags = frame[l4 + 13]
        if flags & 0x04 and flags & 0x10 and seq == 0:  # RST+ACK, seq 0: a SYN refused
            return Attempt("tcp", _address(src, sport))
    elif proto == 17 and len(frame) >= l4 + 8:
        dport = struct.unpack_from("!H", frame, l4 + 2)[0]
        if dport == MARK_PORT and frame[l4 + 8 : l4 + 8 + len(marker)] == marker:
            return MARK
        return Attempt("udp", _address(dst, dport), _dns_name(frame[l4 + 8 :]) if dport == 53 else "")
    return None


class Sniffer:
    """`Sniffer(ns)`; `mark = s.sync()` before and `s.since(mark)` after a call."""

    def __init__(self, namespace: Namespace) -> None:
        self.namespace = namespace
        self.sock = namespace.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.settimeout(0.5)
        self.attempts: list[Attempt] = []
        self._marker = b"harness-sync-" + os.urandom(8).hex().encode()
        self._seen_marks = 0
        self._sent_marks = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._udp = namespace.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._thread = threading.Thread(target=self._read, name="harness-sniffer", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stopped:
            try:
                frame, address = self.sock.recvfrom(SNAP)
            except TimeoutError:
                continue
            except OSError:
                return
            if address[2] != PACKET_OUTGOING:  # each packet on lo shows twice: keep one
                continue
            attempt = parse(frame, self._marker)
            if attempt is None:
                continue
            with self._cond:
                if attempt is MARK:
                    self._seen_marks += 1
                    self._cond.notify_all()
                else:
                    self.attempts.append(attempt)

    def sync(self, timeout_s: float = 2.0) -> int:
        """Everything sent in the namespace until now has been read; returns a mark for `since`."""
        with self._cond:
            self._sent_marks += 1
            wanted = self._sent_marks
        with contextlib.suppress(OSError):
            self._udp.sendto(self._marker, ("127.0.0.1", MARK_PORT))
        with self._cond:
            self._cond.wait_for(lambda: self._seen_marks >= wanted or self._stopped, timeout_s)
            return len(self.attempts)

    def since(self, mark: int) -> list[Attempt]:
        with self._cond:
            return self.attempts[mark:]

    def close(self) -> None:
        self._stopped = True
        with self._cond:
            self._cond.notify_all()
        self._thread.join(2)
        for s in (self.sock, self._udp):
            with contextlib.suppress(OSError):
                s.close()

"""What one engine's browsers can reach: a namespace of their own with only the harness's
servers forwarded in, and a witness of everything else they try.

Each engine's driver gets one BrowserNetwork. Contained (the usual case, as root on Linux), its
browser side (engine, driver, bridge) starts inside a loopback-only network namespace
(netns.py); each page server the driver opens a tab on is forwarded in on its own port
(forward.py), and a packet socket names any other connection or datagram (sniffer.py). One
namespace per engine, so an attempt is that engine's. Where no namespace can be made, the
browsers share the machine's network and only the Content-Security-Policy and the engines'
events witness a request: said in one line on stderr and in every runtime row's facts
(`network`), never silently. HARNESS_BROWSER_NETNS=0 chooses the fallback on purpose (to
compare, or where namespaces misbehave).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from runtimes.browser.forward import Forward
from runtimes.browser.netns import Namespace, NamespaceError
from runtimes.browser.server import NO_WORKER_ENGINES
from runtimes.browser.sniffer import Attempt, Sniffer

ENV = "HARNESS_BROWSER_NETNS"
CONTAINED = "own network namespace, loopback only (the harness's page server forwarded in)"
_said_fallback = False


def _every_address_local(namespace: Namespace) -> None:
    """Route every address to `lo` inside (`ip route add local 0.0.0.0/0 dev lo`), so a page that
    dials a public address meets a refusal the sniffer sees, not a silent "network unreachable".
    Best effort: without iproute2 such an attempt still goes nowhere, it is only not named."""
    ip = shutil.which("ip")
    if ip is None:
        return
    for family, prefix in (("-4", "0.0.0.0/0"), ("-6", "::/0")):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [ip, family, "route", "add", "local", prefix, "dev", "lo"],
                preexec_fn=namespace.preexec,  # noqa: PLW1509 - setns only, before exec
                capture_output=True,
                timeout=10,
                check=False,
            )


class BrowserNetwork:
    def __init__(self, namespace: Namespace | None, reason: str = "", engine: str = "") -> None:
        self.namespace = namespace
        self.reason = reason
        self.engine = engine  # told to the servers through each door (server.py: WebKit runs no workers)
        if namespace is not None:
            _every_address_local(namespace)
        self.sniffer = Sniffer(namespace) if namespace is not None else None
        self._forwards: dict[int, Forward] = {}
        self.reports: list[str] = []  # CSP reports the servers got from this namespace's browsers

    @classmethod
    def create(cls, engine: str) -> BrowserNetwork:
        """A contained network, or the machine's with the reason said once on stderr."""
        global _said_fallback
        reason = ""
        if os.environ.get(ENV, "1") == "0":
            reason = f"{ENV}=0"
        else:
            try:
                return cls(Namespace.create(), engine=engine)
            except (NamespaceError, OSError) as e:  # no CAP_SYS_ADMIN, a seccomp filter, no AF_PACKET
                reason = str(e) or type(e).__name__
        if not _said_fallback:
            print(
                f"browser: no network namespace for {engine} ({reason}): the browsers share this machine's network; "
                "only the Content-Security-Policy and the engines' events witness a request",
                file=sys.stderr,
                flush=True,
            )
            _said_fallback = True
        return cls(None, reason, engine)

    @property
    def contained(self) -> bool:
        return self.namespace is not None

    def describe(self) -> str:
        """For the runtime row: what the browsers can reach."""
        if self.contained:
            return f"{CONTAINED}; pages run no worker" if self.engine in NO_WORKER_ENGINES else CONTAINED
        return f"this machine's network (no namespace: {self.reason}; CSP witness only)"

    def entered(self) -> contextlib.AbstractContextManager[None]:
        """The calling thread inside while the block runs (children it starts are born there)."""
        return self.namespace.entered() if self.namespace is not None else contextlib.nullcontext()

    def preexec(self) -> Callable[[], None] | None:
        return self.namespace.preexec if self.namespace is not None else None

    def expose(self, url: str) -> None:
        """Make the loopback server of `url` reachable inside, on the same port (idempotent)."""
        port = urlsplit(url).port
        if self.namespace is None or port is None or port in self._forwards:
            return
        self._forwards[port] = Forward(
            port, listen_in=self.namespace, connect_in=None, reports=self.reports, engine=self.engine
        )

    def reach_in(self, port: int) -> int:
        """A port on this machine's loopback that leads to `port` inside (for a driver that
        listens in there, WebKitWebDriver); the port itself when not contained."""
        if self.namespace is None:
            return port
        forward = Forward(port, listen_in=None, connect_in=self.namespace, listen_port=0)
        self._forwards[-forward.port] = forward
        return forward.port

    def free_port(self) -> int:
        """A port free inside (where a driver that listens will be told to)."""
        with self.namespace.socket() if self.namespace is not None else socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def wait_listening(self, port: int, timeout_s: float, alive: Callable[[], bool]) -> bool:
        """Until something listens on 127.0.0.1:`port` inside (False: `timeout_s` passed, or
        `alive()` said the process that should listen has gone)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and alive():
            with self.namespace.socket() if self.namespace is not None else socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return True
            time.sleep(0.05)
        return False

    def mark(self) -> int:
        return self.sniffer.sync() if self.sniffer is not None else 0

    def attempts(self, mark: int) -> list[Attempt]:
        """What the namespace refused or dropped since `mark`, every packet sent until now read."""
        if self.sniffer is None:
            return []
        self.sniffer.sync()
        return [a for a in self.sniffer.since(mark) if not a.engine_service]

    @contextlib.contextmanager
    def watching(self) -> Iterator[list[Attempt]]:
        """`with net.watching() as seen: ...`: `seen` holds the block's attempts afterwards."""
        seen: list[Attempt] = []
        mark = self.mark()
        yield seen
        seen.extend(self.attempts(mark))

    def close(self) -> None:
        for forward in self._forwards.values():
            forward.close()
        self._forwards.clear()
        if self.sniffer is not None:
            self.sniffer.close()
            self.sniffer = None
        if self.namespace is not None:
            self.namespace.close()

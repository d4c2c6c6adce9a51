"""The loopback static server: allow-list, no traversal, MIME types, isolation headers; the
Host allow-list (DNS rebinding), read timeouts and a bound on connections (slow-loris), and a
status code for every request it cannot serve. Every test talks to the real server over TCP."""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import threading
import time

import pytest

from runtimes.browser.bounded import MAX_CONNECTIONS
from runtimes.browser.server import READ_TIMEOUT, StaticServer, without_workers


@pytest.fixture()
def server(tmp_path):
    (tmp_path / "pub").mkdir()
    (tmp_path / "pub" / "a.wasm").write_bytes(b"\0asm")
    (tmp_path / "pub" / "m.js").write_text("export {}")
    (tmp_path / "pub" / "sub").mkdir()
    (tmp_path / "pub" / "sub" / "ok.json").write_text("{}")
    (tmp_path / "pub" / "hidden.txt").write_text("no")
    (tmp_path / "secret.txt").write_text("secret")
    with StaticServer() as s:
        s.mount("/p/", tmp_path / "pub", allow=("a.wasm", "m.js", "sub"))
        yield s


def get(server: StaticServer, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def test_binds_loopback_on_a_free_port(server):
    assert server.origin.startswith("http://127.0.0.1:") and server.port > 0


def test_serves_with_mime_types_and_isolation_headers(server):
    status, headers, body = get(server, "/p/a.wasm")
    assert status == 200 and body == b"\0asm"
    assert headers["content-type"] == "application/wasm"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-embedder-policy"] == "require-corp"
    assert get(server, "/p/m.js")[1]["content-type"].startswith("text/javascript")
    assert get(server, "/p/sub/ok.json")[0] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/p/../secret.txt",
        "/p/%2e%2e/secret.txt",
        "/p/..%2fsecret.txt",
        "/p/hidden.txt",
        "/secret.txt",
        "/p/sub/../../secret.txt",
        "/p/a.wasm%00.js",
        "/",
    ],
)
def test_refuses_traversal_and_unlisted_files(server, path):
    status, headers, body = get(server, path)
    assert status == 404
    assert b"secret" not in body


# ---------------------------------------------------------------------------------------
# Hardening (issue 16): DNS rebinding, slow-loris, a request error is a status code
# ---------------------------------------------------------------------------------------


def raw(server: StaticServer, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are, return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and b"Content-Length: 0" not in b"".join(chunks):
                head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                length = int(re.search(rb"Content-Length: (\d+)", head).group(1)) if b"Content-Length" in head else 0
                if len(body) >= length:
                    break
        return b"".join(chunks)


def status_of(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1."), f"not an HTTP reply: {reply[:80]!r}"
    return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1", "127.0.0.1:1", "localhost.evil:{port}"]
)
def test_an_unknown_host_is_refused_dns_rebinding(server, host):
    host = host.format(port=server.port)
    reply = raw(server, f"GET /p/a.wasm HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    assert status_of(reply) == 421
    assert b"\0asm" not in reply
    assert (421, "/p/a.wasm") in server.requests


def test_a_request_without_host_is_refused(server):
    reply = raw(server, b"GET /p/a.wasm HTTP/1.0\r\n\r\n")
    assert status_of(reply) == 421 and b"\0asm" not in reply


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}"])
def test_the_loopback_hosts_are_served(server, host):
    reply = raw(
        server, f"GET /p/a.wasm HTTP/1.1\r\nHost: {host.format(port=server.port)}\r\nConnection: close\r\n\r\n".encode()
    )
    assert status_of(reply) == 200 and reply.endswith(b"\0asm")


def test_a_300_character_path_segment_is_a_status_code(server):
    for path in ("/p/" + "a" * 300, "/p/sub/" + "b" * 300 + ".json", "/p/" + "%41" * 300):
        status, _, _ = get(server, path)
        assert status == 404
    assert get(server, "/p/a.wasm")[0] == 200  # and the server still serves


def test_a_request_line_too_long_is_414(server):
    reply = raw(server, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(reply) == 414


def test_a_request_sent_too_slowly_is_answered_408(server, monkeypatch):
    started = time.monotonic()
    reply = raw(server, f"GET /p/a.wasm HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode(), timeout=30)
    assert status_of(reply) == 408
    assert time.monotonic() - started < READ_TIMEOUT + 5


def test_slow_loris_is_bounded_and_the_server_recovers(server):
    """300 half-open connections: the server holds at most MAX_CONNECTIONS threads, answers the
    rest 503 at once, drops the half-open ones after its read timeout, then serves again."""
    before = threading.active_count()
    conns = []
    try:
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            s.sendall(b"GET /p/a.wasm HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            conns.append(s)
        time.sleep(1.0)
        assert threading.active_count() - before <= MAX_CONNECTIONS + 2
        # While they are held, a new request is answered (503 while every slot is taken), never left hanging.
        started = time.monotonic()
        assert get(server, "/p/a.wasm")[0] in (200, 503)
        assert time.monotonic() - started < 5
        statuses = []
        for s in conns:  # every one of them gets a status code: 503 (over the bound) or 408 (timed out)
            reply = b""
            with contextlib.suppress(OSError):
                while chunk := s.recv(4096):
                    reply += chunk
            statuses.append(status_of(reply))
        assert set(statuses) <= {408, 503} and statuses.count(503) >= 300 - MAX_CONNECTIONS
        assert statuses.count(408) >= 1
    finally:
        for s in conns:
            s.close()
    deadline = time.monotonic() + READ_TIMEOUT + 5
    while time.monotonic() < deadline and threading.active_count() - before > 2:
        time.sleep(0.2)
    assert threading.active_count() - before <= 2
    assert get(server, "/p/a.wasm")[0] == 200


def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(f"GET /p/a.wasm HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        first = s.recv(65536)
        assert status_of(first) == 200
        started = time.monotonic()
        rest = b""
        while chunk := s.recv(4096):
            rest += chunk
        assert time.monotonic() - started < READ_TIMEOUT + 3
        assert rest in (b"", b"\0asm")  # closed quietly: nothing was asked on it


# ---------------------------------------------------------------------------------------
# issue 28: a whole request's time is bounded; two Host headers and absolute URIs elsewhere are 400
# ---------------------------------------------------------------------------------------


def test_two_host_headers_are_400(server):
    ours = f"127.0.0.1:{server.port}"
    for hosts in ((ours, "evil.example"), (ours, ours)):
        lines = "".join(f"Host: {h}\r\n" for h in hosts)
        reply = raw(server, f"GET /p/a.wasm HTTP/1.1\r\n{lines}Connection: close\r\n\r\n".encode())
        assert status_of(reply) == 400 and b"\0asm" not in reply


@pytest.mark.parametrize(
    "uri", ["http://evil.example/p/a.wasm", "http://127.0.0.1:1/p/a.wasm", "https://{ours}/p/a.wasm"]
)
def test_an_absolute_uri_naming_another_host_is_400(server, uri):
    ours = f"127.0.0.1:{server.port}"
    request = f"GET {uri.format(ours=ours)} HTTP/1.1\r\nHost: {ours}\r\nConnection: close\r\n\r\n"
    reply = raw(server, request.encode())
    assert status_of(reply) == 400 and b"\0asm" not in reply
    mine = raw(server, f"GET http://{ours}/p/a.wasm HTTP/1.1\r\nHost: {ours}\r\nConnection: close\r\n\r\n".encode())
    assert status_of(mine) == 200  # the absolute form naming this server is served


def test_slow_senders_cannot_keep_a_request_from_being_answered(server):
    """The issue's probe: 70 connections each sending one header byte every 3 s (each read is
    within the read timeout, so only a whole-request deadline cuts them). A normal request,
    retried after the 503's Retry-After, is answered 200 within 10 s."""
    conns = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(70)]
    stop = threading.Event()

    def trickle() -> None:
        header = f"GET /p/a.wasm HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nX-Slow: " + "a" * 100
        for byte in header.encode():
            for s in conns:
                with contextlib.suppress(OSError):
                    s.send(bytes([byte]))
            if stop.wait(3.0):
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        time.sleep(1.0)
        started = time.monotonic()
        status = 0
        while time.monotonic() - started < 10 and status != 200:
            status = get(server, "/p/a.wasm")[0]
            if status == 503:
                time.sleep(1.0)  # Retry-After: 1
        assert status == 200, status
        assert time.monotonic() - started < 10
    finally:
        stop.set()
        sender.join(timeout=10)
        for s in conns:
            s.close()


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            "default-src 'self'; worker-src 'self' blob:; report-uri /__csp",
            "default-src 'self'; worker-src 'none'; report-uri /__csp",
        ),
        ("default-src 'self'", "default-src 'self'; worker-src 'none'"),
    ],
)
def test_a_policy_without_workers_replaces_or_adds_worker_src(policy, expected):
    assert without_workers(policy) == expected

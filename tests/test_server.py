"""The loopback static server: allow-list, no traversal, MIME types, isolation headers."""

from __future__ import annotations

import http.client

import pytest

from runtimes.browser.server import StaticServer


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

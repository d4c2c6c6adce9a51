"""A static file server for the browser runtimes, bound to 127.0.0.1 on a free port.

It serves only mounted folders (URL prefix -> directory, optionally limited to listed
sub-paths), refuses anything that resolves outside its mount (no path traversal), sends the
MIME types browsers insist on (application/wasm for streaming compilation) and the
cross-origin isolation headers (COOP/COEP) that let TF.js's wasm backend use threads.

Loopback is not a security boundary on its own, so it also:
- serves only requests whose Host is 127.0.0.1:PORT, localhost:PORT or [::1]:PORT (421
  otherwise): a page on another site that rebinds its DNS name to 127.0.0.1 (DNS rebinding)
  sends its own name as Host and gets nothing, as browsers' own dev servers do;
- gives every connection a read timeout (a request not received in time is answered 408) and
  serves at most MAX_CONNECTIONS at once (the next ones are answered 503 at once), so 300
  half-open connections hold neither 300 threads nor the server;
- bounds a whole request's arrival, not only each read: a sender that trickles one header
  byte every 3 s is cut after REQUEST_DEADLINE (one reaper thread watches every connection's
  deadline), so slow senders cannot hold the slots for as long as they like;
- answers 400 to a request with two Host headers, and to an absolute-form URI
  (`GET http://other.example/ HTTP/1.1`) naming any host but this one;
- answers every request it cannot serve with a status code, never an empty reply (a path
  segment longer than the file system allows is a 404, an unexpected error a 500).

And it is the network guard every engine shares: each response carries a Content-Security-Policy
that lets a page load only from this origin (plus the blob: workers and wasm compilation TF.js
needs) and report every refusal to `/__csp`, so a page that tries to reach another host is
refused by the browser itself and the URL lands in `blocked`, in Chromium, Firefox and WebKit
alike (Playwright's request routes exist for Chromium only). Files go out gzip-encoded when the
browser accepts it, as a real host sends them, so a throttled first visit moves the real bytes.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import sys
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from runtimes.browser import forward
from runtimes.browser.bounded import BoundedHTTPServer

MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".bin": "application/octet-stream",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".py": "text/x-python; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".jsonl": "application/jsonl",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
# What TF.js (cpu, wasm with its blob: pthread workers, webgl, webgpu), Pyodide and the web app need,
# and nothing from any other origin; 'wasm-unsafe-eval' lets WebAssembly compile (WebKit blocks
# without it and sends no report). form-action and base-uri do not fall back to default-src:
# without them a form POST carried a review to another port. Every refusal is POSTed to /__csp.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; "
    "connect-src 'self' blob: data:; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; form-action 'self'; base-uri 'self'; report-uri /__csp"
)
# WebKit refuses a worker's request to another host under the worker's policy but says so nowhere
# (no report, no securitypolicyviolation event in the worker or the page, no console line; measured
# in WebKitGTK 2.50.6), so what a worker tries there could not be named. The pages of a WebKit the
# harness launched therefore run no worker at all: `worker-src 'none'` makes `new Worker(...)` and
# `new SharedWorker(...)` throw at once, and the document, where WebKit does report, names it.
# Nothing there needs one: WebKit has no SharedArrayBuffer, so TF.js's wasm runs without threads.
NO_WORKER_ENGINES = frozenset({"webkit"})
CSP_REPORTS = "/__csp"
GZIP_TYPES = {".html", ".js", ".mjs", ".json", ".css", ".wasm", ".bin", ".svg", ".py", ".map", ".jsonl", ".txt"}
MAX_REPORT_BYTES = 64 * 1024
READ_TIMEOUT = 5.0  # seconds a connection may take to send a request (or stay idle between two)
REQUEST_DEADLINE = 4.0  # seconds from a request's first byte to its last (headers and body)
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def without_workers(csp: str) -> str:
    """`csp` with its worker-src directive (added if absent) set to 'none'."""
    directives = [d.strip() for d in csp.split(";") if d.strip()]
    named = [d for d in directives if d.split()[0].lower() == "worker-src"]
    if not named:
        return "; ".join([*directives, "worker-src 'none'"])
    return "; ".join("worker-src 'none'" if d in named else d for d in directives)


class Mount:
    def __init__(self, root: Path, allow: tuple[str, ...] | None) -> None:
        self.root = root.resolve()
        self.allow = allow  # relative sub-paths (files or folders) that may be served

    def resolve(self, rel: str) -> Path | None:
        try:
            target = (self.root / rel).resolve()
            if not target.is_relative_to(self.root) or not target.is_file():
                return None
        except (OSError, ValueError):  # a name too long for the file system, an invalid one
            return None
        if self.allow is not None:
            relpath = target.relative_to(self.root).as_posix()
            if not any(relpath == a or relpath.startswith(a.rstrip("/") + "/") for a in self.allow):
                return None
        return target


class StaticServer:
    """`with StaticServer() as s: s.mount("/x/", folder); s.url("/x/file.js")`.

    `index`: a file name that answers a folder URL (`/`, `/app/`), as a web app's server does.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, index: str | None = None, csp: str | None = CSP
    ) -> None:
        self.index = index
        self.csp = csp
        self.mounts: dict[str, Mount] = {}
        self.requests: list[tuple[int, str]] = []
        self.blocked: list[str] = []  # URLs the browser refused under the CSP (from its reports)
        self._gzipped: dict[Path, tuple[float, bytes]] = {}
        self._lock = threading.Lock()
        handler = _handler_for(self)
        self.httpd = BoundedHTTPServer((host, port), handler)
        self.httpd.handle_error = self._handle_error  # type: ignore[method-assign]
        self.port = int(self.httpd.server_address[1])
        self.origin = f"http://{host}:{self.port}"
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}", f"[::1]:{self.port}"}
        if self.port == 80:  # browsers leave the default port out of Host
            self.hosts |= {"127.0.0.1", "localhost", "[::1]"}
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="harness-static", daemon=True)
        self._thread.start()

    def mount(self, prefix: str, root: Path, allow: tuple[str, ...] | None = None) -> str:
        if not prefix.startswith("/") or not prefix.endswith("/"):
            raise ValueError("mount prefix must start and end with '/'")
        self.mounts[prefix] = Mount(Path(root), allow)
        return self.origin + prefix

    def url(self, path: str) -> str:
        return self.origin + path

    def find(self, url_path: str) -> Path | None:
        path = unquote(urlsplit(url_path).path)
        if "\x00" in path:
            return None
        if self.index and path.endswith("/"):
            path += self.index
        for prefix in sorted(self.mounts, key=len, reverse=True):
            if path.startswith(prefix):
                return self.mounts[prefix].resolve(path[len(prefix) :])
        return None

    def gzipped(self, path: Path, data: bytes) -> bytes:
        """The file gzip-encoded, computed once per version of the file (mtime)."""
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._gzipped.get(path)
            if cached is None or cached[0] != mtime:
                cached = (mtime, gzip.compress(data, compresslevel=6, mtime=0))
                self._gzipped[path] = cached
        return cached[1]

    def record_violation(self, body: bytes, client: tuple[str, int] | None = None) -> None:
        """A CSP report (report-uri format): the URL the browser refused goes into `blocked`, and
        into the reports of the engine whose namespace it came from (forward.py knows by the
        forwarded connection's address), so a late report is that engine's, not any engine's."""
        try:
            report = json.loads(body or b"{}")
        except ValueError:
            return
        if isinstance(report, dict):
            inner = report.get("csp-report", report)
            uri = inner.get("blocked-uri") or inner.get("blockedURL") if isinstance(inner, dict) else None
            self.blocked.append(str(uri or "?"))
            sink = forward.reports_of(client) if client is not None else None
            if sink is not None:
                sink.append(str(uri or "?"))

    def policy_for(self, client: tuple[str, int]) -> str | None:
        """The Content-Security-Policy of a response to `client`: stricter for an engine whose
        workers' refusals cannot be witnessed (told by the door its request came through)."""
        if self.csp and forward.engine_of(client) in NO_WORKER_ENGINES:
            return without_workers(self.csp)
        return self.csp

    def allowed_host(self, host: str | None) -> bool:
        return host is not None and host.strip().lower() in self.hosts

    def _handle_error(self, request: object, client_address: object) -> None:
        """A page closed mid-download (its fetches cut) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            ThreadingHTTPServer.handle_error(self.httpd, request, client_address)  # type: ignore[arg-type]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> StaticServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _handler_for(server: StaticServer) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = READ_TIMEOUT  # StreamRequestHandler sets it on the socket: every read is bounded
        _responded = False

        def handle_one_request(self) -> None:
            """BaseHTTPRequestHandler's, except that a request that started but did not arrive
            in time is answered 408, and any error while serving is a status code."""
            self._responded = False
            try:
                if not self.rfile.peek(1):  # type: ignore[attr-defined]
                    self.close_connection = True  # the client closed an idle connection
                    return
            except (TimeoutError, OSError):
                self.close_connection = True  # idle past the timeout: close it, nothing was asked
                return
            deadlines = self.server.deadlines  # type: ignore[attr-defined]
            deadlines.start(self.connection, REQUEST_DEADLINE)
            try:
                super().handle_one_request()
            except TimeoutError:
                self.close_connection = True
                self._error(HTTPStatus.REQUEST_TIMEOUT, "request not received in time")
            except ConnectionError:
                self.close_connection = True
            except Exception:  # noqa: BLE001 - a request must get a status code, whatever failed
                self.close_connection = True
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "the server could not answer this request")
            finally:
                if deadlines.done(self.connection):  # cut at its deadline: nothing more is read from it
                    self.close_connection = True
                    self._error(HTTPStatus.REQUEST_TIMEOUT, f"request not received within {REQUEST_DEADLINE:g} s")

        def log_error(self, format: str, *args: Any) -> None:
            if "timed out" in format % args:  # the base class swallows a timeout: answer it instead
                self._error(HTTPStatus.REQUEST_TIMEOUT, "request not received in time")

        def _error(self, code: HTTPStatus, message: str) -> None:
            if self._responded:
                return
            with contextlib.suppress(OSError):
                self.send_error(code, message)
                self.wfile.flush()

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            if self.server.deadlines.was_cut(self.connection):  # type: ignore[attr-defined]
                return self._refuse(HTTPStatus.REQUEST_TIMEOUT, f"request not received within {REQUEST_DEADLINE:g} s")
            hosts = self.headers.get_all("Host") or []
            if len(hosts) > 1:
                return self._refuse(HTTPStatus.BAD_REQUEST, "a request names one Host")
            target = urlsplit(self.path)
            absolute = bool(target.scheme or target.netloc)  # absolute form: it must name this server
            if absolute and (target.scheme != "http" or not server.allowed_host(target.netloc)):
                return self._refuse(HTTPStatus.BAD_REQUEST, "an absolute URI must name this server")
            if not server.allowed_host(self.headers.get("Host")):
                server.requests.append((421, self.path))
                self.close_connection = True
                self.send_error(
                    HTTPStatus.MISDIRECTED_REQUEST,
                    "this server answers only to 127.0.0.1, localhost and [::1] on its port",
                )
                return False
            return True

        def _refuse(self, code: HTTPStatus, message: str) -> bool:
            server.requests.append((int(code), self.path))
            self.close_connection = True
            self.send_error(code, message)
            return False

        def finish(self) -> None:
            self.server.deadlines.forget(self.connection)  # type: ignore[attr-defined]
            super().finish()

        def setup(self) -> None:
            super().setup()
            # Headers and body leave as two writes: with Nagle and delayed ACKs every kept-alive
            # request waited ~40 ms for nothing (measured in all three engines).
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            self._serve(head=False)

        def do_POST(self) -> None:  # noqa: N802
            """Only CSP violation reports are accepted; their body is bounded."""
            if urlsplit(self.path).path != CSP_REPORTS:
                server.requests.append((405, self.path))
                self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "only CSP reports are posted here")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REPORT_BYTES:
                self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "report too large")
                return
            server.record_violation(self.rfile.read(length), self.client_address[:2])
            self.server.deadlines.done(self.connection)  # type: ignore[attr-defined] # received whole
            server.requests.append((204, self.path))
            self.send_response(HTTPStatus.NO_CONTENT)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(head=True)

        def _serve(self, head: bool) -> None:
            self.server.deadlines.done(self.connection)  # type: ignore[attr-defined] # received; sending is not bounded
            if urlsplit(self.path).path == "/favicon.ico":  # asked for after load; a 404 is a console error
                server.requests.append((204, self.path))
                self.send_response(HTTPStatus.NO_CONTENT)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = server.find(self.path)
            data = None
            if target is not None:
                try:
                    data = target.read_bytes()
                except OSError:
                    data = None
            if target is None or data is None:
                server.requests.append((404, self.path))
                self.send_error(HTTPStatus.NOT_FOUND, "not served")
                return
            server.requests.append((200, self.path))
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", MIME.get(target.suffix, "application/octet-stream"))
            if target.suffix in GZIP_TYPES and "gzip" in self.headers.get("Accept-Encoding", ""):
                data = server.gzipped(target, data)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def send_response(self, code: int, message: str | None = None) -> None:
            """Every response, 200 or error (send_error starts here too), carries the isolation headers."""
            self._responded = True
            super().send_response(code, message)
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)
            policy = server.policy_for(self.client_address[:2])
            if policy:
                self.send_header("Content-Security-Policy", policy)

        def log_message(self, format: str, *args: object) -> None:  # quiet; requests are recorded
            pass

    return Handler

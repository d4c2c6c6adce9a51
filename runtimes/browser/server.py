"""A static file server for the browser runtimes, bound to 127.0.0.1 on a free port.

It serves only mounted folders (URL prefix -> directory, optionally limited to listed
sub-paths), refuses anything that resolves outside its mount (no path traversal), sends the
MIME types browsers insist on (application/wasm for streaming compilation) and the
cross-origin isolation headers (COOP/COEP) that let TF.js's wasm backend use threads.
"""

from __future__ import annotations

import sys
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

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
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


class Mount:
    def __init__(self, root: Path, allow: tuple[str, ...] | None) -> None:
        self.root = root.resolve()
        self.allow = allow  # relative sub-paths (files or folders) that may be served

    def resolve(self, rel: str) -> Path | None:
        target = (self.root / rel).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
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

    def __init__(self, host: str = "127.0.0.1", port: int = 0, index: str | None = None) -> None:
        self.index = index
        self.mounts: dict[str, Mount] = {}
        self.requests: list[tuple[int, str]] = []
        handler = _handler_for(self)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = self._handle_error  # type: ignore[method-assign]
        self.port = self.httpd.server_address[1]
        self.origin = f"http://{host}:{self.port}"
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

    def _handle_error(self, request: object, client_address: object) -> None:
        """A page closed mid-download (its fetches cut) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
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

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            self._serve(head=False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(head=True)

        def _serve(self, head: bool) -> None:
            target = server.find(self.path)
            if target is None:
                server.requests.append((404, self.path))
                self.send_error(HTTPStatus.NOT_FOUND, "not served")
                return
            data = target.read_bytes()
            server.requests.append((200, self.path))
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", MIME.get(target.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def send_response(self, code: int, message: str | None = None) -> None:
            """Every response, 200 or error (send_error starts here too), carries the isolation headers."""
            super().send_response(code, message)
            for name, value in ISOLATION_HEADERS.items():
                self.send_header(name, value)

        def log_message(self, format: str, *args: object) -> None:  # quiet; requests are recorded
            pass

    return Handler

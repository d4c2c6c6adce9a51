"""`harness app serve`: the built app on 127.0.0.1 with the harness's loopback server (COOP/COEP,
so the wasm backend gets threads), a folder URL answered by its index.html."""

from __future__ import annotations

import time
from pathlib import Path

from harness.app.build import DIST, read_build
from harness.core.errors import HarnessError
from runtimes.browser.server import StaticServer


def app_server(dist: Path = DIST, port: int = 0, prefix: str = "/") -> StaticServer:
    """The app's server (loopback, COOP/COEP) with `dist` mounted at `prefix`."""
    try:
        server = StaticServer(port=port, index="index.html")
    except OSError as e:
        raise HarnessError(f"cannot serve on 127.0.0.1:{port} ({e.strerror or e})") from None
    server.mount(prefix, dist)
    return server


def serve(port: int = 8000, dist: Path = DIST) -> None:
    """Serve the built app on http://127.0.0.1:PORT/ until interrupted (call `build` first)."""
    if read_build(dist) is None:
        raise HarnessError(f"{dist}: no built app (run `harness app build` first)")
    server = app_server(dist, port)
    print(f"serving {dist} at {server.origin}/ (Ctrl+C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.close()

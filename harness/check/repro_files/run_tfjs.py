#!/usr/bin/env python3
"""Reproduce one TF.js disagreement without the harness: serve this folder on 127.0.0.1 (with the
cross-origin isolation headers the harness serves, so wasm gets the same threads), open
page.html in a headless Chromium, and print the score the page computed.

    python3 run.py [--chromium /path/to/chromium]

First line printed: the score (Python's repr of the float64 the page's float32 becomes), to
compare with repro.json's "score" (what the harness printed). Needs Python 3.9+ and a
Chromium; the page, TF.js and the model are in this folder. The Chromium is ended by pid on
every path, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


class Handler(SimpleHTTPRequestHandler):
    results: list[dict[str, Any]] = []
    done = threading.Event()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(HERE), **kwargs)

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Handler.results.append(json.loads(body))
        self.send_response(204)
        self.end_headers()
        Handler.done.set()

    def log_message(self, *args: Any) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM"), help="the browser binary")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    chromium = args.chromium or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
    )
    if chromium is None:
        print("run.py: no Chromium found: pass --chromium PATH", file=sys.stderr)
        return 2
    expected = json.loads((HERE / "repro.json").read_text(encoding="utf-8"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="repro-chromium-")
    url = f"http://127.0.0.1:{server.server_address[1]}/page.html"
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", url]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not Handler.done.wait(args.timeout):
            print(f"run.py: the page reported nothing in {args.timeout:g} s", file=sys.stderr)
            return 1
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    got = Handler.results[0]
    if "error" in got:
        print(f"run.py: the page failed: {got['error']}", file=sys.stderr)
        return 1
    score = float(got["score"])
    print(repr(score))
    same = "the same" if score == expected["score"] else "DIFFERENT"
    facts = f"backend {got.get('backend')}, wasm {got.get('wasm_flavour')}, TF.js {got.get('tfjs')}"
    said = (
        f"the harness printed {expected['score']!r} ({same}); {expected['reference']}: {expected['reference_score']!r}"
    )
    print(f"{expected['runtime']} here: {score!r}; {said}; {facts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

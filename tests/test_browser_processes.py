"""No process the harness starts (browser, driver, node bridge, Xvfb) outlives it: on a normal
exit, on Ctrl-C (SIGINT) or SIGTERM in the middle of a run, and when a browser hangs at start.

Each test runs the real `harness predict` in a child process, records every process that
descends from it while it runs (by walking /proc), stops it, and checks that every one of
them is gone and no temporary browser profile is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.core.paths import REPO
from runtimes.browser import host

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ALL_ENGINES = "tfjs-wasm,firefox:tfjs-wasm,webkit:tfjs-wasm"
BROWSER_NAMES = ("chrom", "firefox", "MiniBrowser", "WebKit", "Xvfb", "node")


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _name(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "comm").read_text().strip()
    except OSError:
        return "?"


def _profiles(pid: int) -> list[str]:
    """Firefox profiles the harness process `pid` made (named after it)."""
    return [p.name for p in Path(tempfile.gettempdir()).glob(f"harness-firefox-{pid}-*")]


def _run_and_stop(args: list[str], stop_when, sig: int | None, env: dict[str, str] | None = None, timeout: float = 240):
    """Run `harness ...`; once `stop_when(descendant names)` holds, send `sig` (None: let it
    finish). Returns (exit code, every descendant seen while it ran, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=REPO, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    signalled = False
    while proc.poll() is None and time.monotonic() < deadline:
        now = descendants(proc.pid)
        seen |= now
        if sig is not None and not signalled and stop_when({_name(p) for p in now}):
            time.sleep(0.5)
            seen |= descendants(proc.pid)
            proc.send_signal(sig)
            signalled = True
        time.sleep(0.2)
    if proc.poll() is None:
        proc.kill()
        pytest.fail(f"harness {' '.join(args)} did not finish in {timeout} s")
    stderr = proc.stderr.read() if proc.stderr else ""
    return proc.returncode, seen, stderr, proc.pid


def _assert_all_gone(seen: set[int]) -> None:
    deadline = time.monotonic() + 10
    left = [p for p in seen if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [p for p in seen if alive(p)]
    assert not left, f"still running after the harness exited: {[(p, _name(p)) for p in left]}"


def _engines_up(names: set[str]) -> bool:
    joined = " ".join(names)
    return all(
        any(n in joined for n in group) for group in (("chrom",), ("firefox", "Web Content"), ("MiniBrowser", "WebKit"))
    )


@pytest.fixture(autouse=True)
def _all_engines():
    for engine in ("chromium", "firefox", "webkit"):
        if not host.availability(engine).ok:
            pytest.skip(f"{engine} unavailable here: {host.availability(engine).reason}")


# SIGINT (Ctrl-C) in make test. SIGTERM goes through the same handler in the CLI, and a normal
# exit through the same cleanup (the drivers' atexit and finally blocks): the nightly job runs those.
@pytest.mark.parametrize(
    "sig",
    [
        pytest.param(None, id="exit", marks=pytest.mark.nightly),
        pytest.param(signal.SIGINT, id="sigint"),
        pytest.param(signal.SIGTERM, id="sigterm", marks=pytest.mark.nightly),
    ],
)
def test_no_process_survives_a_run(sig):
    args = ["predict", "--runtimes", ALL_ENGINES, "--input", str(REPO / "golden" / "texts.jsonl")]
    code, seen, stderr, pid = _run_and_stop(args, _engines_up, sig)
    assert seen, "the run started no process at all"
    if sig is None:
        assert code == 0, stderr[-2000:]
    else:
        assert code == 130 and "interrupted" in stderr and "Traceback" not in stderr, stderr[-2000:]
    _assert_all_gone(seen)
    assert not _profiles(pid), "a Firefox profile was left in the temp folder"


def test_a_browser_that_hangs_at_start_is_stopped(tmp_path):
    """A Firefox that never answers, and a MiniBrowser that never opens a window: each launch
    gives up after HARNESS_BROWSER_START_TIMEOUT with a one-line reason, the other runtime
    still scores, and nothing is left running."""
    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nexec sleep 600\n")
    hang.chmod(0o755)
    env = {"HARNESS_FIREFOX": str(hang), "HARNESS_MINIBROWSER": str(hang), "HARNESS_BROWSER_START_TIMEOUT": "4"}
    args = ["predict", "--runtimes", "keras,firefox:tfjs-wasm,webkit:tfjs-wasm", "a fine film"]
    code, seen, stderr, pid = _run_and_stop(args, lambda names: False, None, env=env, timeout=180)
    assert code == 1, stderr[-2000:]
    lines = [
        line
        for line in stderr.splitlines()
        if line.startswith("harness predict: ") and (": load: " in line or ": tokenize: " in line)
    ]
    assert {line.split(": ")[1] for line in lines} == {"firefox:tfjs-wasm", "webkit:tfjs-wasm"}, stderr[-2000:]
    assert "Traceback" not in stderr
    _assert_all_gone(seen)
    assert not _profiles(pid)

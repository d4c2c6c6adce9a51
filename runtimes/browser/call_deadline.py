"""Every page call has a deadline that does not depend on the page: a watchdog outside it.

A page's own timer (Promise.race against setTimeout) cannot fire while the page's one thread
is stuck in `while (true) {}`: Chromium's page.evaluate then never returned (150 s and more),
WebKit's WebDriver script timeout never fired, and only Firefox's bridge gave up. So each call
runs under a watchdog thread; if the call has not returned `GRACE_S` after its deadline, the
watchdog kills the engine's content processes below this process that are busy (a stuck page
burns CPU; an idle one does not), which makes the driver's call fail at once. Either
way, a call past its deadline fails with "did not return within N s" and its page is discarded
(the next call opens a fresh one). The deadline is data: conformance.toml [containment]
page_call_seconds, or HARNESS_PAGE_CALL_SECONDS for one run.
"""

from __future__ import annotations

import os
import threading
import time
from types import TracebackType

from runtimes.browser import procs

GRACE_S = 2.0
DEFAULT_SECONDS = 30.0
ENV = "HARNESS_PAGE_CALL_SECONDS"
# How each engine's page (content) processes are told apart, by their command line.
CONTENT_PROCESS = {"chromium": "--type=renderer", "firefox": "-contentproc", "webkit": "WebKitWebProcess"}


def page_call_seconds() -> float:
    """The deadline of one page call that runs code the harness did not write (an app's module)."""
    raw = os.environ.get(ENV)
    if raw:
        try:
            return max(0.1, float(raw))
        except ValueError:
            pass
    from harness.core import config

    return float(config.load().get("containment", {}).get("page_call_seconds", DEFAULT_SECONDS))


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def busy_content_processes(engine: str, sample_s: float = 1.0) -> list[int]:
    """This process's descendants that are `engine`'s content processes and were the busiest
    over `sample_s` (at least half the busiest one's CPU time). Relative, not absolute: on a
    loaded machine a stuck page got a fifth of a core (load average 16 on 2 cores, measured)."""
    marker = CONTENT_PROCESS.get(engine)
    if marker is None:
        return []
    pids = [p for p in procs.descendants(os.getpid()) if marker in _cmdline(p)]
    before = {p: _cpu_ticks(p) for p in pids}
    time.sleep(sample_s)
    used = {p: _cpu_ticks(p) - before[p] for p in pids}
    most = max(used.values(), default=0)
    return [p for p in pids if most > 0 and used[p] * 2 >= most]


class Watchdog:
    """`with Watchdog("webkit", 30) as dog: ...`; `dog.fired` says it killed the stuck page."""

    def __init__(self, engine: str, seconds: float) -> None:
        self.engine, self.seconds = engine, seconds
        self.fired = False
        self.killed: list[int] = []
        self._timer = threading.Timer(seconds + GRACE_S, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        self.killed = busy_content_processes(self.engine)
        procs.stop_pids(self.killed, grace_s=0.5)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._timer.cancel()

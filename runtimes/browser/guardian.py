"""A watchdog process that ends every browser process the harness grew, even after kill -9.

Why a watchdog and not a PID namespace or a cgroup: the browsers are started by three
different launchers (Playwright's node driver, the Firefox bridge, Selenium's WebKitWebDriver
service), so a namespace would have to wrap each of them, and a cgroup needs a writable cgroup
v2 tree, which containers often do not give. PR_SET_PDEATHSIG (procs.spawn) reaches only the
direct child; a WebKitWebProcess, Chromium's crashpad handlers and Firefox's crash helper are
grandchildren, and after kill -9 of the harness they were re-parented to init and kept running
(a WebKitWebProcess at full CPU).

The guardian is started by the browser host (`python -m runtimes.browser.guardian PID`) in its
own session, so a Ctrl-C or kill of the harness's group does not reach it. Every POLL_S it
records the harness's descendants (pid, start time and process group). When the harness is
gone, however it ended, it SIGKILLs each recorded process group (never the harness's own,
which may hold the user's shell pipeline) and each recorded process still alive with the same
start time (a pid reused since is left alone), then exits. Processes that re-parent themselves
stay in their group, so a helper started between two polls dies with its group. When the
host closes everything itself it writes "done" on the guardian's stdin, and the guardian leaves.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys

from runtimes.browser import procs

POLL_S = 0.5
DONE = "done"


def start_time(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()
        return None if fields[0] == "Z" else int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def watch(harness: int) -> None:
    """Until `harness` (as it was when this began) is gone; then kill what it left."""
    born = start_time(harness)
    own_group = os.getpgid(harness) if born is not None else None
    known: dict[int, int] = {}
    groups: set[int] = set()
    while born is not None and start_time(harness) == born:
        for pid in procs.descendants(harness):
            started = start_time(pid)
            if started is not None and pid != os.getpid():
                known[pid] = started
                with contextlib.suppress(OSError):
                    groups.add(os.getpgid(pid))
        ready, _, _ = select.select([sys.stdin], [], [], POLL_S)
        if ready and sys.stdin.readline().strip() == DONE:
            return  # the host closed everything itself
    for group in groups - {own_group, os.getpgid(0)}:
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
    for pid, started in known.items():
        if start_time(pid) == started:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def start() -> subprocess.Popen[bytes]:
    """The guardian of this process (not die-with-parent: it must outlive a kill -9 of us)."""
    return procs.spawn(
        [sys.executable, "-m", "runtimes.browser.guardian", str(os.getpid())],
        die_with_parent=False,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def dismiss(guardian: subprocess.Popen[bytes]) -> None:
    """Tell the guardian everything is closed, so it leaves without killing anything (a line on
    its stdin, not a signal; it is reaped when it has gone)."""
    with contextlib.suppress(OSError, ValueError):
        assert guardian.stdin is not None
        guardian.stdin.write(DONE.encode() + b"\n")
        guardian.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        guardian.wait(timeout=2)


if __name__ == "__main__":
    watch(int(sys.argv[1]))

"""Child processes that can always be stopped: each in its own process group, ended by pid.

Every browser, driver and Xvfb the harness starts goes through `spawn`, so `stop` can end the
whole tree it grew (a browser's content processes share its group) without ever matching
processes by name. `die_with_parent` asks Linux to SIGTERM the child if this process dies
without cleaning up (SIGKILL, a crash): the last line of defence against leaks.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from typing import Any

_PR_SET_PDEATHSIG = 1
_prctl: Any
try:  # resolved here, in the parent: the child after fork only calls the function pointer
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def _pdeathsig() -> None:
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def popen_kwargs(die_with_parent: bool = True) -> dict[str, Any]:
    """For a Popen made elsewhere (Selenium's Service takes them as `popen_kw`)."""
    preexec = _pdeathsig if die_with_parent and _prctl is not None else None
    return {"start_new_session": True, "preexec_fn": preexec}


def spawn(argv: list[str], *, die_with_parent: bool = True, **kwargs: Any) -> subprocess.Popen[bytes]:
    """Popen in a new session (own process group, no terminal: Ctrl-C reaches only us).

    PR_SET_PDEATHSIG fires when the spawning *thread* ends: spawn from the main thread."""
    return subprocess.Popen(argv, **popen_kwargs(die_with_parent), **kwargs)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pgid: int | None, grace_s: float = 3.0) -> None:
    """SIGTERM the group, SIGKILL what is left after `grace_s`. Idempotent."""
    if not pgid or not group_alive(pgid):
        return
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        _reap(pgid)
        if not group_alive(pgid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    for _ in range(40):
        _reap(pgid)
        if not group_alive(pgid):
            return
        time.sleep(0.05)


def _reap(pgid: int) -> None:
    """Collect our own exited children of that group (a zombie still counts as alive to kill 0)."""
    try:
        while True:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
            if pid == 0:
                return
    except ChildProcessError:
        return


def stop(proc: subprocess.Popen[bytes] | None, grace_s: float = 3.0) -> None:
    """Stop a process spawned by `spawn` and everything in its group."""
    if proc is None:
        return
    stop_group(proc.pid, grace_s)
    with contextlib.suppress(subprocess.TimeoutExpired):  # reaps it; SIGKILL was sent already
        proc.wait(timeout=1)

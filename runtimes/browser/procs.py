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
from collections.abc import Callable
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


def popen_kwargs(die_with_parent: bool = True, enter: Callable[[], None] | None = None) -> dict[str, Any]:
    """For a Popen made elsewhere (Selenium's Service takes them as `popen_kw`). `enter`: run in
    the child before exec (joining the browsers' network namespace, network.py)."""
    steps = [f for f in (_pdeathsig if die_with_parent and _prctl is not None else None, enter) if f is not None]

    def preexec() -> None:
        for step in steps:
            step()

    return {"start_new_session": True, "preexec_fn": preexec if steps else None}


def spawn(
    argv: list[str], *, die_with_parent: bool = True, enter: Callable[[], None] | None = None, **kwargs: Any
) -> subprocess.Popen[bytes]:
    """Popen in a new session (own process group, no terminal: Ctrl-C reaches only us).

    PR_SET_PDEATHSIG fires when the spawning *thread* ends: spawn from the main thread."""
    return subprocess.Popen(argv, **popen_kwargs(die_with_parent, enter), **kwargs)


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


def descendants(pid: int) -> dict[int, str]:
    """Every live process below `pid` (by parent links in /proc), with its command name."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        head, _, rest = stat.rpartition(")")
        fields = rest.split()
        if len(fields) < 2 or fields[0] == "Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        names[int(entry.name)] = head.partition("(")[2]
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = names.get(child, "?")
                todo.append(child)
    return found


def stop_pids(pids: list[int], grace_s: float = 2.0) -> None:
    """SIGTERM each pid, SIGKILL what is left after `grace_s` (the last resort of a cleanup)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False

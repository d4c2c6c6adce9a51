"""The harness's end of the Core AI worker: one process in `.venv-coreai`, stopped by pid.

Core AI cannot be imported here (see runtimes/coreai_env.py), so a session starts
`python -m runtimes.coreai_worker.serve` with that environment's Python and speaks JSON lines
with it (runtimes/coreai_worker/protocol.py). The process is spawned in its own group with a
die-with-parent signal (runtimes/browser/procs.py), its stdin closing also ends it, and `close`
(a session's exit, Ctrl-C's unwinding, atexit) stops it by pid. A crash of the beta engine
becomes a HarnessError carrying the last lines it wrote to stderr.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import subprocess
import tempfile
import time
from typing import Any

from harness.core.errors import HarnessError
from harness.core.paths import REPO
from runtimes import coreai_env
from runtimes.browser import procs
from runtimes.coreai_worker import protocol

MODULE = "runtimes.coreai_worker.serve"
STDERR_TAIL = 600  # characters of the worker's stderr quoted when it dies
_LIVE: set[Worker] = set()


class Worker:
    """A running worker; `call` sends one request and returns its answer or raises with its words."""

    def __init__(self) -> None:
        st = coreai_env.status()
        if not st.ok:
            raise HarnessError(f"Core AI is unavailable: {st.reason}")
        # a file, not a pipe: a chatty engine can never block on it; closed by `close`
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "VIRTUAL_ENV")}
        env.update(PYTHONPATH=str(REPO), PYTHONNOUSERSITE="1", KERAS_BACKEND="torch", PYTHONUNBUFFERED="1")
        started = time.perf_counter()
        self.proc: subprocess.Popen[bytes] | None = procs.spawn(
            [str(coreai_env.python()), "-m", MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            cwd=str(REPO),
        )
        _LIVE.add(self)
        try:
            hello = self.call("hello")
        except BaseException:  # it could not even start (a broken environment): never leave it running
            self.close()
            raise
        self.start_seconds = time.perf_counter() - started
        self.pid = int(hello["pid"])
        self.versions: dict[str, str] = hello["versions"]
        self.engine: str = hello["engine"]

    def _tail(self) -> str:
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 4 * STDERR_TAIL))
        text = self._stderr.read().decode("utf-8", errors="replace")
        lines = [ln for ln in text.splitlines() if ln.strip() and "Warning" not in ln]
        return " | ".join(lines)[-STDERR_TAIL:]

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        proc = self.proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise HarnessError("the Core AI worker is closed")
        with contextlib.suppress(BrokenPipeError):  # it died: the read below says how
            protocol.write_message(proc.stdin, {"op": op, **fields})  # type: ignore[arg-type]
        while proc.poll() is None and not select.select([proc.stdout], [], [], 1.0)[0]:
            pass
        reply = protocol.read_message(proc.stdout)  # type: ignore[arg-type]
        if reply is None:
            code = proc.wait(timeout=5)
            tail = self._tail()
            self.close()
            raise HarnessError(f"the Core AI worker died (exit code {code}) during {op!r}: {tail}")
        if not reply.get("ok"):
            raise HarnessError(f"Core AI: {reply.get('error', 'unknown error')}")
        return reply

    def close(self) -> None:
        """Ask it to quit, then stop its process group by pid whatever it did. Idempotent."""
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        if proc is None:
            return
        try:
            if proc.poll() is None and proc.stdin is not None:
                protocol.write_message(proc.stdin, {"op": "quit"})  # type: ignore[arg-type]
                proc.wait(timeout=5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        finally:
            procs.stop(proc)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):  # a dead reader: the unflushed request is moot
                        stream.close()
            self._stderr.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@atexit.register
def _stop_all() -> None:
    for worker in list(_LIVE):
        worker.close()

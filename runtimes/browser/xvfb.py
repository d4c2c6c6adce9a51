"""The process's one Xvfb (for engines with no headless mode), started and stopped by pid, never `xvfb-run`.

`xvfb-run` leaves MiniBrowser and Xvfb running when it is killed (FACTS), and it searches
for a free display with a race. Xvfb's own `-displayfd` picks a free display atomically and
writes its number to a pipe once the server accepts connections: no polling, no sleep.
"""

from __future__ import annotations

import os
import select
import shutil
import tempfile
import time
from typing import Any

from runtimes.browser import procs
from runtimes.browser.driver import BrowserError

INSTALL_HINT = "apt-get install -y xvfb (as root)"


def available() -> bool:
    return shutil.which("Xvfb") is not None


class Xvfb:
    def __init__(self, screen: str = "1280x800x24") -> None:
        self.screen = screen
        self.proc: Any = None
        self.display: str | None = None
        self.start_seconds = 0.0

    def start(self, timeout_s: float = 10.0) -> str:
        if self.proc is not None and self.display is not None:
            return self.display
        exe = shutil.which("Xvfb")
        if exe is None:
            raise BrowserError(f"browser: Xvfb not found; {INSTALL_HINT}")
        t0 = time.perf_counter()
        read_fd, write_fd = os.pipe()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as Xvfb
        try:
            argv = [
                exe,
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                self.screen,
                "-nolisten",
                "tcp",
                "-noreset",
            ]
            self.proc = procs.spawn(
                argv,
                pass_fds=(write_fd,),
                stdin=procs.subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
            )
            os.close(write_fd)
            write_fd = -1
            number = self._read_display(read_fd, timeout_s)
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        self.display = f":{number}"
        self.start_seconds = time.perf_counter() - t0
        return self.display

    def _read_display(self, fd: int, timeout_s: float) -> int:
        data = b""
        deadline = time.monotonic() + timeout_s
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise BrowserError(f"browser: Xvfb gave no display within {timeout_s} s{self._tail()}")
            chunk = os.read(fd, 64)
            if not chunk:  # Xvfb exited
                raise BrowserError(f"browser: Xvfb exited at start{self._tail()}")
            data += chunk
        return int(data)

    def _tail(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return f": {lines[-1]}" if lines else ""

    def env(self) -> dict[str, str]:
        """Environment for a child that should draw on this display (and nowhere else)."""
        return {"DISPLAY": self.display or "", "WAYLAND_DISPLAY": ""}

    def stop(self) -> None:
        procs.stop(self.proc)
        self.proc = None
        self.display = None

    def __enter__(self) -> Xvfb:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

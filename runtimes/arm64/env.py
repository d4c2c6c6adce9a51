"""Where the arm64 environment lives and whether it is there (scripts/ensure_arm64.sh makes it).

Its root holds `sysroot/` (Debian's arm64 python3.11, unpacked), `site/` (the aarch64
ai-edge-litert and numpy wheels) and `env.json` (what setup found), or `unavailable.txt` with
the reason setup gave up. Reading these is cheap: `harness runtimes` lists the arm64 runtimes
without starting qemu.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.core.paths import REPO

SETUP = (
    "rm -rf .venv/arm64 && make setup"
    " (scripts/ensure_arm64.sh; its log says why; qemu-user from bookworm-backports needs root)"
)
MIN_QEMU = (8, 1)  # bookworm's 7.2 crashes in LiteRT's Interpreter() and gives wrong int8 with -cpu max


def root() -> Path:
    return Path(os.environ.get("HARNESS_ARM64_ROOT") or REPO / ".venv" / "arm64")


@dataclass(frozen=True)
class Arm64Env:
    root: Path
    qemu: str  # the qemu-aarch64 binary

    @property
    def sysroot(self) -> Path:
        return self.root / "sysroot"

    @property
    def python(self) -> Path:
        return self.sysroot / "usr" / "bin" / "python3.11"

    @property
    def site(self) -> Path:
        return self.root / "site"

    def argv(self, cpu: str, script: Path) -> list[str]:
        """qemu user mode: the guest's libraries from the sysroot (-L), no binfmt, no chroot."""
        return [self.qemu, "-L", str(self.sysroot), "-cpu", cpu, str(self.python), "-u", str(script)]

    def environ(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR")}
        return {**keep, "PYTHONPATH": str(self.site), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}


@lru_cache(maxsize=4)
def qemu_version(qemu: str) -> str:
    """ "10.0.2" from `qemu-aarch64 --version`, or "" when it does not answer."""
    try:
        out = subprocess.run([qemu, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    m = re.search(r"version (\d+\.\d+(?:\.\d+)?)", out)
    return m.group(1) if m else ""


def find() -> tuple[Arm64Env | None, str]:
    """(the environment, "") when it can run, else (None, why not)."""
    base = root()
    given_up = base / "unavailable.txt"
    if given_up.is_file():
        return None, f"arm64 setup gave up: {given_up.read_text(encoding='utf-8').strip()}"
    qemu = shutil.which("qemu-aarch64")
    if qemu is None:
        return None, "qemu-aarch64 is not installed"
    version = qemu_version(qemu)
    numbers = tuple(int(x) for x in version.split(".")[:2]) if version else (0, 0)
    if numbers < MIN_QEMU:
        return None, f"qemu-aarch64 {version or '?'} is older than {'.'.join(map(str, MIN_QEMU))}"
    env = Arm64Env(base, qemu)
    if not env.python.is_file() or not (env.site / "ai_edge_litert").is_dir():
        return None, f"no arm64 Python with LiteRT under {base}"
    return env, ""

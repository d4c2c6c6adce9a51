"""Where Core AI lives: the second environment `.venv-coreai`, and whether it can run here.

`make setup` builds it (scripts/ensure_coreai.sh) from constraints-coreai.txt, or, when it
cannot, writes the reason to `.venv-coreai.failed` and lets the rest of the set-up succeed.
Everything here reads files only (no process, no import of Apple's packages), so listing the
runtimes stays instant. `HARNESS_COREAI_VENV` points at another environment.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path

from harness.core.paths import REPO

VENV_NAME = ".venv-coreai"
STAMP = ".setup-stamp"
PACKAGES = (
    "coreai-torch",
    "coreai-core",
    "torch",
    "keras",
)  # the converter first (doctor names it): keys the export cache
SETUP_HINT = "make setup (builds .venv-coreai from constraints-coreai.txt)"


def venv() -> Path:
    explicit = os.environ.get("HARNESS_COREAI_VENV")
    return Path(explicit) if explicit else REPO / VENV_NAME


def python() -> Path:
    return venv() / "bin" / "python"


def failure_file() -> Path:
    folder = venv()
    return folder.with_name(folder.name + ".failed")


@dataclass(frozen=True)
class Status:
    ok: bool
    reason: str = ""


def status() -> Status:
    """Whether the environment is built, else why not (the reason `make setup` recorded)."""
    if python().is_file() and (venv() / STAMP).is_file():
        return Status(True)
    failed = failure_file()
    if failed.is_file():
        words = " ".join(failed.read_text(encoding="utf-8", errors="replace").split())[:300]
        return Status(False, f"{venv().name} could not be built: {words}")
    return Status(False, f"{venv()} is missing (Core AI cannot share .venv: coreai-core needs numpy >= 2.3)")


def _site_packages() -> list[str]:
    return [str(p) for p in sorted((venv() / "lib").glob("python3*/site-packages"))]


def versions() -> dict[str, str]:
    """The installed versions of PACKAGES in that environment ("absent" for a missing one)."""
    found = {name: "absent" for name in PACKAGES}
    for dist in importlib.metadata.distributions(path=_site_packages()):
        name = str(dist.metadata["Name"] or "").lower().replace("_", "-")
        if name in found:
            found[name] = dist.version
    return found

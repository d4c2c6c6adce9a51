"""Runs an ES module script in Node, as the web app's tests do, and reads its JSON output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def run_json(script: str, *args: str, cwd: Path | None = None, timeout: float = 60) -> Any:
    """`node --input-type=module -e script args...`; its stdout parsed as JSON (exit 0 asserted)."""
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", script, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)

"""reports/history.jsonl: one line per report, append-only, never rewritten.

Appends take an exclusive lock and write the whole line in one call, so concurrent runs
interleave whole lines and a killed run cannot leave half a line; readers skip (and count)
any line that does not parse rather than fail.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any


def entry(report: dict[str, Any]) -> dict[str, Any]:
    runtimes = {}
    for rid, row in report.get("runtimes", {}).items():
        lat = row.get("latency") or {}
        runtimes[rid] = {
            "max_abs_diff": (row.get("agreement") or {}).get("max_abs_diff"),
            "p95_ms": (lat.get("single_ms") or {}).get("p95"),
        }
    return {
        "finished_at": report.get("finished_at"),
        "bundle_hash": report.get("bundle_hash"),
        "hostname": (report.get("environment") or {}).get("hostname"),
        "status": report.get("status"),
        "verdict": report.get("verdict"),
        "runtimes": runtimes,
    }


def append(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry(report), ensure_ascii=True) + "\n").encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            out.append(row)
    return out

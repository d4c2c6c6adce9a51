"""reports/history.jsonl: one line per report, append-only, never rewritten.

Appends take an exclusive lock and write the whole line in one call, so concurrent runs
interleave whole lines and a killed run cannot leave half a line; readers skip any line that
does not parse rather than fail (the file outlives harness versions).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from pydantic import ValidationError

from harness.core import strict_json
from harness.results import HistoryEntry, Report


def append(path: Path, report: Report) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (strict_json.dumps(report.history_entry().model_dump(mode="json"), ensure_ascii=True) + "\n").encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read(path: Path) -> list[HistoryEntry]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            out.append(HistoryEntry.model_validate_json(line))
        except ValidationError:
            continue
    return out

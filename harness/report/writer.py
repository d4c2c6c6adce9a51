"""Where reports go and how they are written: each run in its own folder, every file atomic,
`reports/latest` swapped to the newest, one history line appended."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from harness.core import atomic
from harness.core.paths import REPO
from harness.report import history, schema
from harness.report.model import Report

REPORTS = Path(os.environ.get("HARNESS_REPORTS", REPO / "reports"))
HISTORY = REPORTS / "history.jsonl"


def default_out() -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return REPORTS / "runs" / f"{stamp}-{os.getpid()}"


def write(report: Report, out: Path, history_path: Path | None = HISTORY) -> Path:
    """report.json (checked against the committed schema), report.html, junit.xml (each
    atomically), then the history line."""
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / "report.json", schema.dumps(report))
    from harness.report import html as report_html
    from harness.report import junit as report_junit

    hist = history.read(history_path) if history_path else []
    current = [report.history_entry()] if history_path else []
    atomic.write_text(out / "report.html", report_html.render(report, hist + current))
    atomic.write_text(out / "junit.xml", report_junit.render(report))
    if history_path:
        history.append(history_path, report)
    _point_latest(out)
    return out


def _point_latest(out: Path) -> None:
    """reports/latest -> the newest run folder, swapped atomically."""
    if not out.resolve().is_relative_to((REPORTS / "runs").resolve()):
        return
    link = REPORTS / "latest"
    tmp = REPORTS / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(out.resolve().relative_to(REPORTS.resolve()))
    if link.exists() and not link.is_symlink():
        return  # a real folder someone made: leave it alone
    os.replace(tmp, link)

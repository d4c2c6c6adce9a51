"""Where reports go and how they are written, so that a result is never lost.

- Each run writes into its own new folder (`reports/runs/<time>-<pid>`); `reports/latest` is
  swapped to it only when the run is complete (an interrupted run, or one in which no
  requested runtime ran, leaves `latest` on the last complete one).
- `--out D` is checked before anything runs: D must be missing, empty or a report folder
  (report.json and the files the harness writes beside it, nothing else), so a user's folder
  is never written into. An incomplete run never replaces a complete report in D: it is
  written beside it (`D.incomplete-<time>`) and the command says where.
- A folder is replaced whole (staged beside it, then swapped), so a reader sees the old
  report or the new one, never a mix; the history line is appended after.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from harness.core import atomic, json_reader
from harness.core.errors import HarnessError
from harness.core.paths import REPO
from harness.report import history, schema
from harness.results import Report

REPORTS = Path(os.environ.get("HARNESS_REPORTS", REPO / "reports"))
HISTORY = REPORTS / "history.jsonl"
REPORT = "report.json"
# What a report folder holds: the report, its views, and what `signoff` files beside them.
REPORT_FILES = frozenset({REPORT, "report.html", "junit.xml", "signoff.json", "conformance-junit.xml"})


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def default_out() -> Path:
    """A new folder for this run; never one that exists."""
    base = REPORTS / "runs" / f"{_stamp()}-{os.getpid()}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def check_out(out: Path) -> None:
    """Refuse, before anything runs, an --out the harness must not or cannot write into: a
    file, a folder holding anything that is not the harness's own (judged by content: a user's
    own report.json is theirs), or a place this process cannot create files in."""
    if out.exists() and not out.is_dir():
        raise HarnessError(f"{out}: --out must be a folder, and this is a file")
    if out.is_dir():
        names = {p.name for p in out.iterdir()}
        foreign = sorted(names - REPORT_FILES)
        if foreign:
            raise HarnessError(
                f"{out}: not a report folder (it holds {', '.join(foreign[:3])}); "
                "refusing to write into it (choose an empty or new --out)"
            )
        theirs = sorted(n for n in names if not _ours(out / n))
        if theirs:
            raise HarnessError(
                f"{out}: not a report folder (its {', '.join(theirs[:3])} was not written by the harness); "
                "refusing to write into it (choose an empty or new --out)"
            )
    _check_writable(out)


def _ours(path: Path) -> bool:
    """Whether a file with a report folder's name is one the harness wrote, by its content."""
    if path.is_symlink() or not path.is_file():
        return False
    if path.suffix == ".json":
        try:
            data = json_reader.read_file(path)
        except HarnessError:
            return False
        return isinstance(data, dict) and str(data.get("schema", "")).startswith(
            ("harness-report/", "harness-signoff/")
        )
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if path.suffix == ".xml":
        return b"<testsuites" in head
    return head.lstrip().startswith(b"<!DOCTYPE html>") and (path.parent / REPORT).is_file()


def _check_writable(out: Path) -> None:
    """Create (and remove) a file where the report is staged (beside `out`) and in `out` when
    it exists: the only sure test (root passes every permission check, but not a read-only
    mount or an immutable folder)."""
    place = out.parent
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        raise HarnessError(f"{out}: cannot be created ({place} is not a folder); choose another --out")
    for folder in (place, out) if out.is_dir() else (place,):
        try:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".harness-write-probe-")
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise HarnessError(
                f"{out}: cannot write there ({folder}: {e.strerror or type(e).__name__}); choose another --out"
            ) from None


def holds_complete_report(out: Path) -> bool:
    path = out / REPORT
    try:
        data = json_reader.read_file(path, "report")
    except HarnessError:
        return False
    return isinstance(data, dict) and data.get("status") == "complete"


def keeps_latest(report: Report) -> bool:
    """Only a complete run in which a requested runtime ran becomes reports/latest."""
    return report.status == "complete" and report.verdict != "incomplete"


def destination(report: Report, out: Path) -> Path:
    """Where `report` may go when asked for `out`: there, unless that would put an incomplete
    report over a complete one (then beside it)."""
    if report.status != "complete" and holds_complete_report(out):
        return out.with_name(f"{out.name}.incomplete-{_stamp()}")
    return out


def write(report: Report, out: Path, history_path: Path | None = HISTORY) -> Path:
    """report.json (checked against the committed schema), report.html and junit.xml into
    `destination(report, out)`, swapped in whole; then the history line. Returns the folder."""
    check_out(out)
    target = destination(report, out)
    text = schema.dumps(report)
    from harness.report import html as report_html
    from harness.report import junit as report_junit

    hist = history.read(history_path) if history_path else []
    current = [report.history_entry()] if history_path else []
    html = report_html.render(report, hist + current)
    junit = report_junit.render(report)
    try:
        with atomic.staged_dir(target) as stage:
            for p in sorted(target.iterdir()) if target.is_dir() else []:
                if p.is_file() and p.name not in (REPORT, "report.html", "junit.xml"):
                    shutil.copy2(p, stage / p.name)  # signoff.json, the suite's junit: they stay with it
            atomic.write_text(stage / REPORT, text)
            atomic.write_text(stage / "report.html", html)
            atomic.write_text(stage / "junit.xml", junit)
    except OSError as e:  # the folder went away or read-only since check_out: keep the finished report
        kept = _rescue({REPORT: text, "report.html": html, "junit.xml": junit})
        raise HarnessError(
            f"{target}: cannot write the report there ({e.strerror or type(e).__name__}); it is kept in {kept}"
        ) from None
    if history_path:
        history.append(history_path, report)
    if keeps_latest(report):
        _point_latest(target)
    return target


def _rescue(files: dict[str, str]) -> Path:
    """A finished report that could not go where asked: into a new run folder, else a temporary one."""
    for make in (lambda: _fresh(default_out()), lambda: Path(tempfile.mkdtemp(prefix="harness-report-"))):
        try:
            folder = make()
            for name, content in files.items():
                atomic.write_text(folder / name, content)
            return folder
        except OSError:
            continue
    raise HarnessError("cannot write the finished report anywhere (no writable reports folder nor temporary folder)")


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


def _point_latest(out: Path) -> None:
    """reports/latest -> the newest complete run folder, swapped atomically."""
    if not out.resolve().is_relative_to((REPORTS / "runs").resolve()):
        return
    link = REPORTS / "latest"
    tmp = REPORTS / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(out.resolve().relative_to(REPORTS.resolve()))
    if link.exists() and not link.is_symlink():
        return  # a real folder someone made: leave it alone
    os.replace(tmp, link)

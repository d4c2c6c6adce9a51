"""The report's summary on a terminal: one line per subject (runtime, tokenizer, size target)."""

from __future__ import annotations

from pathlib import Path

from harness.report.fmt import sig
from harness.report.model import Gate, Report


def _subject_verdict(gs: list[Gate]) -> str:
    if any(g.blocking for g in gs):
        return "FAIL"
    if any(g.waived for g in gs):
        return "waived"
    if any(g.evaluated and g.state == "advisory" for g in gs):  # failed, shown, not required (webgl16)
        return "advisory"
    return "pass" if all(g.passed for g in gs) else "n/a"


def print_summary(report: Report, out: Path) -> None:
    print(
        f"{report.kind} {report.status}: bundle {report.bundle_hash[:12]}, "
        f"{report.cases.held_out} held-out reviews, {report.seconds} s"
    )
    if report.bundle_metrics:  # the bundle's own training record (metrics.json)
        splits = ", ".join(f"{s} accuracy {m.accuracy:.4f} (n={m.n})" for s, m in report.bundle_metrics.items())
        print(f"  bundle metrics: {splits}")
    by_subject: dict[str, list[Gate]] = {}
    for g in report.gates:
        by_subject.setdefault(g.subject, []).append(g)
    for subject, gs in by_subject.items():
        row = report.runtimes.get(subject)
        extra = ""
        if row is not None and row.error is not None:
            extra = f"error at {row.error.line()}"
        elif row is not None and row.agreement is not None and row.accuracy is not None:
            diff = row.agreement.max_abs_diff
            extra = f"max|diff| {diff:.2e}  acc {row.accuracy:.4f}" if diff is not None else f"acc {row.accuracy:.4f}"
            if row.latency is not None:
                lat = row.latency.single_ms  # 3 significant digits: LiteRT's p50 is a few microseconds
                extra += f"  p50 {sig(lat.p50)} ms  p95 {sig(lat.p95)} ms"
        why = "; ".join(
            f"{g.gate}: {g.detail or g.value}" if g.evaluated else f"{g.gate} not evaluated: {g.detail}"
            for g in gs
            if g.blocking or not g.evaluated or g.state == "advisory"
        )
        print(f"  {subject:<22} {_subject_verdict(gs):<6} {extra}{('  ' + why) if why else ''}")
    print(f"verdict: {report.verdict.upper()}")
    written = [str(out / n) for n in ("report.json", "report.html", "junit.xml") if (out / n).is_file()]
    print(f"wrote {', '.join(written)}")

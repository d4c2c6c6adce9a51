"""The report's summary on a terminal: one line per subject (runtime, tokenizer, size target)."""

from __future__ import annotations

from pathlib import Path

from harness.report.fmt import sig
from harness.results import Gate, Report


def _subject_verdict(gs: list[Gate]) -> str:
    if any(g.blocking for g in gs):
        return "FAIL"
    if any(g.waived for g in gs):
        return "waived"
    if any(g.evaluated and g.state == "advisory" for g in gs):  # failed, shown, not required (webgl16)
        return "advisory"
    return "pass" if all(g.passed for g in gs) else "n/a"


def speed_lines(report: Report) -> None:
    """How sure the speed verdicts are (the widest interval, the inconclusive gates, what the
    timing cost) and the step changes against this machine's history."""
    speed = [g for g in report.gates if g.interval is not None]
    if speed:
        widest = max(speed, key=_relative_width)
        inconclusive = sum(g.inconclusive for g in speed)
        spent = sum(r.latency.seconds or 0 for r in report.runtimes.values() if r.latency is not None)
        print(
            f"  speed gates: {len(speed)} judged from intervals, {inconclusive} inconclusive, "
            f"{spent:.1f} s of timing; widest {widest.id}: {widest.detail}"
        )
    for t in report.speed_trends:
        if t.flagged:
            print(
                f"  step change: {t.runtime} {t.label} {sig(t.current)} is {t.ratio:.2f}x the last "
                f"{t.baseline_runs} runs on this machine (median {sig(t.baseline_median)}, "
                f"p={t.p_value:.2g}): {t.direction}"
            )


def _relative_width(g: Gate) -> float:
    """(high - low) / value of a speed gate's interval; an unbounded side is infinitely wide."""
    low, high = (g.interval or [None, None])[:2]
    if low is None or high is None or not g.value:
        return float("inf")
    return (high - low) / g.value


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
            if g.blocking or not g.evaluated or g.inconclusive or g.state == "advisory"
        )
        print(f"  {subject:<22} {_subject_verdict(gs):<6} {extra}{('  ' + why) if why else ''}")
    speed_lines(report)
    print(f"verdict: {report.verdict.upper()}")
    written = [str(out / n) for n in ("report.json", "report.html", "junit.xml") if (out / n).is_file()]
    print(f"wrote {', '.join(written)}")

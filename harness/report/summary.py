"""The report's summary on a terminal: one line per subject (runtime, tokenizer, size target)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.check import gates


def print_summary(report: dict[str, Any], out: Path) -> None:
    print(
        f"{report['kind']} {report['status']}: bundle {report['bundle_hash'][:12]}, {report['cases'].get('held_out', 0)} held-out reviews, {report['seconds']} s"
    )
    trained = report.get("bundle_metrics") or {}
    if trained:  # the bundle's own training record (metrics.json)
        print(
            "  bundle metrics: "
            + ", ".join(f"{split} accuracy {m['accuracy']:.4f} (n={m['n']})" for split, m in trained.items())
        )
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for g in report["gates"]:
        by_subject.setdefault(g["subject"], []).append(g)
    for subject, gs in by_subject.items():
        failed = gates.blocking(gs)
        waived = [g for g in gs if g["waived"]]
        verdict = "FAIL" if failed else "waived" if waived else "pass" if all(g["passed"] for g in gs) else "n/a"
        row = report["runtimes"].get(subject, {})
        extra = ""
        if row and row.get("status") == "error":
            err = row["error"]
            extra = f"error at {err['step']}: {err['message']}"
        elif row:
            lat = (row.get("latency") or {}).get("single_ms") or {}
            extra = f"max|diff| {row['agreement']['max_abs_diff']:.2e}  acc {row['accuracy']:.4f}" + (
                f"  p50 {lat['p50']:.2f} ms  p95 {lat['p95']:.2f} ms" if lat else ""
            )
        why = "; ".join(f"{g['gate']}: {g['detail'] or g['value']}" for g in failed)
        print(f"  {subject:<22} {verdict:<6} {extra}{('  ' + why) if why else ''}")
    print(f"verdict: {report['verdict'].upper()}")
    written = [str(out / n) for n in ("report.json", "report.html", "junit.xml") if (out / n).is_file()]
    print(f"wrote {', '.join(written)}")

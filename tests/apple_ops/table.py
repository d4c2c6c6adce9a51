"""The replay summary as text: totals per precision, refusals by op, every mismatch and error."""

from __future__ import annotations

from typing import Any


def render(summary: dict[str, Any], reasons: int = 3) -> str:
    lines = ["", "coreml-ref vs Apple's MIL op tests"]
    lines.append(f"  {'precision':<10}{'passed':>8}{'refused':>9}{'mismatched':>12}{'error':>7}{'beyond fp16':>13}")
    for precision, t in summary["totals"].items():
        lines.append(
            f"  {precision:<10}{t['passed']:>8}{t['refused']:>9}{t['mismatched']:>12}{t['error']:>7}"
            f"{t.get('out of fp16 range', 0):>13}"
        )
    lines.append(
        f"  (fp32 cases whose fp16-typed program passed only at the fp16 tolerance: {summary['fp32_at_fp16_tolerance']})"
    )
    if summary["refused_by_op"]:
        lines.append(f"  refused, by op ({'fp16':>5} {'fp32':>5}): reasons")
        for op, r in summary["refused_by_op"].items():
            top = "; ".join(f"{why} x{n}" for why, n in list(r["reasons"].items())[:reasons])
            lines.append(f"    {op:<28} {r['fp16']:>5} {r['fp32']:>5}  {top}")
    for c in summary.get("out_of_fp16_range", []):
        lines.append(f"  beyond fp16: {c['test']} [{c['precision']}]: {c['reason']}")
    for kind in ("mismatches", "errors"):
        for c in summary[kind]:
            lines.append(f"  {kind[:-2] if kind == 'mismatches' else 'error'}: {c['test']} [{c['precision']}] "
                         f"max |diff| {c['max_abs_diff']}: {c['reason']}")  # fmt: skip
    lines.append(f"  ({summary['seconds']} s; pytest outcomes {summary['pytest_outcomes']})")
    return "\n".join(lines)

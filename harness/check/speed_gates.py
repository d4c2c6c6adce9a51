"""Speed gates judged from intervals: pass when the whole interval lies within the budget,
fail when it lies beyond, otherwise inconclusive (advisory: shown with its figures and why,
never fatal). The budget is the one conformance.toml writes, scaled by the calibration factor
measured beside the runtime (harness/core/calibration.py) unless the runtime stands for a
phone (absolute budgets). A latency record without intervals (a report from before them) is
judged by its point values, as it was then.
"""

from __future__ import annotations

import math
from typing import Any

from harness.results import Gate

# gate -> (figure's interval key, point value, budget key, calibration factor key, unit, at_most)
_SPEC = {
    "latency_p50": ("p50_interval", ("single_ms", "p50"), "p50_ms", "p50_factor", "ms", True),
    "latency_p95": ("p95_interval", ("single_ms", "p95"), "p95_ms", "p95_factor", "ms", True),
    "throughput": (
        "throughput_interval",
        ("batch_reviews_per_second", None),
        "min_reviews_per_second",
        "throughput_factor",
        "reviews/s",
        False,
    ),
}


def _num(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "unbounded"
    return f"{x:.3g}"


def judged_budget(written: float, factor: float, *, at_most: bool) -> float:
    """A latency budget grows with the factor; a throughput floor shrinks with it."""
    return written * factor if at_most else written / factor


def speed_gate(gate: str, runtime_id: str, *, latency: dict[str, Any], budget: dict[str, float]) -> Gate | None:
    key, (field, sub), budget_key, factor_key, unit, at_most = _SPEC[gate]
    value = latency.get(field)
    if isinstance(value, dict):
        value = value.get(sub) if sub else None
    if value is None or budget_key not in budget:
        return None
    written = float(budget[budget_key])
    cal = latency.get("calibration") or {}
    factor = float(cal.get(factor_key, 1.0)) if cal.get("applied") else 1.0
    too_busy = factor > float(cal.get("max_factor", math.inf))  # then only a pass is trusted
    factor = min(factor, float(cal.get("max_factor", math.inf)))
    limit = judged_budget(written, factor, at_most=at_most)
    interval = latency.get(key)
    relation = "<=" if at_most else ">="
    scaled = f"{_num(written)} {unit} x {factor:.2f} calibration" if factor != 1.0 else f"{_num(written)} {unit}"
    if not interval:
        passed = value <= limit if at_most else value >= limit
        detail = "" if passed else "one measurement, no interval"
        return Gate.make(gate, runtime_id, passed, value=value, budget=limit, unit=unit, detail=detail)
    low = -math.inf if interval[0] is None else float(interval[0])
    high = math.inf if interval[1] is None else float(interval[1])
    conf = float(latency.get("confidence", 0.95))
    inside = high <= limit if at_most else low >= limit
    beyond = low > limit if at_most else high < limit
    figures = f"{_num(value)} {unit}, {conf:.0%} interval [{_num(low)}, {_num(high)}]"
    if inside or (beyond and not too_busy):
        where = "within" if inside else "beyond"
        detail = f"{figures} {where} the budget {relation} {scaled}"
        return Gate.make(
            gate,
            runtime_id,
            inside,
            value=value,
            budget=limit,
            unit=unit,
            detail=detail,
            interval=[interval[0], interval[1]],
            confidence=conf,
            budget_factor=factor,
        )
    why = (
        f"machine too busy to judge: calibration {float(cal.get(factor_key, 1.0)):.1f}x slower than the "
        "budgets' machine"
        if too_busy
        else "noisy machine: the interval did not settle within the time cap"
    )
    detail = f"inconclusive ({why}): {figures} {'beyond' if beyond else 'straddles'} the budget {relation} {scaled}"

    return Gate.make(
        gate,
        runtime_id,
        False,
        value=value,
        budget=limit,
        unit=unit,
        detail=detail,
        required=False,
        interval=[interval[0], interval[1]],
        confidence=conf,
        budget_factor=factor,
        inconclusive=True,
    )


def wall_clock_budget(written: float, calibration: dict[str, Any] | None) -> tuple[float, str]:
    """A one-off wall-clock time (a model's load, the web app's first prediction) has no
    interval, but a busy machine slows it as much as anything: its budget is scaled by the
    calibration's p50 factor (capped at max_factor), with the words saying so."""
    cal = calibration or {}
    if not cal.get("applied"):
        return written, ""
    factor = min(float(cal.get("p50_factor", 1.0)), float(cal.get("max_factor", math.inf)))
    if factor == 1.0:
        return written, ""
    return written * factor, f"; budget {_num(written)} x {factor:.2f} calibration"


def speed_gates(runtime_id: str, latency: dict[str, Any], budget: dict[str, float]) -> list[Gate]:
    """latency_p50, latency_p95 and throughput of one runtime (those it has figures for)."""
    return [g for name in _SPEC if (g := speed_gate(name, runtime_id, latency=latency, budget=budget)) is not None]

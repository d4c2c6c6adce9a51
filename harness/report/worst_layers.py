"""The per-layer view (`harness compare --layers`) of the worst cases the report shows a chart for.

For the worst case of each runtime that failed agreement, and of each reduced-precision
runtime (so a passing report still shows where fp16 or uint8 numbers grow), the report
carries that case's tensor-by-tensor |diff| (`WorstCase.layers`), drawn as the small
per-layer chart in report.html. The sessions are the report's own, already open.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from harness.check.layers import TensorDiff, trace
from harness.results import LayerDiff, RuntimeRow, WorstCase
from harness.run.engines import Engines
from runtimes.failures import RuntimeFailed
from runtimes.tensors import OUTPUT


def wanted(engines: Engines, rows: dict[str, RuntimeRow]) -> list[str]:
    """Runtimes whose worst case gets the layer view: failing agreement, or not float32."""
    out = []
    for rid, row in rows.items():
        if rid == engines.reference or row.status != "ran":
            continue
        failing = row.agreement is not None and not row.agreement.passed
        if failing or engines.runtimes[rid].spec.precision != "float32":
            out.append(rid)
    return out


def attach(
    engines: Engines, worst: list[WorstCase], rows: dict[str, RuntimeRow], *, on_progress: Callable[[str], None]
) -> None:
    """Fill `layers` (and `layers_atol`) of each chosen runtime's worst case, in place."""
    for rid in wanted(engines, rows):
        case = next((w for w in worst if w.runtime == rid), None)
        if case is None:
            continue
        on_progress(f"{rid}: worst case layer by layer")
        try:
            reference = trace(engines, case.text, case.case_id, runtime_ids=[rid])
            found = reference.runtimes[0]
        except RuntimeFailed:
            continue  # the reference could not show its tensors: no chart, the rows say why elsewhere
        if found.error is not None:
            continue
        case.layers_atol, case.layers_rtol = found.atol, found.rtol
        inbound = {t.probe: t.inbound for t in reference.tensors if t.kind == OUTPUT}
        case.layers = [
            LayerDiff(
                layer=r.label,
                max_abs_diff=r.max_abs_diff,
                mean_abs_diff=r.mean_abs_diff,
                detail=r.detail,
                over=r.over,
                **scale_free(r),
                inbound=inbound.get(r.probe),
            )
            for r in found.rows
        ]


def scale_free(row: TensorDiff) -> dict[str, Any]:
    """A row's scale-free numbers for the report: finite or null (JSON has no inf; an infinite SNR
    is an identical tensor, which max_abs_diff 0 already says)."""

    def finite(v: float | None) -> float | None:
        return v if v is not None and math.isfinite(v) else None

    names = ("snr_db", "cosine", "min_atol", "min_rtol")
    return {**{n: finite(getattr(row, n)) for n in names}, "histogram": row.histogram}

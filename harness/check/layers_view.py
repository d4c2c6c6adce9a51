"""The table `harness compare --layers` prints: per runtime, one line per Keras tensor."""

from __future__ import annotations

import json

from harness.check.layers import LayerTrace, RuntimeTrace, TensorDiff, trace
from harness.core import strict_json
from harness.core.bundle import Bundle
from harness.core.cases import Case
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.failures import RuntimeFailed
from runtimes.selection import Selection


def run_layers(bundle: Bundle, cases: list[Case], selection: Selection, as_json: bool, out: list[str]) -> int:
    """The per-layer view of each case into `out` (a table, or one JSON object per case);
    1 when a runtime could not run or its score is outside its tolerance."""
    failed = False
    with Engines(bundle, selection.runtimes, [tokenizers.REFERENCE]) as engines:
        for case in cases:
            try:
                found = trace(engines, case.text, case.id)
            except RuntimeFailed as e:
                out.append(strict_json.dumps({"case_id": case.id, "error": str(e)}) if as_json else f"ERROR {e}")
                failed = True
                continue
            for rt in found.runtimes:
                atol = engines.tolerance(rt.runtime).atol
                off = rt.score is None or rt.reference_score is None or abs(rt.score - rt.reference_score) > atol
                failed = failed or rt.error is not None or off
            missing = {rid: str(why) for rid, why in selection.unavailable.items()}
            if as_json:
                out.append(strict_json.dumps({**found.as_json(), "unavailable": missing}, ensure_ascii=False))
            else:
                out.extend(lines(found) + [f"  {rid}: not run here: {why}" for rid, why in missing.items()])
    return 1 if failed else 0


def _g(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.{digits - 1}e}"


def lines(trace: LayerTrace) -> list[str]:
    shown = trace.text if len(trace.text) <= 200 else trace.text[:200] + f"… ({len(trace.text)} chars)"
    out = [
        f"text: {json.dumps(shown, ensure_ascii=False)}  (case {trace.case_id})",
        f"  ids {trace.ids}: every runtime gets these (the reference tokenizer's), so the diffs are the model's",
        f"  reference {trace.reference}:",
    ]
    width = max([len(t.label) for t in trace.tensors] + [6])
    out.append(f"    {'tensor':<{width}}  {'shape':<14} max|x|")
    for t in trace.tensors:
        out.append(f"    {t.label:<{width}}  {str(t.shape):<14} {_g(t.max_abs)}")
    for rt in trace.runtimes:
        out.extend(runtime_lines(rt, width))
    return out


def runtime_lines(rt: RuntimeTrace, width: int) -> list[str]:
    head = f"  {rt.runtime} ({rt.precision}; a tensor is over when |diff| > {rt.atol:g}"
    head += f" + {rt.rtol:g}*max|keras|)" if rt.rtol else ")"
    if rt.error is not None:
        return [f"{head}: ERROR {rt.error}"]
    if rt.score is not None and rt.reference_score is not None:
        head += f": score {rt.score:.6f} vs {rt.reference_score:.6f} (|diff| {_g(abs(rt.score - rt.reference_score))})"
    if rt.cannot_expose is not None:
        return [head, f"    cannot expose its tensors: {rt.cannot_expose}"]
    out = [head, f"    {'tensor':<{width}}  {'max|diff|':>9}  {'mean|diff|':>10}  {'worst at':<12} {'keras -> runtime':<24} runtime tensor"]  # fmt: skip
    first = rt.first_over
    for row in rt.rows:
        out.append("    " + _row(row, width) + ("  <- first over" if row is first else ""))
    verdict = f"first over: {first.label}" if first else "no tensor over the bar"
    out.append(f"    {verdict}")
    return out


def _row(row: TensorDiff, width: int) -> str:
    if row.max_abs_diff is None:
        return f"{row.label:<{width}}  {'-':>9}  {'-':>10}  {row.detail}"
    where = str(row.worst_index or [])
    values = f"{_g(row.worst_reference, 5)} -> {_g(row.worst_value, 5)}"
    node = f"{row.node} ({row.op})" if row.op else str(row.node)
    note = f"  [{row.detail}]" if row.detail else ""
    mark = "!" if row.over else " "
    return f"{row.label:<{width}}  {_g(row.max_abs_diff):>9}{mark} {_g(row.mean_abs_diff):>10}  {where:<12} {values:<24} {node}{note}"  # fmt: skip

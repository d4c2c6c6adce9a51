"""The table `harness compare --layers` prints: per runtime, one line per Keras tensor."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from harness.check import model_explorer as node_data
from harness.check.layers import LayerTrace, RuntimeTrace, TensorDiff, trace
from harness.check.tensor_metrics import BIN_LABELS, sparkline
from harness.core import strict_json
from harness.core.bundle import Bundle
from harness.core.cases import Case
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.failures import RuntimeFailed
from runtimes.selection import Selection


def run_layers(
    bundle: Bundle,
    cases: list[Case],
    selection: Selection,
    *,
    as_json: bool,
    out: list[str],
    isolated: bool = False,
    model_explorer: str | None = None,
) -> int:
    """The per-layer view of each case into `out` (a table, or one JSON object per case);
    `isolated`: with the error each layer adds by itself (harness/check/isolate.py);
    `model_explorer`: a folder for Model Explorer node data (harness/check/model_explorer.py).
    1 when a runtime could not run or its score is outside its tolerance."""
    failed = False
    with Engines(bundle, selection.runtimes, [tokenizers.REFERENCE]) as engines:
        for case in cases:
            try:
                found = trace(engines, case.text, case.id, isolated=isolated)
            except RuntimeFailed as e:
                out.append(strict_json.dumps({"case_id": case.id, "error": str(e)}) if as_json else f"ERROR {e}")
                failed = True
                continue
            for rt in found.runtimes:
                atol = engines.tolerance(rt.runtime).atol
                off = rt.score is None or rt.reference_score is None or abs(rt.score - rt.reference_score) > atol
                failed = failed or rt.error is not None or off
            if model_explorer is not None:
                for path in node_data.write(found, Path(model_explorer), per_case=len(cases) > 1):
                    print(f"Model Explorer node data: {path}", file=sys.stderr)
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
    iso = rt.isolated and rt.cannot_isolate is None
    extra = f"  {'introduced':>10} {'inherited':>9}" if iso else ""
    out = [
        head,
        f"    {'tensor':<{width}}  {'max|diff|':>9}  {'mean|diff|':>10}{extra}  {'SNR dB':>7} {'cosine':>9}"
        f" {'min rtol':>8} {'|diff| by decade':<{len(BIN_LABELS)}}  {'worst at':<12} "
        f"{'keras -> runtime':<24} runtime tensor",
    ]
    first = rt.first_over
    for row in rt.rows:
        out.append("    " + _row(row, width, iso) + ("  <- first over" if row is first else ""))
    verdict = f"first over: {first.label}" if first else "no tensor over the bar"
    out.append(f"    {verdict}")
    if rt.isolated and rt.cannot_isolate is not None:
        out.append(f"    cannot isolate (shown as run end to end only): {rt.cannot_isolate}")
    elif rt.isolated:
        most = rt.most_introduced
        if most is None or most.introduced is None:
            out.append(
                "    adds most by itself: none (every layer, on the reference's inputs, gives the reference's values)"
            )
        else:
            i = most.introduced
            out.append(
                f"    adds most by itself: {most.label} ({most.op or 'its ops'}; on the reference's inputs"
                f" max|diff| {_g(i.max_abs_diff)}, SNR {_db(i.snr_db)} dB)"
            )
    out.append(f"    |diff| by decade: {' '.join(BIN_LABELS)} (counts in --json)")
    return out


def _db(value: float | None) -> str:
    if value is None:
        return "-"
    return "exact" if math.isinf(value) and value > 0 else f"{value:.1f}"


def _row(row: TensorDiff, width: int, iso: bool = False) -> str:
    if row.max_abs_diff is None:
        return f"{row.label:<{width}}  {'-':>9}  {'-':>10}  {row.detail}"
    where = str(row.worst_index or [])
    values = f"{_g(row.worst_reference, 5)} -> {_g(row.worst_value, 5)}"
    node = f"{row.node} ({row.op})" if row.op else str(row.node)
    note = f"  [{row.detail}]" if row.detail else ""
    mark = "!" if row.over else " "
    extra = ""
    if iso:
        i = row.introduced
        extra = f"  {_g(i.max_abs_diff):>10} {_g(i.inherited_max_abs_diff):>9}" if i else f"  {'-':>10} {'-':>9}"
    cos = "-" if row.cosine is None else f"{row.cosine:.6f}"
    hist = sparkline(row.histogram or [])
    metrics = f"{_db(row.snr_db):>7} {cos:>9} {_g(row.min_rtol):>8} {hist:<{len(BIN_LABELS)}}"
    return (
        f"{row.label:<{width}}  {_g(row.max_abs_diff):>9}{mark} {_g(row.mean_abs_diff):>10}{extra}  {metrics}"
        f"  {where:<12} {values:<24} {node}{note}"
    )

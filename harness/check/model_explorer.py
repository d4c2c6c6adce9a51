"""`harness compare --layers --model-explorer DIR`: per-runtime node data for Google's Model Explorer.

Model Explorer colours a model's graph by per-node values read from a node-data JSON file
(google-ai-edge/model-explorer, src/server/package/src/model_explorer/node_data_builder.py:
`GraphNodeData` = {name, results: {node key: {value, bgColor?}}, thresholds: [{value, bgColor}]}).
A node key is a node id or one of its output tensor names, so each runtime's file is keyed
by that runtime's own tensor names, the ones `compare --layers` matched (a TF.js node name
is a GraphDef node name, which Model Explorer's GraphDef adapter uses as the node id; MIL
variable names for Core ML; layer names for Keras). One file per runtime: Model Explorer
shows one model at a time, and every runtime's graph is its own.

The value is the tensor's SNR against the reference in dB (scale-free: it reads the same on
an embedding and on a logit), capped at `CAP_DB` (an identical tensor has an infinite SNR, and
Model Explorer takes numbers only); the thresholds are report.html's bands.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from harness.check.layers import LayerTrace, RuntimeTrace
from harness.core import atomic

CAP_DB = 160.0  # above float32's own resolution (~150 dB): written for identical tensors too
THRESHOLDS = ((20.0, "#cf222e"), (40.0, "#e3b341"), (60.0, "#a2c94f"), (CAP_DB, "#2da44e"))


def graph_node_data(trace: LayerTrace, rt: RuntimeTrace) -> dict[str, Any]:
    """One runtime's GraphNodeData: its matched tensors' SNR against the reference."""
    results: dict[str, dict[str, Any]] = {}
    for row in rt.rows:
        if row.node is None or row.snr_db is None or math.isnan(row.snr_db):
            continue
        value = min(row.snr_db, CAP_DB) if row.snr_db > -math.inf else -CAP_DB
        if row.node not in results or value < results[row.node]["value"]:  # one tensor, several probes: the worst
            results[row.node] = {"value": round(value, 3)}
    return {
        "name": f"SNR dB vs {trace.reference}: {rt.runtime}, case {trace.case_id}",
        "results": results,
        "thresholds": [{"value": v, "bgColor": c} for v, c in THRESHOLDS],
    }


def write(trace: LayerTrace, folder: Path, *, per_case: bool = False) -> list[Path]:
    """`<runtime>.json` per runtime that showed its tensors (under `<case id>/` when `per_case`),
    each written atomically; the paths written."""
    out = Path(folder) / trace.case_id if per_case else Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rt in trace.runtimes:
        if rt.error is not None or rt.cannot_expose is not None:
            continue
        path = out / f"{rt.runtime.replace('/', '_')}.json"
        atomic.write_json(path, graph_node_data(trace, rt))
        written.append(path)
    return written

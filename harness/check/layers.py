"""`harness compare --layers`: where a runtime's numbers part from the reference, tensor by tensor.

After Polygraphy's `--outputs mark all` (TensorRT/ONNX) and coremltools' MLModelComparator
(macOS only), across Keras, TF.js in a browser and Core ML: one review's token ids go through
every runtime, each runtime shows the tensors it can (runtimes/tensors.py), each tensor is
matched to a Keras layer's (harness/check/layer_map.py: derived from the artifact's names and
op order, never written per model) and compared with it. Every runtime gets the same ids (the
reference tokenizer's), so a difference here is the model's, not a tokenizer's.

Per tensor: max and mean |diff|, the worst element's position and both values; per runtime:
the first tensor whose max |diff| exceeds the per-tensor bar of its precision class
(`Tolerance.per_tensor`: conformance.toml [tolerance.<class>] layer_atol; why those values is
written there). A runtime that cannot show a tensor says why, in place of the number.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from harness.check import isolate, layer_map, tensor_metrics
from harness.check.isolate import IsolatedDiff
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.failures import RuntimeFailed, step
from runtimes.tensors import STATE_C, CannotExpose, Probe, TensorGraph


@dataclass
class TensorDiff:
    probe: str  # the Keras tensor ("conv:pre")
    label: str  # how the table names it ("conv (before relu)")
    node: str | None = None  # the runtime's own tensor it was matched to
    op: str = ""
    max_abs_diff: float | None = None  # None: not compared (detail says why)
    mean_abs_diff: float | None = None
    worst_index: list[int] | None = None  # position of the worst element, in the Keras tensor's shape
    worst_reference: float | None = None
    worst_value: float | None = None
    over: bool = False  # some element's |diff| above the runtime's per-tensor bar
    detail: str = ""
    # Scale-free (harness/check/tensor_metrics.py): SNR in dB, cosine, the smallest atol (rtol 0)
    # and rtol (atol 0) that would pass, |diff| counts per decade (tensor_metrics.BIN_LABELS).
    snr_db: float | None = None
    cosine: float | None = None
    mse: float | None = None
    min_atol: float | None = None
    min_rtol: float | None = None
    histogram: list[int] | None = None
    # --isolate (harness/check/isolate.py): this tensor computed by the runtime from the
    # reference's own inputs to it, against the reference (the error this layer adds), and the
    # full run's value against that one (the error it was handed).
    introduced: IsolatedDiff | None = None


@dataclass
class RuntimeTrace:
    runtime: str
    precision: str
    atol: float  # the per-tensor bar of its precision class: |diff| <= atol + rtol * max |keras tensor|
    rtol: float
    score: float | None = None
    reference_score: float | None = None
    rows: list[TensorDiff] = field(default_factory=list)
    error: str | None = None  # it could not run at all (the step and the engine's words)
    cannot_expose: str | None = None  # it ran but shows no intermediate tensor (why)
    isolated: bool = False  # --isolate was asked for
    cannot_isolate: str | None = None  # --isolate: why this engine cannot be entered in the middle

    @property
    def first_over(self) -> TensorDiff | None:
        return next((r for r in self.rows if r.over), None)

    @property
    def most_introduced(self) -> TensorDiff | None:
        """--isolate: the tensor whose layer adds the most error by itself (isolate.most_introduced)."""
        found = isolate.most_introduced([(r.probe, r.introduced) for r in self.rows])
        return next((r for r in self.rows if r.probe == found), None)


@dataclass
class ReferenceTensor:
    probe: str
    label: str
    layer: str
    kind: str
    shape: list[int]
    max_abs: float
    inbound: list[str] = field(default_factory=list)  # the layers it reads (the model's layer graph)


@dataclass
class LayerTrace:
    text: str
    case_id: str
    ids: list[int]
    reference: str
    tensors: list[ReferenceTensor]
    runtimes: list[RuntimeTrace]

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for trace, raw in zip(self.runtimes, out["runtimes"], strict=True):
            first = trace.first_over
            raw["first_over"] = first.probe if first else None
            if trace.isolated:
                most = trace.most_introduced
                raw["most_introduced"] = most.probe if most else None
        return _finite_json(out)


def trace(
    engines: Engines,
    text: str,
    case_id: str = "arg-1",
    *,
    runtime_ids: list[str] | None = None,
    isolated: bool = False,
) -> LayerTrace:
    """`text` through the reference and every other runtime of `engines` (or `runtime_ids`),
    tensor by tensor; `isolated`: also each layer on the reference's own inputs (isolate.py).
    Raises RuntimeFailed when the reference cannot run or show its tensors."""
    ids = engines.tokenize(tokenizers.REFERENCE, [text])[:1].astype(np.int32)
    ref_id = engines.reference
    session = engines.session(ref_id)
    with step(ref_id, "run", engines.runtimes[ref_id].context()):
        reference = session.tensor_graph()
        if not reference.is_keras:
            raise CannotExpose(f"the reference {ref_id} has no Keras layers to localize against")
        ref_values = session.intermediates(ids, [p.name for p in reference.probes])
    ref_score = float(engines.scores(ref_id, ids)[0])
    tensors = [
        ReferenceTensor(
            p.name,
            p.label,
            p.layer,
            p.kind,
            list(ref_values[p.name].shape),
            float(np.max(np.abs(ref_values[p.name]))) if ref_values[p.name].size else 0.0,
            list(p.inbound),
        )
        for p in reference.probes
    ]
    runtimes = [
        _runtime(engines, rid, ids, reference=reference, ref=ref_values, ref_score=ref_score, isolated=isolated)
        for rid in (runtime_ids or engines.runtime_ids)
        if rid != ref_id
    ]
    pad = engines.bundle.tokenizer_info().pad_id
    row = [int(i) for i in ids[0]]
    return LayerTrace(text, case_id, [i for i in row if i != pad], ref_id, tensors, runtimes)


def _runtime(
    engines: Engines,
    rid: str,
    ids: np.ndarray,
    *,
    reference: TensorGraph,
    ref: dict[str, np.ndarray],
    ref_score: float,
    isolated: bool = False,
) -> RuntimeTrace:
    spec = engines.runtimes[rid].spec
    atol, rtol = engines.tolerance(rid).per_tensor
    out = RuntimeTrace(rid, spec.precision, atol, rtol, reference_score=ref_score, isolated=isolated)
    try:
        out.score = float(engines.scores(rid, ids)[0])
        session = engines.session(rid)
        with step(rid, "run", engines.runtimes[rid].context()):
            try:
                graph = session.tensor_graph()
                values, rows = _match(session, graph, reference=reference, ids=ids)
            except CannotExpose as e:
                out.cannot_expose = str(e)
                out.rows = [TensorDiff(p.name, p.label, detail=f"cannot expose: {e}") for p in reference.probes]
                return out
    except RuntimeFailed as e:
        out.error = e.failure.line()
        return out
    for row in rows:
        if row.node is not None:
            _diff(row, ref[row.probe], values[row.node], atol=atol, rtol=rtol)
    out.rows = rows
    if isolated:
        _isolate(engines, out, ids, ref=ref, values=values)
    return out


def _isolate(
    engines: Engines, out: RuntimeTrace, ids: np.ndarray, *, ref: dict[str, np.ndarray], values: dict[str, np.ndarray]
) -> None:
    """Fill each row's `introduced`, or the runtime's `cannot_isolate` (the engine's reason)."""
    matched = [(r.probe, r.node if r.max_abs_diff is not None else None) for r in out.rows]
    try:
        with step(out.runtime, "isolate", engines.runtimes[out.runtime].context()):
            try:
                found = isolate.isolate(engines.session(out.runtime), ids, matched, reference=ref, values=values)
            except CannotExpose as e:
                out.cannot_isolate = str(e)
                return
    except RuntimeFailed as e:
        out.cannot_isolate = e.failure.line()
        return
    for row in out.rows:
        row.introduced = found.get(row.probe)


def _match(
    session: Any, graph: TensorGraph, *, reference: TensorGraph, ids: np.ndarray
) -> tuple[dict[str, np.ndarray], list[TensorDiff]]:
    """Each probe's tensor in this runtime: the first candidate with the Keras tensor's shape."""
    probes = {p.name: p for p in reference.probes}
    if graph.is_keras:  # another Keras model (a variant of the reference): same layer names
        names = [p.name for p in reference.probes if p.name in {q.name for q in graph.probes}]
        values = session.intermediates(ids, names)
        rows = [
            TensorDiff(
                p.name,
                p.label,
                p.name if p.name in values else None,
                p.layer_class,
                detail="" if p.name in values else "no such layer",
            )
            for p in reference.probes
        ]
        return values, rows
    wanted = layer_map.candidates(reference, graph)
    names = list(dict.fromkeys(n for c in wanted for n in c.nodes))
    values = session.intermediates(ids, names) if names else {}
    ops = {n.name: n.op for n in graph.nodes}
    ref_shapes = {p.name: _squeezed(p, ids.shape[0]) for p in reference.probes}
    chosen: dict[str, str] = {}
    rows = []
    for c in wanted:
        row = TensorDiff(c.probe.name, c.probe.label, detail=c.note)
        node = None
        if c.follows and c.follows in chosen:
            node = chosen[c.follows]
        elif c.probe.kind == STATE_C and not c.nodes:
            found = layer_map.cell_state_of(chosen.get(c.probe.layer, ""), graph)
            if found is not None:
                values.update(session.intermediates(ids, [found]))
                node, row.detail = found, "the input of tanh in h = o * tanh(c) at the last step"
            else:
                row.detail = "not identified among the unrolled ops (the output is not h = o * tanh(c) here)"
        else:
            node = next((n for n in c.nodes if _fits(values.get(n), ref_shapes[c.probe.name])), None)
            if node is None and c.nodes:
                last = values.get(c.nodes[0])
                got = list(last.shape) if last is not None else "?"
                row.detail = (
                    f"no tensor of shape {list(probes[c.probe.name].shape)} among its ops (last: {c.nodes[0]} {got})"
                )
        if node is not None:
            chosen[c.probe.name] = node
            row.node, row.op = node, ops.get(node, "")
        rows.append(row)
    return values, rows


def _squeezed(probe: Probe, batch: int) -> tuple[int, ...]:
    return tuple(d for d in (batch if d is None else d for d in probe.shape) if d != 1)


def _fits(value: np.ndarray | None, shape: tuple[int, ...]) -> bool:
    if value is None or value.dtype.kind != "f":
        return False
    return tuple(d for d in value.shape if d != 1) == shape


def _diff(row: TensorDiff, ref: np.ndarray, got: np.ndarray, *, atol: float, rtol: float) -> None:
    want = np.asarray(ref, dtype=np.float64)
    d = tensor_metrics.abs_diff(want, got)
    m = tensor_metrics.measure(want, got)
    row.max_abs_diff, row.mean_abs_diff, row.mse = m.max_abs_diff, m.mean_abs_diff, m.mse
    row.snr_db, row.cosine, row.min_atol, row.min_rtol = m.snr_db, m.cosine, m.min_atol, m.min_rtol
    row.histogram = list(m.histogram)
    if d.size == 0:
        return
    have = np.asarray(got, dtype=np.float64).reshape(want.shape)
    worst = np.unravel_index(int(np.argmax(d)), d.shape)
    row.worst_index = [int(i) for i in worst]
    row.worst_reference, row.worst_value = float(want[worst]), float(have[worst])
    row.over = bool(np.any(d > atol + rtol * float(np.abs(want).max())))


def _finite_json(value: Any) -> Any:
    """JSON has no inf or NaN: they become the strings "inf", "-inf", "nan"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_json(v) for v in value]
    return value

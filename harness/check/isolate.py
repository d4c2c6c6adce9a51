"""`harness compare --layers --isolate`: the error each layer adds, apart from the error it inherits.

In a full run a tensor's |diff| is everything upstream plus its own. After Polygraphy's
`debug reduce` (each subgraph fed the reference's own inputs), every matched tensor of a
runtime is computed again by that runtime with the tensors of the layers before it replaced
by the reference's values (`Session.replay`, runtimes/base.py):

- introduced: that value against the reference's: the error this layer's ops add by themselves;
- inherited: the full run's value against that value: the error handed to it from upstream,
  as this layer's ops carry it on.

Which engine can be entered in the middle, and how (each says why it cannot otherwise):
- keras variants: every layer is a callable, run on the fed values (runtimes/keras_replay.py);
- TF.js graph models: the graph executor takes any node as an input (`model.execute({node: t})`);
- coreml-ref: op by op, each fed variable pinned to the reference's value (rounded to its dtype,
  as the engine would store it), so what follows runs on it;
- engines that run only whole models (Apple's Core ML, the LiteRT interpreter, whose
  intermediate tensors are read-only views once invoked) say so and show the full-run view only.
A path from the ids that no fed tensor cuts (an op the mapping did not match) still carries
the runtime's own values: the fed tensors are those the table matched, and only those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.check import tensor_metrics


@dataclass
class IsolatedDiff:
    """The error one tensor's layer adds by itself, or why it could not be isolated."""

    max_abs_diff: float | None = None
    mean_abs_diff: float | None = None
    snr_db: float | None = None
    min_atol: float | None = None
    inherited_max_abs_diff: float | None = None  # full run vs this isolated value
    detail: str = ""  # how it was entered, or why it could not be


def isolate(
    session: Any,
    ids: np.ndarray,
    matched: list[tuple[str, str | None]],
    *,
    reference: dict[str, np.ndarray],
    values: dict[str, np.ndarray],
) -> dict[str, IsolatedDiff]:
    """For each (probe, node) in probe order whose node was matched and has a value in the full
    run (`values`, by node), its IsolatedDiff, by probe. Raises CannotExpose when the session
    cannot be entered in the middle."""
    out: dict[str, IsolatedDiff] = {}
    fed: dict[str, np.ndarray] = {}  # node -> the reference's value, in the runtime's shape
    fed_probe: dict[str, str] = {}
    for probe, node in matched:
        if node is None or node not in values:
            continue
        if node in fed:  # a layer with no op of its own, compared at an earlier probe's tensor
            same = f"the same tensor as {fed_probe[node]}'s: adds nothing"
            out[probe] = IsolatedDiff(0.0, 0.0, math.inf, 0.0, _max_abs(values[node], fed[node]), same)
            continue
        feeds = dict(fed)
        got = session.replay(ids, feeds, [node])[node]
        m = tensor_metrics.measure(reference[probe], got)
        upstream = ", ".join(dict.fromkeys(fed_probe[n] for n in feeds)) or "the ids only"
        inherited = _max_abs(values[node], got)
        out[probe] = IsolatedDiff(m.max_abs_diff, m.mean_abs_diff, m.snr_db, m.min_atol, inherited, f"fed: {upstream}")
        fed[node] = np.asarray(reference[probe]).reshape(values[node].shape)
        fed_probe[node] = probe
    return out


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    d = tensor_metrics.abs_diff(np.asarray(b), np.asarray(a))
    return float(d.max()) if d.size else 0.0


def most_introduced(rows: list[tuple[str, IsolatedDiff | None]]) -> str | None:
    """The probe whose layer adds the most error by itself: the lowest introduced SNR (scale-free),
    then the largest introduced max |diff|; None when no layer adds any."""
    scored = [(p, d) for p, d in rows if d is not None and d.max_abs_diff]
    if not scored:
        return None

    def badness(pd: tuple[str, IsolatedDiff]) -> tuple[float, float]:
        snr = pd[1].snr_db
        return (snr if snr is not None else math.inf, -(pd[1].max_abs_diff or 0.0))

    return min(scored, key=badness)[0]

"""The worst cases of a run, and the per-layer view of one of them."""

from __future__ import annotations

from harness.results.base import Record


class LayerDiff(Record):
    """One layer of a worst case traced through a runtime (`harness compare --layers`)."""

    layer: str
    max_abs_diff: float | None  # null: the runtime cannot expose this tensor (detail says why)
    mean_abs_diff: float | None = None
    detail: str = ""
    over: bool = False  # above the runtime's per-tensor bar (WorstCase.layers_atol, plus its rtol)
    # Scale-free (harness/check/tensor_metrics.py); snr_db null: not compared, or identical (max_abs_diff 0).
    snr_db: float | None = None
    cosine: float | None = None
    min_atol: float | None = None  # the smallest atol that would pass with rtol 0
    min_rtol: float | None = None  # the smallest rtol that would pass with atol 0 (|diff| <= rtol * max |keras|)
    histogram: list[int] | None = None  # |diff| counts per decade: 0, <1e-7, <1e-6 ... <1e0, >=1
    inbound: list[str] | None = None  # the layers this one reads (its layer output only): the graph's edges


class WorstCase(Record):
    runtime: str
    case_id: str
    text: str
    reference: float | None
    score: float | None
    diff: float | None
    command: str | None = None  # the command that reproduces it
    layers_command: str | None = None  # the same case layer by layer (`harness compare --layers`)
    layers: list[LayerDiff] | None = None  # that view, for the worst case of a failing or reduced-precision runtime
    layers_atol: float | None = None  # the per-tensor bar the layers were held to: |diff| <= atol + rtol * max |keras|
    layers_rtol: float | None = None  # (conformance.toml [tolerance.<class>] layer_atol, layer_rtol)

"""Scale-free numbers for one tensor against the reference's (`harness compare --layers`).

max |diff| alone cannot be read across tensors: 1e-3 is noise on a logit of 40 and a failure
on a probability of 0.001. So each compared tensor also gets what the tools of this field
report (Polygraphy's minimum required tolerance and |diff| histogram, ai-edge-quantizer's and
ExecuTorch Inspector's SNR, cosine similarity and MSE):

- SNR in dB: 10 log10(sum ref^2 / sum (got - ref)^2); +inf when they are equal, -inf when the
  reference is all zeros and the runtime's is not. 20 dB is 10 % of the signal's energy off.
- cosine similarity of the flattened tensors (1.0 when both are all zeros).
- the smallest atol that would pass with rtol 0 (= max |diff|) and the smallest rtol that would
  pass with atol 0, in the per-tensor bar's own form |diff| <= atol + rtol * max |ref|
  (conformance.toml [tolerance.<class>] layer_atol, layer_rtol), so it reads next to the bar.
- a histogram of |diff| by decade (`BIN_LABELS`): where most elements lie, not only the worst.

Non-finite values on either side count as an infinite |diff|: as far off as it gets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Decade edges of the |diff| histogram; bin 0 holds exact zeros, the last one |diff| >= 1 (inf too).
EDGES = tuple(10.0**e for e in range(-7, 1))  # 1e-7 ... 1
BIN_LABELS = ("0", "<1e-7", *(f"<1e{e}" for e in range(-6, 1)), ">=1")


@dataclass(frozen=True)
class TensorMetrics:
    max_abs_diff: float
    mean_abs_diff: float
    mse: float
    snr_db: float  # +inf: identical
    cosine: float
    min_atol: float  # with rtol 0
    min_rtol: float  # with atol 0: |diff| <= rtol * max |ref|
    histogram: tuple[int, ...]  # counts per BIN_LABELS


def abs_diff(reference: np.ndarray, value: np.ndarray) -> np.ndarray:
    """|value - reference| in float64, `value` reshaped to the reference's shape; NaN/inf -> inf."""
    want = np.asarray(reference, dtype=np.float64)
    have = np.asarray(value, dtype=np.float64).reshape(want.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(have - want)
    d[~np.isfinite(d)] = math.inf
    return d


def histogram(d: np.ndarray) -> tuple[int, ...]:
    """Counts of |diff| per decade bin (BIN_LABELS)."""
    flat = d.reshape(-1)
    zeros = int(np.count_nonzero(flat == 0))
    rest = flat[flat > 0]
    counts = np.bincount(np.searchsorted(np.asarray(EDGES), rest, side="right"), minlength=len(EDGES) + 1)
    return (zeros, *(int(c) for c in counts))


def measure(reference: np.ndarray, value: np.ndarray) -> TensorMetrics:
    """Every number above for `value` against `reference` (same number of elements)."""
    want = np.asarray(reference, dtype=np.float64)
    have = np.asarray(value, dtype=np.float64).reshape(want.shape)
    d = abs_diff(want, have)
    if d.size == 0:
        return TensorMetrics(0.0, 0.0, 0.0, math.inf, 1.0, 0.0, 0.0, histogram(d))
    max_d = float(d.max())
    with np.errstate(over="ignore", invalid="ignore"):
        mse = float(np.mean(d * d))
        signal = float(np.sum(want * want))
        noise = float(np.sum(d * d))
    if noise == 0:
        snr = math.inf
    elif signal == 0 or not math.isfinite(noise):
        snr = -math.inf
    else:
        snr = 10.0 * math.log10(signal / noise)
    return TensorMetrics(
        max_abs_diff=max_d,
        mean_abs_diff=float(d.mean()),
        mse=mse,
        snr_db=snr,
        cosine=cosine(want, have),
        min_atol=max_d,
        min_rtol=_min_rtol(max_d, float(np.abs(want).max())),
        histogram=histogram(d),
    )


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two tensors, flattened; 1.0 when both are zero, 0.0 when one is, NaN
    when either holds a non-finite value."""
    x, y = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return math.nan
    if np.array_equal(x, y):
        return 1.0  # exactly, where the norms' rounding would give 0.9999999999999998
    nx, ny = float(np.linalg.norm(x)), float(np.linalg.norm(y))
    if nx == 0 and ny == 0:
        return 1.0
    if nx == 0 or ny == 0:
        return 0.0
    return float(np.clip(np.dot(x, y) / (nx * ny), -1.0, 1.0))


def _min_rtol(max_d: float, max_ref: float) -> float:
    if max_d == 0:
        return 0.0
    return max_d / max_ref if max_ref > 0 else math.inf


def sparkline(counts: tuple[int, ...] | list[int]) -> str:
    """The histogram as one short string for a terminal column: ' ' none, then ▁..█ by share."""
    total = sum(counts)
    if not total:
        return ""
    marks = "▁▂▃▄▅▆▇█"
    return "".join(" " if c == 0 else marks[min(len(marks) - 1, int(c / total * len(marks)))] for c in counts)

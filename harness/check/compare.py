"""Compare one runtime's scores with the reference's under a tolerance policy.

A comparison says not only pass/fail but how far off it was (the minimum atol that would
pass, after Polygraphy), which cases are worst, and which decisions flipped. NaN or
infinity from any runtime is a failure, never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from harness.core.config import Tolerance


@dataclass
class Comparison:
    runtime_id: str
    n: int
    passed: bool
    max_abs_diff: float
    mean_abs_diff: float
    min_atol: float  # smallest atol that would pass elementwise (with the policy's rtol)
    agreement: float  # fraction of decisions matching the reference (allowed borderline flips count as agreeing)
    out_of_tolerance: list[int] = field(default_factory=list)
    flips: list[int] = field(default_factory=list)  # decisions that differ, allowed or not
    allowed_flips: list[int] = field(default_factory=list)
    non_finite: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[int]:
        """Indices that break the policy: outside tolerance, non-finite, or a disallowed flip."""
        return sorted(set(self.out_of_tolerance) | set(self.non_finite) | (set(self.flips) - set(self.allowed_flips)))


def compare(
    runtime_id: str, reference: np.ndarray, other: np.ndarray, *, tol: Tolerance, threshold: float = 0.5
) -> Comparison:
    ref = np.asarray(reference, dtype=np.float64).reshape(-1)
    got = np.asarray(other, dtype=np.float64).reshape(-1)
    if ref.shape != got.shape:
        return Comparison(
            runtime_id,
            int(ref.size),
            False,
            float("inf"),
            float("inf"),
            float("inf"),
            0.0,
            reasons=[f"shape mismatch: reference has {ref.size} scores, {runtime_id} has {got.size}"],
        )
    n = int(ref.size)
    if n == 0:
        return Comparison(runtime_id, 0, True, 0.0, 0.0, 0.0, 1.0, reasons=["empty batch: nothing compared"])
    finite = np.isfinite(got) & np.isfinite(ref)
    non_finite = np.flatnonzero(~finite).tolist()
    diff = np.where(finite, np.abs(ref - got), np.inf)
    excess = diff - tol.rtol * np.abs(np.where(finite, ref, 0.0))
    within = finite & (excess <= tol.atol)
    flipped = finite & ((ref > threshold) != (got > threshold))
    borderline = np.abs(ref - threshold) <= tol.borderline
    allowed = flipped & borderline & within
    agreement = 1.0 - float(np.count_nonzero(flipped & ~allowed) + len(non_finite)) / n
    reasons = []
    if non_finite:
        reasons.append(f"{len(non_finite)} non-finite score(s) (NaN or infinity)")
    out_of_tol = np.flatnonzero(~within).tolist()
    if out_of_tol:
        reasons.append(f"{len(out_of_tol)} of {n} outside atol {tol.atol:g}, rtol {tol.rtol:g}")
    if agreement < tol.agreement:
        reasons.append(f"decision agreement {agreement:.4f} < required {tol.agreement:g}")
    return Comparison(
        runtime_id=runtime_id,
        n=n,
        passed=not reasons,
        max_abs_diff=float(diff.max()),
        mean_abs_diff=float(diff.mean()),
        min_atol=float(max(excess.max(), 0.0)),
        agreement=agreement,
        out_of_tolerance=out_of_tol,
        flips=np.flatnonzero(flipped).tolist(),
        allowed_flips=np.flatnonzero(allowed).tolist(),
        non_finite=non_finite,
        reasons=reasons,
    )


class _Judging(Protocol):
    threshold: float

    def tolerance(self, runtime_id: str) -> Tolerance: ...


def judge(engines: _Judging, runtime_id: str, *, reference: np.ndarray, other: np.ndarray) -> Comparison:
    """`compare` under the runtime's own tolerance policy and the configured decision threshold."""
    return compare(runtime_id, reference, other, tol=engines.tolerance(runtime_id), threshold=engines.threshold)

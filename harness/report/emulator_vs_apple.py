"""How far our Core ML emulator is from Apple's own engine, read from a report's held-out scores.

Until Core AI ran here, "iPhone" in every report was `coreml-ref`, the harness's numpy emulator
of Core ML, compared only with Keras. Apple's portable CPU engine (`coreai`, `coreai@f16`) is
the first Apple-written engine it can be held against: the fp16 emulation beside Core AI in
float16, the fp32 one beside Core AI in float32, on the same held-out reviews. A pair whose
distance from each other exceeds both distances from the reference is flagged: the two
engines round (or sum) differently, and `compare --layers` on the worst case says at which op.
Nothing here is stored in report.json: it is a view of the scores the rows already hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.results import Report

# (our emulator, Apple's engine at the same precision)
PAIRS = (("coreml-ref", "coreai@f16"), ("coreml-ref@fp32", "coreai"))


@dataclass(frozen=True)
class Distance:
    emulator: str
    apple: str
    cases: int
    max_abs_diff: float  # emulator vs Apple
    mean_abs_diff: float
    flips: int  # decisions on which they disagree
    emulator_vs_reference: float  # max |diff| of each against the reference (Keras)
    apple_vs_reference: float
    worst_case: int  # held-out index of the largest emulator-vs-Apple difference

    @property
    def apart(self) -> bool:
        """They differ from each other more than either differs from the reference."""
        return self.max_abs_diff > max(self.emulator_vs_reference, self.apple_vs_reference)


def _scores(report: Report, rid: str) -> np.ndarray | None:
    row = report.runtimes.get(rid)
    if row is None or row.scores is None:
        return None
    return np.asarray([np.nan if s is None else s for s in row.scores], dtype=np.float64)


def distances(report: Report, threshold: float = 0.5) -> list[Distance]:
    """One Distance per pair whose two runtimes both have held-out scores in this report."""
    ref = _scores(report, report.reference)
    out = []
    for emulator, apple in PAIRS:
        a, b = _scores(report, emulator), _scores(report, apple)
        if ref is None or a is None or b is None or not (len(a) == len(b) == len(ref)) or len(a) == 0:
            continue
        d = np.abs(a - b)
        out.append(
            Distance(
                emulator=emulator,
                apple=apple,
                cases=len(a),
                max_abs_diff=float(np.nanmax(d)),
                mean_abs_diff=float(np.nanmean(d)),
                flips=int(np.sum((a > threshold) != (b > threshold))),
                emulator_vs_reference=float(np.nanmax(np.abs(a - ref))),
                apple_vs_reference=float(np.nanmax(np.abs(b - ref))),
                worst_case=int(np.nanargmax(d)),
            )
        )
    return out

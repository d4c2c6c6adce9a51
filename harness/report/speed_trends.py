"""Speed figures against the history of earlier reports on the same machine: step changes.

A gate compares one run with a budget; a slow creep (10% per release) passes every gate until
it fails them all. So each speed figure of a report (latency p50 and p95, throughput) is also
compared with the same figure in the latest earlier reports (reports/history.jsonl) made on the
same machine fingerprint (machines differ: comparing across them measures the machine), the
same bundle (another model is another workload: a smaller model is rightly faster) and the
same runtime. The test: the figure's log lies outside the baseline's prediction interval
(Student t on log figures: a new draw from the baseline would fall inside with probability
1 - alpha), and moved by at least min_change. Flags are advisory (they cannot be re-judged
on another machine, so they are not gates); report.html draws the trend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from harness.core.speed_policy import HistoryPolicy
from harness.core.speed_policy import load as load_policy
from harness.report import history
from harness.results import HistoryEntry, Report, SpeedTrend

Figure = Literal["p50_ms", "p95_ms", "reviews_per_second"]
# history field -> (what it is, True when bigger is slower)
FIGURES: dict[Figure, tuple[str, bool]] = {
    "p50_ms": ("latency p50", True),
    "p95_ms": ("latency p95", True),
    "reviews_per_second": ("throughput", False),
}


def step_change(baseline: Sequence[float], current: float, policy: HistoryPolicy) -> tuple[float, float, bool]:
    """(p-value, ratio current / baseline geometric mean, flagged) of one figure."""
    from scipy import stats

    logs = np.log(np.asarray(baseline, dtype=np.float64))
    n = logs.size
    mean, sd = float(logs.mean()), float(logs.std(ddof=1))
    ratio = math.exp(math.log(current) - mean)
    if sd == 0:
        p = 1.0 if math.log(current) == mean else 0.0
    else:
        t = (math.log(current) - mean) / (sd * math.sqrt(1 + 1 / n))
        p = float(2 * stats.t.sf(abs(t), n - 1))
    return p, ratio, p < policy.alpha and abs(ratio - 1) >= policy.min_change


def compare(earlier: Sequence[HistoryEntry], report: Report, policy: HistoryPolicy) -> list[SpeedTrend]:
    current = report.history_entry()
    same = [
        h
        for h in earlier
        if h.fingerprint == current.fingerprint and h.bundle_hash == current.bundle_hash and h.status == "complete"
    ]
    out = []
    for rid, point in current.runtimes.items():
        for key, (label, bigger_is_slower) in FIGURES.items():
            now = getattr(point, key)
            if now is None or not now > 0:
                continue
            base = [v for h in same if rid in h.runtimes and (v := getattr(h.runtimes[rid], key)) and v > 0]
            base = base[-policy.window :]
            if len(base) < policy.min_runs:
                continue
            p, ratio, flagged = step_change(base, float(now), policy)
            slower = (ratio > 1) == bigger_is_slower
            out.append(
                SpeedTrend(
                    runtime=rid,
                    figure=key,
                    label=label,
                    current=float(now),
                    baseline_median=float(np.median(base)),
                    baseline_runs=len(base),
                    ratio=round(ratio, 4),
                    p_value=round(p, 6),
                    flagged=flagged,
                    direction="slower" if slower else "faster",
                    baseline=[float(v) for v in base],
                )
            )
    return out


def attach(report: Report, history_path: Path | None) -> Report:
    """`report` with its speed trends against `history_path` (none: no history kept)."""
    if history_path is None:
        return report
    trends = compare(history.read(history_path), report, load_policy().history)
    return report.model_copy(update={"speed_trends": trends})

"""Latency samples summarised one way everywhere: reports, gates, the web app's figures, bench."""

from __future__ import annotations

import numpy as np


def latency_summary(samples: list[float]) -> dict[str, float]:
    """p50/p95 in ms of in-runtime timings, as reports and benchmarks show them."""
    a = np.asarray(samples, dtype=np.float64)
    return {
        "p50": round(float(np.percentile(a, 50)), 4),
        "p95": round(float(np.percentile(a, 95)), 4),
        "n": int(a.size),
    }

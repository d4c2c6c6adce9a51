"""A fixed workload timed beside every runtime, so budgets can travel between machines.

A budget in milliseconds is a claim about one machine: on a slower or busier one a healthy
build misses it. The calibration kernel is the same numpy work everywhere (sort and tanh over
a fixed 64k-element array: single-threaded, about a millisecond, no framework), timed right
before each runtime's figures, so it sees the load the runtime sees. Its figures divided by
the ones conformance.toml records for the machine the budgets were set on give how much
slower this machine is right now; a budget is scaled by that factor (never below 1: a faster
machine keeps the budget as written). A model that got heavier is slower against the kernel
too, so it still fails; a machine that got slower is not the model's fault.

The kernel does not depend on the model under test, on purpose: calibrating with the model
itself (the keras reference) would cancel exactly the slowdown a heavier model must show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

SIZE = 65_536


@dataclass(frozen=True)
class Calibration:
    p50_ms: float
    p95_ms: float
    mean_ms: float
    n: int


def _workload() -> np.ndarray:
    return np.random.default_rng(20261206).standard_normal(SIZE).astype(np.float32)


def measure(seconds: float, min_samples: int = 20) -> Calibration:
    """Time the kernel repeatedly for about `seconds` (at least `min_samples` times)."""
    data = _workload()
    np.sort(data)  # warm-up: page in the array and the code paths
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(samples) < min_samples or time.perf_counter() < deadline:
        t = time.perf_counter()
        np.sort(data)
        float(np.tanh(data).sum())
        samples.append((time.perf_counter() - t) * 1000)
    a = np.asarray(samples)
    return Calibration(float(np.percentile(a, 50)), float(np.percentile(a, 95)), float(a.mean()), int(a.size))

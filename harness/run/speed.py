"""Speed figures as distributions: each from its own timed loop after warm-up, sampled until
its confidence interval is narrow enough, decides its budget, or a time cap is reached.

Latency: single-review timings inside the engine, in rounds (the first round is the budget's
`repeats` after its `warmup`); throughput: the same batch of reviews timed again and again
after one untimed batch. Before both, the calibration kernel (harness/core/calibration.py)
is timed, so the budget each figure is held to reflects the load the runtime ran under.
The caps (conformance.toml [speed]) bound what this adds to a report: a figure far from its
budget is decided after its first round, and one that stays undecided stops at the cap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.core import calibration
from harness.core.intervals import Interval, quantile_interval, rate_interval
from harness.core.speed_policy import SpeedPolicy
from runtimes.base import Session


@dataclass(frozen=True)
class Scale:
    """How much slower than the budgets' machine this one ran, per figure (1: as written)."""

    p50: float
    p95: float
    throughput: float
    applied: bool  # False: absolute budgets (a phone target), the factors are recorded only
    max_factor: float = math.inf  # beyond it the machine is too busy to fail a gate (only passes count)

    def record(self, cal: calibration.Calibration) -> dict[str, Any]:
        return {
            "kernel_p50_ms": round(cal.p50_ms, 4),
            "kernel_p95_ms": round(cal.p95_ms, 4),
            "kernel_mean_ms": round(cal.mean_ms, 4),
            "n": cal.n,
            "p50_factor": round(self.p50, 3),
            "p95_factor": round(self.p95, 3),
            "throughput_factor": round(self.throughput, 3),
            "applied": self.applied,
            "max_factor": self.max_factor,
        }


def scale(policy: SpeedPolicy, cal: calibration.Calibration, absolute: bool) -> Scale:
    def factor(now: float, then: float) -> float:
        return max(1.0, now / then) if then > 0 and math.isfinite(now) else 1.0

    return Scale(
        factor(cal.p50_ms, policy.calibration_p50_ms),
        factor(cal.p95_ms, policy.calibration_p95_ms),
        factor(cal.mean_ms, policy.calibration_mean_ms),
        applied=not absolute,
        max_factor=policy.max_factor,
    )


def decided(iv: Interval, budget: float | None, *, at_most: bool) -> bool:
    return budget is not None and iv.judge(budget, at_most=at_most) != "inconclusive"


def sample_latency(
    session: Session,
    row: np.ndarray,
    *,
    budgets: tuple[float | None, float | None],
    repeats: int,
    warmup: int,
    policy: SpeedPolicy,
) -> tuple[list[float], Interval, Interval, float]:
    """(samples in ms, p50 interval, p95 interval, seconds spent): rounds of `repeats` until both
    intervals decide their (scaled) budgets or are narrow, or the cap is reached."""
    started = time.perf_counter()
    samples = list(session.latency_ms(row, repeats=repeats, warmup=warmup))
    extra_from = time.perf_counter()
    while True:
        p50 = quantile_interval(samples, 0.5, policy.confidence)
        p95 = quantile_interval(samples, 0.95, policy.confidence)
        settled = all(
            decided(iv, b, at_most=True) or iv.relative_width <= policy.relative_width
            for iv, b in ((p50, budgets[0]), (p95, budgets[1]))
        )
        spent = time.perf_counter() - extra_from
        if settled or spent >= policy.max_seconds or len(samples) >= policy.max_samples:
            return samples, p50, p95, time.perf_counter() - started
        samples += session.latency_ms(row, repeats=min(repeats, policy.max_samples - len(samples)), warmup=1)


def sample_throughput(
    run: Callable[[np.ndarray], float], batch: np.ndarray, *, budget: float | None, policy: SpeedPolicy
) -> tuple[list[float], Interval, float, int]:
    """(seconds per batch, reviews/s interval, seconds spent, reviews per batch); `run` returns the engine's own
    time for one batch. One untimed batch first (JIT, kernel compilation, caches); an engine so
    slow that `min_batches` of it would overrun the cap is timed on a smaller batch (a smaller
    batch amortises less per-call overhead, so its figure errs on the slow side)."""
    started = time.perf_counter()
    warm = run(batch)
    fits = int(len(batch) * policy.max_seconds / (policy.min_batches * warm)) if warm > 0 else len(batch)
    if fits < len(batch):
        batch = batch[: max(8, fits)]
        run(batch)  # a new shape: engines that compile per shape (WebGL shaders) do it here, untimed
    seconds: list[float] = []
    extra_from = time.perf_counter()
    while True:
        seconds.append(run(batch))
        if len(seconds) < policy.min_batches:
            continue
        iv = rate_interval(len(batch), seconds, policy.confidence)
        settled = decided(iv, budget, at_most=False) or iv.relative_width <= policy.relative_width
        spent = time.perf_counter() - extra_from
        if settled or spent >= policy.max_seconds or len(seconds) >= policy.max_batches:
            return seconds, iv, time.perf_counter() - started, len(batch)

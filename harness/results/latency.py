"""Latency and throughput of one runtime, measured inside its engine."""

from __future__ import annotations

from harness.results.base import Record


class LatencySummary(Record):
    p50: float
    p95: float
    n: int
    samples: list[float] = []  # ms, in the runtime, after warm-up


class Latency(Record):
    single_ms: LatencySummary
    load_seconds: float
    remeasured: bool = False  # reports before speed intervals: a failing budget was measured once more
    batch_reviews_per_second: float | None = None
    # speed intervals (docs/speed-gates.md): each figure's confidence interval [low, high]
    # (null: unbounded side), the throughput loop's batch, the calibration beside the runtime,
    # and the seconds the figures took
    confidence: float | None = None
    p50_interval: list[float | None] | None = None
    p95_interval: list[float | None] | None = None
    throughput_interval: list[float | None] | None = None
    throughput_batch: int | None = None
    throughput_batches: int | None = None
    calibration: dict[str, float | int | bool] | None = None
    seconds: float | None = None

"""The speed-gate policy of conformance.toml's [speed] table, read into one typed value.

How sure a speed verdict must be, how long the harness may spend getting sure, and which
runtimes keep absolute budgets are decisions of the team, not of the code: they live in
conformance.toml (docs/speed-gates.md explains each), and this module only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.core import config
from harness.core.errors import HarnessError
from harness.core.paths import CONFIG


@dataclass(frozen=True)
class HistoryPolicy:
    min_runs: int  # earlier reports on the same machine fingerprint needed before a trend is judged
    window: int  # at most this many of the latest earlier reports form the baseline
    alpha: float  # significance level of the step-change test
    min_change: float  # and the change must be at least this fraction of the baseline


@dataclass(frozen=True)
class SpeedPolicy:
    confidence: float  # of every interval (0.95: a 95% confidence interval)
    relative_width: float  # an interval this narrow (fraction of its estimate) needs no more samples
    max_seconds: float  # per figure and runtime, for samples beyond the first round
    max_samples: int  # single-review latencies per runtime, at most
    throughput_batch: int  # reviews per timed batch
    min_batches: int
    max_batches: int
    calibration_seconds: float  # the calibration kernel runs this long before each runtime's figures
    calibration_p50_ms: float  # the kernel's figures on the machine the budgets were set on
    calibration_p95_ms: float
    calibration_mean_ms: float
    max_factor: float  # a machine slower than this (by calibration) is too busy to fail a speed gate
    absolute_runtimes: tuple[str, ...]  # their budgets are a phone's target, kept as written
    history: HistoryPolicy


_KEYS = (
    "confidence",
    "relative_width",
    "max_seconds",
    "max_samples",
    "throughput_batch",
    "min_batches",
    "max_batches",
    "calibration_seconds",
    "calibration_p50_ms",
    "calibration_p95_ms",
    "calibration_mean_ms",
    "max_factor",
    "absolute_runtimes",
)
_HISTORY_KEYS = ("min_runs", "window", "alpha", "min_change")


def load(cfg: dict[str, Any] | None = None) -> SpeedPolicy:
    cfg = cfg if cfg is not None else config.load()
    table = cfg.get("speed", {})
    hist = table.get("history", {})
    missing = [k for k in _KEYS if k not in table] + [f"history.{k}" for k in _HISTORY_KEYS if k not in hist]
    if missing:
        raise HarnessError(f"{CONFIG}: [speed] lacks {', '.join(missing)}")
    confidence = float(table["confidence"])
    if not 0.5 <= confidence < 1:
        raise HarnessError(f"{CONFIG}: [speed] confidence must be in [0.5, 1), got {confidence}")
    return SpeedPolicy(
        confidence=confidence,
        relative_width=float(table["relative_width"]),
        max_seconds=float(table["max_seconds"]),
        max_samples=int(table["max_samples"]),
        throughput_batch=int(table["throughput_batch"]),
        min_batches=max(2, int(table["min_batches"])),
        max_batches=int(table["max_batches"]),
        calibration_seconds=float(table["calibration_seconds"]),
        calibration_p50_ms=float(table["calibration_p50_ms"]),
        calibration_p95_ms=float(table["calibration_p95_ms"]),
        calibration_mean_ms=float(table["calibration_mean_ms"]),
        max_factor=float(table["max_factor"]),
        absolute_runtimes=tuple(str(r) for r in table["absolute_runtimes"]),
        history=HistoryPolicy(
            int(hist["min_runs"]), int(hist["window"]), float(hist["alpha"]), float(hist["min_change"])
        ),
    )

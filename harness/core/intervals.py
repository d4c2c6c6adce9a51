"""Confidence intervals of speed figures, and what they say about a budget.

A single timed pass is one draw from a distribution that a busy machine widens and shifts: a
verdict drawn from it fails healthy builds (a scheduler hiccup) and teaches a team to ignore
red. So every speed figure is an interval at a stated confidence, and a budget is judged by
where the whole interval lies:

- quantiles (latency p50, p95) get the distribution-free order-statistic interval: ranks
  from the binomial distribution of how many samples fall below the true quantile, so no
  shape is assumed (latencies are skewed and multi-modal);
- a mean (throughput: reviews per second over repeated batches) gets Student's t interval
  of the mean batch time, inverted into reviews per second (few, long samples).

scipy is imported inside the functions: importing the harness stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

Outcome = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    confidence: float
    n: int

    @property
    def relative_width(self) -> float:
        """(high - low) / estimate: how precisely the figure is known (inf when it is not)."""
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.estimate <= 0:
            return math.inf
        return (self.high - self.low) / self.estimate

    def judge(self, budget: float, *, at_most: bool) -> Outcome:
        """`at_most`: the figure must not exceed `budget` (latency); else it must reach it
        (throughput). Fails only when the whole interval lies beyond the budget."""
        if at_most:
            return "pass" if self.high <= budget else "fail" if self.low > budget else "inconclusive"
        return "pass" if self.low >= budget else "fail" if self.high < budget else "inconclusive"

    def as_list(self) -> list[float | None]:
        """[low, high] for JSON: an unbounded side is None (strict JSON has no Infinity)."""
        return [_round(self.low), _round(self.high)]


def _round(x: float) -> float | None:
    return float(f"{x:.4g}") if math.isfinite(x) else None


def quantile_interval(samples: list[float] | np.ndarray, q: float, confidence: float) -> Interval:
    """Order-statistic interval of the q-quantile. With too few samples for the requested
    confidence the missing side is unbounded (-inf or inf), which no budget can pass or fail."""
    from scipy import stats

    a = np.sort(np.asarray(samples, dtype=np.float64))
    n = int(a.size)
    if n == 0:
        return Interval(math.nan, -math.inf, math.inf, confidence, 0)
    estimate = float(np.percentile(a, q * 100))
    tail = (1 - confidence) / 2
    # B = how many samples fall below the true quantile, B ~ Binomial(n, q); the 1-based ranks
    # lo, hi with P(B < lo) <= tail and P(B >= hi) <= tail bound it with the confidence asked.
    lo_rank = int(stats.binom.ppf(tail, n, q))
    hi_rank = int(stats.binom.ppf(1 - tail, n, q)) + 1
    low = float(a[lo_rank - 1]) if lo_rank >= 1 else -math.inf
    high = float(a[hi_rank - 1]) if hi_rank <= n else math.inf
    return Interval(estimate, low, high, confidence, n)


def rate_interval(items_per_sample: int, seconds: list[float] | np.ndarray, confidence: float) -> Interval:
    """Items per second from repeated timings of the same batch: the t interval of the mean
    time per batch, inverted (a higher bound on time is a lower bound on rate)."""
    from scipy import stats

    t = np.asarray(seconds, dtype=np.float64)
    n = int(t.size)
    if n == 0 or not np.all(t > 0):
        return Interval(math.nan, -math.inf, math.inf, confidence, n)
    mean = float(t.mean())
    estimate = items_per_sample / mean
    if n < 2:
        return Interval(estimate, 0.0, math.inf, confidence, n)
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, n - 1)) * float(t.std(ddof=1)) / math.sqrt(n)
    slowest, fastest = mean + half, mean - half
    high = items_per_sample / fastest if fastest > 0 else math.inf
    return Interval(estimate, items_per_sample / slowest, high, confidence, n)

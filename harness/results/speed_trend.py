"""The report's record of one speed figure against this machine's history (speed_trends.py)."""

from __future__ import annotations

from typing import Literal

from harness.results.base import Record


class SpeedTrend(Record):
    """One speed figure of this run against the earlier reports of the same machine
    (harness/report/speed_trends.py): flagged when it is a significant step change."""

    runtime: str
    figure: Literal["p50_ms", "p95_ms", "reviews_per_second"]
    label: str
    current: float
    baseline_median: float
    baseline_runs: int
    ratio: float  # current / the baseline's geometric mean
    p_value: float  # of the prediction-interval test on log figures
    flagged: bool
    direction: Literal["slower", "faster"]
    baseline: list[float] = []  # the earlier runs' figures, oldest first (report.html draws them)

    @property
    def sparkline(self) -> str:
        """The baseline then this run as block characters, low to high: the trend at a glance."""
        values = [*self.baseline, self.current]
        low, high = min(values), max(values)
        blocks = "▁▂▃▄▅▆▇█"
        span = (high - low) or 1.0
        return "".join(blocks[min(7, int((v - low) / span * 8))] for v in values)

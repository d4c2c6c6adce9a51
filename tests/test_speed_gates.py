"""Speed gates from intervals (harness/core/intervals.py, harness/check/speed_gates.py), the
calibration scale, the sampling loop's cap, and the step-change test against history.

The intervals are checked by their coverage on samples drawn from known distributions: a 95%
interval that covers the true figure far less (or far more) often than 95% is wrong."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest

from harness.check import gates
from harness.check.speed_gates import speed_gates
from harness.core import calibration, speed_policy
from harness.core.intervals import quantile_interval, rate_interval
from harness.core.speed_policy import HistoryPolicy
from harness.report.speed_trends import step_change
from harness.run import speed
from runtimes.base import RunResult, Session


def test_quantile_interval_covers_the_true_quantile_at_its_confidence() -> None:
    rng = np.random.default_rng(1)
    true_p50, true_p95 = 1.0, math.exp(1.6448536 * 0.5)  # lognormal(0, 0.5)
    hits50 = hits95 = 0
    trials = 200
    for _ in range(trials):
        x = rng.lognormal(0.0, 0.5, 400)
        a, b = quantile_interval(x, 0.5, 0.95), quantile_interval(x, 0.95, 0.95)
        hits50 += a.low <= true_p50 <= a.high
        hits95 += b.low <= true_p95 <= b.high
    assert 0.91 <= hits50 / trials <= 0.99, hits50
    assert 0.91 <= hits95 / trials <= 0.99, hits95


def test_too_few_samples_leave_the_interval_unbounded() -> None:
    iv = quantile_interval([1.0, 2.0, 3.0], 0.95, 0.95)
    assert iv.high == math.inf and iv.as_list()[1] is None  # strict JSON: null, never Infinity
    assert iv.judge(10.0, at_most=True) == "inconclusive"


def test_rate_interval_covers_the_true_rate() -> None:
    rng = np.random.default_rng(2)
    hits, trials = 0, 300
    for _ in range(trials):
        seconds = rng.normal(0.1, 0.01, 8)  # 128 reviews in 0.1 s: 1280 reviews/s
        iv = rate_interval(128, seconds, 0.95)
        hits += iv.low <= 1280 <= iv.high
    assert 0.90 <= hits / trials <= 0.99, hits


def latency_record(
    p50: tuple[float, float, float], rps: tuple[float, float, float], factor: float = 1.0, applied: bool = True
) -> dict:
    return {
        "single_ms": {"p50": p50[0], "p95": p50[0] * 2, "n": 400},
        "load_seconds": 1.0,
        "batch_reviews_per_second": rps[0],
        "confidence": 0.95,
        "p50_interval": [p50[1], p50[2]],
        "p95_interval": [p50[1] * 2, p50[2] * 2],
        "throughput_interval": [rps[1], rps[2]],
        "calibration": {"p50_factor": factor, "p95_factor": factor, "throughput_factor": factor, "applied": applied},
    }


BUDGET = {"p50_ms": 1.0, "p95_ms": 5.0, "load_seconds": 15.0, "min_reviews_per_second": 500}


def by_name(found: list[gates.Gate]) -> dict[str, gates.Gate]:
    return {g.gate: g for g in found}


def test_within_beyond_and_across_the_budget() -> None:
    ok = by_name(speed_gates("tfjs-wasm", latency_record((0.6, 0.55, 0.65), (1300, 1200, 1400)), BUDGET))
    assert ok["latency_p50"].passed and ok["throughput"].passed and not ok["latency_p50"].inconclusive
    assert "within" in ok["latency_p50"].detail and ok["latency_p50"].interval == [0.55, 0.65]

    bad = by_name(speed_gates("tfjs-wasm", latency_record((1.6, 1.5, 1.7), (300, 280, 320)), BUDGET))
    assert not bad["latency_p50"].passed and bad["latency_p50"].required and "beyond" in bad["latency_p50"].detail
    assert not bad["throughput"].passed and bad["throughput"].required

    noisy = by_name(speed_gates("tfjs-wasm", latency_record((0.9, 0.7, 1.3), (520, 350, 900)), BUDGET))
    for g in (noisy["latency_p50"], noisy["throughput"]):
        assert g.inconclusive and not g.required and not g.passed, g  # advisory, never fatal
        assert g.detail.startswith("inconclusive (noisy machine") and "straddles" in g.detail


def test_calibration_forgives_a_slower_machine_not_a_heavier_model() -> None:
    """Machine 2x slower: 1.6 ms against 1 ms x 2 passes; a model 100x heavier (60 ms) fails."""
    slower = by_name(speed_gates("tfjs-wasm", latency_record((1.6, 1.5, 1.7), (300, 280, 320), factor=2.0), BUDGET))
    assert slower["latency_p50"].passed and slower["latency_p50"].budget == 2.0
    assert slower["throughput"].passed and slower["throughput"].budget == 250  # a floor shrinks with the factor
    heavy = by_name(speed_gates("tfjs-wasm", latency_record((60.0, 58.0, 62.0), (13, 12, 14), factor=2.0), BUDGET))
    assert not heavy["latency_p50"].passed and heavy["latency_p50"].required
    phone = by_name(
        speed_gates("tflite", latency_record((1.6, 1.5, 1.7), (900, 800, 1000), factor=2.0, applied=False), BUDGET)
    )
    assert not phone["latency_p50"].passed and phone["latency_p50"].budget == 1.0  # absolute: as written


def test_a_machine_too_busy_to_judge_fails_nothing_but_still_passes() -> None:
    record = latency_record((1.6, 1.5, 1.7), (300, 280, 320), factor=30.0)
    record["calibration"]["max_factor"] = 10.0
    found = by_name(speed_gates("tfjs-wasm", record, BUDGET))
    assert found["latency_p50"].passed  # 1.7 ms is within 1 ms x 10
    heavy = latency_record((60.0, 58.0, 62.0), (13, 12, 14), factor=30.0)
    heavy["calibration"]["max_factor"] = 10.0
    g = by_name(speed_gates("tfjs-wasm", heavy, BUDGET))["latency_p50"]
    assert g.inconclusive and not g.required and "too busy to judge: calibration 30.0x" in g.detail


def test_a_report_from_before_intervals_is_judged_by_its_points() -> None:
    old = {"single_ms": {"p50": 0.5, "p95": 6.0, "n": 200}, "load_seconds": 1.0, "batch_reviews_per_second": 800}
    found = by_name(gates.latency_gates("tfjs-wasm", old, BUDGET))
    assert found["latency_p50"].passed and not found["latency_p95"].passed and found["throughput"].passed
    assert found["latency_p95"].interval is None


def test_the_scale_is_never_below_one() -> None:
    policy = speed_policy.load()
    quiet = calibration.Calibration(
        policy.calibration_p50_ms / 2, policy.calibration_p95_ms / 2, policy.calibration_mean_ms / 2, 50
    )
    assert speed.scale(policy, quiet, absolute=False) == speed.Scale(
        1.0, 1.0, 1.0, applied=True, max_factor=policy.max_factor
    )
    busy = calibration.Calibration(
        policy.calibration_p50_ms * 3, policy.calibration_p95_ms * 10, policy.calibration_mean_ms * 4, 50
    )
    assert speed.scale(policy, busy, absolute=True) == speed.Scale(
        3.0, 10.0, 4.0, applied=False, max_factor=policy.max_factor
    )


class _SleepySession(Session):
    """A session whose call takes about 0.5-0.75 ms of real time per review, jittered."""

    def __init__(self) -> None:
        super().__init__(length=4, vocab_size=10)
        self.rng = np.random.default_rng(3)

    def _run(self, ids: np.ndarray) -> RunResult:
        t = time.perf_counter()
        time.sleep(0.0005 * (1 + self.rng.uniform(0, 0.5)) * len(ids))
        return RunResult(np.full(len(ids), 0.5), time.perf_counter() - t)


def test_sampling_stops_when_decided_or_at_the_cap() -> None:
    policy = speed_policy.load()
    with _SleepySession() as session:
        row = np.zeros(4, dtype=np.int32)
        samples, p50, _, spent = speed.sample_latency(
            session, row, budgets=(1000.0, 5000.0), repeats=200, warmup=2, policy=policy
        )
        assert len(samples) == 200 and p50.judge(1000.0, at_most=True) == "pass"  # decided after one round
        round_seconds = spent  # a round is never cut short: the cap is checked between rounds
        exacting = dataclasses.replace(policy, relative_width=0.0, max_seconds=0.5)  # never narrow, no budget
        t = time.perf_counter()
        samples, p50, _, spent = speed.sample_latency(
            session, row, budgets=(None, None), repeats=200, warmup=0, policy=exacting
        )
        assert time.perf_counter() - t < exacting.max_seconds + 2 * round_seconds + 0.5  # undecided: at the cap
        assert len(samples) > 200


@pytest.mark.parametrize(("current", "flagged"), [(1.30, True), (1.01, False), (0.70, True)])
def test_step_change_against_history(current: float, flagged: bool) -> None:
    rng = np.random.default_rng(4)
    baseline = list(1.0 + rng.normal(0, 0.02, 12))
    p, ratio, found = step_change(baseline, current, HistoryPolicy(min_runs=5, window=20, alpha=0.01, min_change=0.1))
    assert found is flagged, (p, ratio)
    assert (p < 0.01) is flagged


def test_history_of_this_machine_only_flags_a_step_and_the_page_shows_it() -> None:
    from harness.report import html
    from harness.report.speed_trends import compare
    from harness.results import HistoryEntry
    from tests.report_sample import synthetic_report

    report = synthetic_report()
    current = report.history_entry()
    rid = next(r for r, p in current.runtimes.items() if p.p95_ms)
    now = current.runtimes[rid].p95_ms
    rng = np.random.default_rng(5)

    def earlier(fingerprint: str, level: float, bundle_hash: str | None = current.bundle_hash) -> list[HistoryEntry]:
        return [
            HistoryEntry(
                fingerprint=fingerprint,
                bundle_hash=bundle_hash,
                status="complete",
                runtimes={rid: {"p95_ms": now * level * (1 + rng.normal(0, 0.02))}},
            )
            for _ in range(8)
        ]

    policy = HistoryPolicy(min_runs=5, window=20, alpha=0.01, min_change=0.1)
    same, other = current.fingerprint, "another-machine"
    found = {(t.runtime, t.figure): t for t in compare(earlier(same, 1 / 1.5), report, policy)}
    step = found[(rid, "p95_ms")]
    assert step.flagged and step.direction == "slower" and len(step.baseline) == 8
    assert not compare(earlier(other, 1 / 1.5), report, policy)  # another machine's history is not a baseline
    assert not compare(earlier(same, 1 / 1.5, "another-model"), report, policy)  # nor another model's
    steady = {(t.runtime, t.figure): t for t in compare(earlier(same, 1.0), report, policy)}
    assert not steady[(rid, "p95_ms")].flagged
    page = html.render(report.model_copy(update={"speed_trends": [step]}))
    assert "1 step change(s) in 1 figures" in page and step.sparkline in page and "step change: slower" in page


def test_wall_clock_budgets_travel_too() -> None:
    """A model's load and the web app's first prediction are one-off times: scaled, not intervals."""
    record = latency_record((0.6, 0.55, 0.65), (1300, 1200, 1400), factor=2.0)
    record["load_seconds"] = 20.0
    load = by_name(gates.latency_gates("tfjs-webgl", record, BUDGET))["load_time"]
    assert load.passed and load.budget == 30.0 and "x 2.00 calibration" in load.detail
    record["load_seconds"] = 31.0
    assert not by_name(gates.latency_gates("tfjs-webgl", record, BUDGET))["load_time"].passed
    figures = {
        "gzip_download_bytes": 1,
        "time_to_first_prediction_ms": 4000.0,
        "backend": "wasm",
        "calibration": {"p50_factor": 1.5, "applied": True, "max_factor": 10.0},
    }
    first = by_name(gates.webapp_gates(figures))["first_prediction"]
    assert first.passed and first.budget == 1.5 * speed_policy_budget("time_to_first_prediction_ms")


def speed_policy_budget(key: str) -> float:
    from harness.core import config

    return float(config.load()["budgets"]["webapp"][key])

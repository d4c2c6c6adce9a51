"""Scale-free per-tensor numbers (harness/check/tensor_metrics.py) against values worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.check import tensor_metrics as tm


def test_snr_cosine_and_min_tolerances_match_hand_computed_values():
    # ref (3, 4): |ref|^2 = 25; got (3, 5): diff (0, 1), noise 1.
    m = tm.measure(np.array([3.0, 4.0]), np.array([3.0, 5.0]))
    assert m.max_abs_diff == 1.0 and m.mean_abs_diff == 0.5 and m.mse == 0.5
    assert m.snr_db == pytest.approx(10 * math.log10(25 / 1))  # 13.979... dB
    assert m.snr_db == pytest.approx(13.9794, abs=1e-4)
    assert m.cosine == pytest.approx(29 / (5 * math.sqrt(34)))  # (9 + 20) / (|ref| |got|) = 0.994700...
    assert m.min_atol == 1.0  # with rtol 0: the largest |diff|
    assert m.min_rtol == 0.25  # with atol 0: |diff| <= rtol * max|ref| = rtol * 4
    assert m.histogram == (1, 0, 0, 0, 0, 0, 0, 0, 0, 1)  # one exact zero, one |diff| >= 1
    assert len(m.histogram) == len(tm.BIN_LABELS)


def test_decades_of_the_histogram():
    d = np.array([0.0, 5e-8, 1e-7, 3e-4, 0.5, 2.0, math.inf])
    counts = tm.histogram(d)
    by = dict(zip(tm.BIN_LABELS, counts, strict=True))
    assert by["0"] == 1 and by["<1e-7"] == 1 and by["<1e-6"] == 1 and by["<1e-3"] == 1 and by["<1e0"] == 1
    assert by[">=1"] == 2 and sum(counts) == d.size


def test_edge_cases_say_what_they_are():
    same = tm.measure(np.array([1.0, -2.0]), np.array([1.0, -2.0]))
    assert same.snr_db == math.inf and same.cosine == 1.0 and same.min_atol == 0 and same.min_rtol == 0
    from_zero = tm.measure(np.zeros(3), np.array([0.0, 1e-3, 0.0]))
    assert from_zero.snr_db == -math.inf and from_zero.cosine == 0.0 and from_zero.min_rtol == math.inf
    broken = tm.measure(np.array([1.0, 2.0]), np.array([1.0, math.nan]))
    assert broken.max_abs_diff == math.inf and math.isnan(broken.cosine) and broken.snr_db == -math.inf
    # Scale-free: the same relative error reads the same at any scale.
    small, large = (
        tm.measure(np.array([1e-3, 2e-3]), np.array([1.1e-3, 2e-3])),
        tm.measure(np.array([1e3, 2e3]), np.array([1.1e3, 2e3])),
    )
    assert small.snr_db == pytest.approx(large.snr_db) and small.min_rtol == pytest.approx(large.min_rtol)

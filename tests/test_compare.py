"""The comparison on its own: tolerance edges, NaN/inf, shape mismatch, empty batches, flips."""

from __future__ import annotations

import numpy as np

from harness.check.compare import compare
from harness.core.config import Tolerance

TOL = Tolerance(atol=1e-4, rtol=0.0, agreement=1.0, borderline=1e-4)


def test_identical_passes_with_zero_min_atol():
    c = compare("x", np.array([0.1, 0.9]), np.array([0.1, 0.9]), tol=TOL)
    assert c.passed and c.max_abs_diff == 0 and c.min_atol == 0 and c.agreement == 1.0


def test_tolerance_edge_is_inclusive_and_min_atol_reports_how_far():
    ref = np.array([0.2, 0.7])
    assert compare("x", ref, ref + np.array([0.0, 0.5e-4]), tol=TOL).passed
    c = compare("x", ref, ref + np.array([0.0, 3e-4]), tol=TOL)
    assert not c.passed and c.out_of_tolerance == [1]
    assert abs(c.min_atol - 3e-4) < 1e-12
    assert "outside atol" in c.reasons[0]


def test_nan_and_infinity_always_fail():
    for bad in (np.nan, np.inf, -np.inf):
        c = compare(
            "x",
            np.array([0.2, 0.7]),
            np.array([0.2, bad]),
            tol=Tolerance(atol=1e9, rtol=0, agreement=0.0, borderline=1),
        )
        assert not c.passed and c.non_finite == [1]


def test_nan_in_both_is_still_a_failure():
    c = compare("x", np.array([np.nan]), np.array([np.nan]), tol=TOL)
    assert not c.passed


def test_shape_mismatch_fails_with_reason():
    c = compare("x", np.zeros(3), np.zeros(2), tol=TOL)
    assert not c.passed and "shape mismatch" in c.reasons[0]


def test_empty_batch_passes_vacuously_and_says_so():
    c = compare("x", np.zeros(0), np.zeros(0), tol=TOL)
    assert c.passed and c.n == 0 and c.reasons == ["empty batch: nothing compared"]


def test_borderline_flip_within_tolerance_is_allowed():
    tol = Tolerance(atol=0.05, rtol=0, agreement=1.0, borderline=0.05)
    c = compare("x", np.array([0.499, 0.9]), np.array([0.51, 0.9]), tol=tol)
    assert c.passed and c.flips == [0] and c.allowed_flips == [0]


def test_flip_outside_borderline_counts_against_agreement():
    tol = Tolerance(atol=0.5, rtol=0, agreement=1.0, borderline=0.01)
    c = compare("x", np.array([0.40, 0.9]), np.array([0.6, 0.9]), tol=tol)
    assert not c.passed and c.agreement == 0.5 and c.allowed_flips == []


def test_agreement_threshold():
    tol = Tolerance(atol=1.0, rtol=0, agreement=0.99, borderline=0.0)
    ref = np.full(100, 0.9)
    got = ref.copy()
    got[0] = 0.1
    assert compare("x", ref, got, tol=tol).passed  # 99% agree
    got[1] = 0.1
    assert not compare("x", ref, got, tol=tol).passed


def test_rtol_widens_per_element():
    tol = Tolerance(atol=0.0, rtol=0.1, agreement=0.0, borderline=0.0)
    assert compare("x", np.array([0.8]), np.array([0.85]), tol=tol).passed
    assert not compare("x", np.array([0.1]), np.array([0.15]), tol=tol).passed

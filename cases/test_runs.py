"""Each selected runtime exports, loads and runs the bundle, or fails here with the step and the
engine's words; the other conformance tests go on with the runtimes that did run."""

from __future__ import annotations

import numpy as np
import pytest

from runtimes.failures import RuntimeFailed

from .conftest import runtime_params


def pytest_generate_tests(metafunc):
    if "run_runtime" in metafunc.fixturenames:
        metafunc.parametrize("run_runtime", runtime_params(metafunc.config))


def test_runtime_exports_loads_and_runs(engines, run_runtime):
    ids = np.zeros((2, engines.length), dtype=np.int32)
    ids[1, :3] = [1, 2, 3]
    try:
        scores = engines.scores(run_runtime, ids)
    except RuntimeFailed as e:
        pytest.fail(str(e.failure), pytrace=False)
    assert scores.shape == (2,) and np.all(np.isfinite(scores)), f"{run_runtime}: scores {scores}"

"""The report's emulator-vs-Apple view (harness/report/emulator_vs_apple.py), on a synthetic report.

Real numbers come from `make report` (docs/coreai.md); here the view is checked against scores
built to be near or apart, so it can fail: a pair further apart than either is from keras must
be flagged, one within must not, and a report without Core AI rows shows no section.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.report import emulator_vs_apple, html
from harness.results import RuntimeSpecInfo
from tests.report_sample import synthetic_report


def _with_apple(shift_f16: float) -> object:
    r = synthetic_report()
    keras = np.asarray(r.runtimes["keras"].scores, dtype=np.float64)
    emulator = r.runtimes["coreml-ref"]
    fp32 = emulator.model_copy(update={"scores": [float(x) for x in keras]})
    f16 = emulator.model_copy(update={"scores": [float(x) for x in np.clip(keras + shift_f16, 0, 1)]})
    r.runtimes["coreml-ref@fp32"] = fp32
    for rid, row, precision in (("coreai", fp32, "float32"), ("coreai@f16", f16, "float16")):
        variant = "f16" if "@" in rid else None
        spec = RuntimeSpecInfo(
            family="coreai",
            backend="cpu",
            precision=precision,
            platform="ios",
            variant=variant,
            target=rid.replace("@", "-"),
            tokenizer="py",
        )
        r.runtimes[rid] = row.model_copy(update={"spec": spec, "info": {"what": "Apple Core AI, portable CPU engine"}})
    return r


def test_a_pair_further_apart_than_either_from_keras_is_flagged():
    r = _with_apple(shift_f16=-0.003)  # coreml-ref's noise is ~+-0.001 around keras, Apple's all on one side
    by_pair = {(d.emulator, d.apple): d for d in emulator_vs_apple.distances(r)}
    f16 = by_pair[("coreml-ref", "coreai@f16")]
    assert f16.cases == len(r.runtimes["keras"].scores) and f16.apart
    assert f16.max_abs_diff > max(f16.emulator_vs_reference, f16.apple_vs_reference)
    fp32 = by_pair[("coreml-ref@fp32", "coreai")]
    assert fp32.max_abs_diff == 0 and not fp32.apart and fp32.flips == 0
    page = html.render(r)
    section = page[page.index('id="emulator-vs-apple"') :]
    assert "further from each other than either is from keras" in section
    assert "Apple Core AI, portable CPU engine" in page  # the row says what the engine is


def test_no_section_without_both_engines():
    r = synthetic_report()
    assert emulator_vs_apple.distances(r) == []
    assert 'id="emulator-vs-apple"' not in html.render(r)


def test_the_zoo_figure_names_the_float16_step_it_is_measured_in():
    from harness.bench.emulator_vs_apple import _pair

    keras = np.array([0.2, 0.849389, 0.7])
    emulator = np.array([0.2, 0.84912109, 0.7])  # float16 neighbours around keras, as measured on mr-3032
    apple = np.array([0.2, 0.84960938, 0.7])
    fig = _pair(keras, emulator, apple)
    assert fig["max_abs_diff"] == pytest.approx(2**-11, rel=1e-4) and fig["float16_step_at_worst"] == 2**-11
    assert fig["max_abs_diff"] > max(fig["emulator_vs_keras"], fig["apple_vs_keras"]) and fig["flips"] == 0

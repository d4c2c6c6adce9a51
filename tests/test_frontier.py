"""`harness frontier`: the grid's parsing, the Pareto front and the pick within one point, the
page (real matplotlib and Jinja2), and (nightly) a real 2-variant grid: trained, exported, run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.bench import frontier
from harness.core.bundle import load as load_bundle
from harness.core.errors import HarnessError
from harness.report import frontier_page
from runtimes.browser.driver import DeviceProfile


def _row(variant: str, nbytes: int, accuracy: float | None, weights: str = "tfjs-u8") -> dict:
    return {
        "variant": variant,
        "weights": weights,
        "runtime": "tfjs-wasm@u8",
        "vocab": 1000,
        "embedding": 8,
        "filters": 8,
        "model_gzip_bytes": nbytes // 2,
        "tokenizer_gzip_bytes": 1000,
        "app_code_gzip_bytes": nbytes // 2 - 1000,
        "first_visit_gzip_bytes": nbytes,
        "accuracy": accuracy,
        "keras_accuracy": accuracy,
        "agreement": 0.9,
        "phone_first_prediction_estimate_ms": frontier.phone_estimate_ms(nbytes, DeviceProfile()),
    }


def test_grid_parsing():
    assert frontier.parse_grid("500:4:8, 1000:8:16") == [frontier.Variant(500, 4, 8), frontier.Variant(1000, 8, 16)]
    pruned = frontier.parse_grid("1000:8:16:5")
    assert pruned == [frontier.Variant(1000, 8, 16, 5)] and pruned[0].name == "v1000-e8-f16-m5"
    assert frontier.Variant(1000, 8, 16).name == "v1000-e8-f16"  # the reference's min count: names kept
    for bad in ("500:4", "a:b:c", "2:4:4", "", "500:4:8:0", "500:4:8:2:1"):
        with pytest.raises(HarnessError, match="--grid"):
            frontier.parse_grid(bad)


def test_front_and_the_smallest_within_one_point():
    rows = [
        _row("big", 400_000, 0.78),
        _row("mid", 200_000, 0.775),
        _row("worse", 250_000, 0.76),
        _row("tiny", 120_000, 0.70),
        _row("broken", 50_000, None),
    ]
    assert frontier.pareto(rows) == [3, 1, 0]  # by bytes: tiny, mid, big; "worse" is beaten by "mid"
    assert frontier.smallest_within(rows, 0.7778) == 1  # mid: 77.5 >= 76.78
    assert frontier.smallest_within(rows, 0.80) is None


def test_phone_estimate_is_round_trips_plus_bytes_over_bandwidth():
    p = DeviceProfile()
    assert frontier.phone_estimate_ms(0, p) == round(frontier.ROUND_TRIPS * p.latency_ms, 1)
    one_second = p.download_kbps * 1024 / 8
    assert frontier.phone_estimate_ms(int(one_second), p) == pytest.approx(
        frontier.ROUND_TRIPS * p.latency_ms + 1000, abs=1
    )


def test_page_marks_the_front_and_the_pick():
    rows = [_row("big", 400_000, 0.78), _row("mid", 200_000, 0.775), _row("worse", 250_000, 0.76, "tfjs-f16")]
    for i, r in enumerate(rows):
        r["pareto"] = i in frontier.pareto(rows)
    result = {
        "reference": {"accuracy": 0.7778, "held_out": 1080, "bundle_hash": "ab" * 32},
        "rows": rows,
        "profile": DeviceProfile().describe(),
        "estimate": "network only",
        "skipped": [],
        "smallest_within_1_point": "mid tfjs-u8",
    }
    page = frontier_page.render(result)
    assert page.count("<svg") == 1 and "Pareto front" in page and "smallest within 1 point" in page
    assert '<tr class="front pick">' in page and "<strong>mid tfjs-u8</strong>" in page
    text = frontier_page.table(result)
    assert text.splitlines()[2].startswith("mid") and "smallest within 1 point: mid tfjs-u8" in text


def test_a_bad_grid_is_one_line_and_exit_2():
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("harness")), "frontier", "--grid", "10:x:4"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "VOCAB:EMBEDDING:FILTERS" in proc.stderr


@pytest.mark.nightly
@pytest.mark.browser
def test_a_two_variant_grid_end_to_end(tmp_path, monkeypatch):
    """Two tiny variants, really trained, exported to TF.js u8 and f16 and run in TF.js wasm."""
    from harness.app.first_visit import app_code_gzip_bytes

    app_code = app_code_gzip_bytes()  # the built app's (with the shared cache), before the grid's own cache
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    said: list[str] = []
    grid = [frontier.Variant(300, 4, 4), frontier.Variant(10_000, 4, 4, 5)]  # the second pruned to 5+ sightings
    result = frontier.run_frontier(grid, app_code_bytes=app_code, budget_seconds=600, say=said.append)
    assert said[0].startswith("frontier: 2 variants") and sum("done in" in s for s in said) == 2
    rows = result["rows"]
    assert [(r["variant"], r["weights"]) for r in rows] == [
        ("v300-e4-f4", "tfjs-u8"),
        ("v300-e4-f4", "tfjs-f16"),
        ("v10000-e4-f4-m5", "tfjs-u8"),
        ("v10000-e4-f4-m5", "tfjs-f16"),
    ]
    for r in rows:
        assert r.get("failure") is None, r
        assert 0.5 < r["accuracy"] < 0.9 and 0.5 < r["agreement"] <= 1.0
        assert abs(r["accuracy"] - r["keras_accuracy"]) < 0.02  # the export is the trained model
    small, large = rows[0], rows[2]
    assert small["model_gzip_bytes"] < large["model_gzip_bytes"] and small["vocab"] == 300
    assert 300 < large["vocab"] < load_bundle(None).signature().vocab_size  # fewer words than the reference's
    assert rows[1]["model_gzip_bytes"] > rows[0]["model_gzip_bytes"]  # f16 weights are twice u8's
    assert any(r["pareto"] for r in rows)
    page = frontier_page.render(result)
    assert "v300-e4-f4" in page and "<svg" in page

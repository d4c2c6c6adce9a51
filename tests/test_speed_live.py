"""Speed gates on real engines: a model 100x heavier than the reference fails the tfjs-wasm
latency gate, and on a machine loaded by two busy-looping processes a healthy build fails no
speed gate (each passes or is inconclusive).

Both go through the report's own path (harness/report/runtime_rows.latency_gates: the
calibration kernel, the sampling loops, the gates), on the held-out reviews' ids."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.core import bundle
from harness.core.paths import REFERENCE_BUNDLE
from harness.data import corpus
from harness.report.runtime_rows import latency_gates
from harness.results import RuntimeRow, RuntimeSpecInfo
from harness.run.engines import Engines
from runtimes import registry, tokenizers

SPEED_GATES = ("latency_p50", "latency_p95", "throughput")


@pytest.fixture(scope="module")
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("harness-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(cache))
        yield cache


def heavy_model(vocab_size: int, length: int) -> Any:
    """The reference architecture with a second Conv1D: 28.5M multiply-adds per review
    against the reference's 0.28M (Conv1D 64x3 over 32 channels), about 100x."""
    from runtimes.frameworks import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(5)
    inputs = keras.Input(shape=(length,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocab_size, 32)(inputs)
    x = keras.layers.Conv1D(448, 3, activation="relu")(x)  # 46 x 3 x 32 x 448 = 2.0M
    x = keras.layers.Conv1D(448, 3, activation="relu")(x)  # 44 x 3 x 448 x 448 = 26.5M
    x = keras.layers.GlobalMaxPooling1D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="heavy_cnn")


@pytest.fixture(scope="module")
def heavy_bundle(tmp_path_factory: pytest.TempPathFactory, tmp_cache: Path) -> Path:
    sig = bundle.load(REFERENCE_BUNDLE).signature()
    folder = tmp_path_factory.mktemp("heavy")
    heavy_model(sig.vocab_size, sig.length).save(folder / "heavy.keras")
    out = folder / "bundle"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        rc = cli.main(
            ["bundle", "--model", str(folder / "heavy.keras"), "--like", str(REFERENCE_BUNDLE), "--out", str(out)]
        )
    assert rc == 0, err.getvalue()
    return out


def speed_gates_of(b: bundle.Bundle, runtime_ids: list[str], reviews: list[corpus.Review]) -> dict[str, Any]:
    """The report's speed gates of each runtime, measured as `harness report` measures them."""
    with Engines(b, [registry.get(rid) for rid in runtime_ids]) as engines:
        ids = engines.tokenize(tokenizers.REFERENCE, [r.text for r in reviews])
        rows = {
            rid: RuntimeRow(
                spec=RuntimeSpecInfo.model_validate(engines.runtimes[rid].spec.describe()),
                status="ran",
                machine="here",
                scores=[],
            )
            for rid in runtime_ids
        }
        found = latency_gates(engines, rows, {tokenizers.REFERENCE: ids}, on_progress=lambda _: None)
        errors = {rid: row.error for rid, row in rows.items() if row.status != "ran"}
    assert not errors, errors
    return {g.id: g for g in found if g.gate in SPEED_GATES} | {"rows": rows}


@pytest.mark.browser
@pytest.mark.nightly  # 75 s here (the heavy export and its browser): test_speed_gates.py proves the rule in 1 s
def test_a_model_100x_heavier_fails_the_wasm_latency_gate(heavy_bundle: Path, test_split: list[corpus.Review]) -> None:
    b = bundle.load(heavy_bundle)
    for attempt in range(2):  # every time, not once
        found = speed_gates_of(b, ["tfjs-wasm"], test_split[:256])
        gate = found["latency_p50:tfjs-wasm"]
        print(f"attempt {attempt}: {gate.detail}")
        assert not gate.passed and gate.required and not gate.inconclusive, gate
        assert gate.interval[0] is not None and gate.interval[0] > gate.budget


@contextlib.contextmanager
def busy_loops(n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield procs
    finally:
        for p in procs:  # by pid, on every path
            p.kill()
            p.wait()


BUSY_RUNTIMES = ["keras", "tfjs-cpu", "tfjs-wasm", "tfjs-webgl", "coreml-ref", "tflite", "tflite-ref"]


@pytest.mark.browser
@pytest.mark.nightly
def test_a_busy_machine_fails_no_speed_gate_of_a_healthy_build(test_split: list[corpus.Review]) -> None:
    b = bundle.load(REFERENCE_BUNDLE)
    available = [rid for rid in BUSY_RUNTIMES if registry.get(rid).availability().ok]
    assert "tfjs-wasm" in available, "Chromium is needed for this test"
    with busy_loops(2):
        found = speed_gates_of(b, available, test_split[:512])
    gates = [g for k, g in found.items() if k != "rows"]
    for g in gates:
        print(f"{g.id}: {'inconclusive' if g.inconclusive else 'pass' if g.passed else 'FAIL'}: {g.detail}")
    assert gates and all(g.passed or g.inconclusive for g in gates), [g.id for g in gates if not g.passed]
    widths = [(g.interval[1] - g.interval[0]) / g.value for g in gates if None not in g.interval and g.value]
    print(f"widest relative interval: {max(widths):.3f}")
    calibrations = [row.latency.calibration if row.latency else None for row in found["rows"].values()]
    assert all(calibrations), calibrations  # every runtime was timed beside its calibration
    factors = [c["p50_factor"] for c in calibrations if c]
    print(f"calibration p50 factors: {factors}")

"""Apple's Core AI: Apple's converter (coreai-torch) and Apple's engine (coreai-core), for real.

Everything runs in `.venv-coreai` through the worker process; the exports go to a
module-scoped cache so this module neither reuses nor pollutes the user's. References:
golden/expected.jsonl (keras's scores). Without the environment the module is skipped with the
reason `make setup` recorded (and the set-up test below still runs: it builds nothing).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import cli, export
from harness.check.compare import compare
from harness.check.golden import load_current
from harness.core import bundle, config
from harness.core.errors import HarnessError
from harness.core.paths import REPO
from runtimes import coreai_env, registry
from runtimes.browser.procs import descendants
from runtimes.coreai_client import Worker
from runtimes.coreai_worker import protocol

NEEDS_ENV = pytest.mark.skipif(not coreai_env.status().ok, reason=f"Core AI: {coreai_env.status().reason}")


@pytest.fixture(scope="module")
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("coreai-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="module")
def golden(reference_bundle: bundle.Bundle) -> tuple[np.ndarray, np.ndarray]:
    expected = load_current(reference_bundle)
    cases = list(expected.ids)
    return np.asarray([expected.ids[c] for c in cases], np.int32), np.asarray([expected.scores[c] for c in cases])


def open_session(rid: str, b: bundle.Bundle) -> Any:
    rt = registry.get(rid)
    return rt.open(b, export.export(b, str(rt.spec.target)))


def test_the_wire_format_keeps_dtype_shape_and_bits(tmp_path: Path) -> None:
    ids = np.arange(96, dtype=np.int32).reshape(2, 48)
    scores = np.array([[0.1], [np.float32(1) / 3]], dtype=np.float32)
    path = tmp_path / "pipe"
    with path.open("wb") as f:
        protocol.write_message(f, {"op": "run", "ids": ids, "nested": {"s": [scores]}})
    with path.open("rb") as f:
        back = protocol.read_message(f)
        assert protocol.read_message(f) is None  # the other end closed
    assert back is not None and back["op"] == "run"
    assert back["ids"].dtype == np.int32 and np.array_equal(back["ids"], ids)
    assert back["nested"]["s"][0].tobytes() == scores.tobytes()


def test_setup_that_cannot_build_says_why_and_still_succeeds(tmp_path: Path) -> None:
    venv = tmp_path / "venv-coreai"
    env = {**os.environ, "HARNESS_COREAI_VENV": str(venv), "COREAI_PYTHON": "python3.11-not-here"}
    run = subprocess.run(["bash", "scripts/ensure_coreai.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "could not be built" in run.stderr
    listing = subprocess.run(
        [str(REPO / ".venv/bin/harness"), "runtimes"], env=env, capture_output=True, text=True, check=True
    ).stdout
    row = next(line for line in listing.splitlines() if line.strip().startswith("coreai@f16 "))
    assert "unavailable" in row and "python3.11-not-here not found" in row, row
    assert "make setup" in row


@NEEDS_ENV
def test_every_golden_case_within_policy(tmp_cache, reference_bundle, golden):
    ids, keras = golden
    for rid in ("coreai", "coreai@f16"):
        with open_session(rid, reference_bundle) as s:
            got = s.run(ids).scores
            assert s.info["engine"].startswith("Apple Core AI, portable CPU engine") and not s.info["os_framework"]
            worker = s.worker.pid
            assert worker in descendants(os.getpid())
        assert worker not in descendants(os.getpid())  # stopped by pid when the session closed
        tol = config.tolerance(rid, registry.spec(rid).precision)
        verdict = compare(rid, keras, got, tol=tol, threshold=config.threshold())
        assert verdict.passed, verdict.reasons
        assert np.array_equal(got > 0.5, keras > 0.5)
        if rid == "coreai":
            assert np.abs(got - keras).max() < 1e-6  # the same float32 math, another summation order
        else:
            assert 1e-6 < np.abs(got - keras).max() < 5e-3  # half precision shows, within float16's policy


@NEEDS_ENV
def test_the_artifact_says_what_made_it(tmp_cache, reference_bundle):
    art = export.export(reference_bundle, "coreai-f16")
    m = art.manifest
    assert m["model_format"] == "Core AI .aimodel" and m["main"] == "model.aimodel"
    assert set(m["tool_versions"]) == {"coreai-core", "coreai-torch", "torch", "keras"}
    assert "coreai-torch" in m["path"] and m["precision"] == "float16" and "Float16" in m["compute_types"]
    assert m["precision_path"].startswith("every layer's dtype policy float16")
    assert m["operations"]["conv2d"] == 1 and m["operations"]["gather_nd"] == 1
    layers = json.loads((art.path / "layers.json").read_text())
    assert layers["model"] == "sentiment_cnn"
    assert {op["layer"] for op in layers["ops"]} == {"embedding", "conv", "pool", "score"}
    f32 = export.export(reference_bundle, "coreai")
    assert art.files["model.aimodel/main.mlirb"]["bytes"] < f32.files["model.aimodel/main.mlirb"]["bytes"] / 1.8
    assert export.export(reference_bundle, "coreai").manifest["cached"] is True


@NEEDS_ENV
def test_the_engines_own_words_and_a_crash_are_that_runtimes_failure(tmp_cache, reference_bundle):
    with open_session("coreai", reference_bundle) as s:
        bad = np.full((1, s.length), s.vocab_size + 5, np.int32)  # past Session.check_ids, straight to the engine
        with pytest.raises(HarnessError, match=r"Core AI: RuntimeError: .*gather_nd.*out of range"):
            s.worker.call("run", ids=bad)
        assert s.run(bad[:, :] * 0).scores.shape == (1,)  # the worker lives on after the engine's refusal
        os.kill(s.worker.pid, 9)
        with pytest.raises(HarnessError, match=r"the Core AI worker died \(exit code -9\) during 'run'"):
            s.run(bad * 0)


@NEEDS_ENV
@pytest.mark.nightly  # ~10 s of CPU (TensorFlow's Keras + a capture), a minute on 2 loaded cores
def test_compare_layers_shows_apples_tensors_per_keras_layer(tmp_cache, reference_bundle):
    out, err = io.StringIO(), io.StringIO()
    argv = ["compare", "--layers", "--json", "--runtimes", "keras,coreai@f16", "a gorgeous, witty film"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(argv) == 0, err.getvalue()
    (view,) = json.loads(out.getvalue())["runtimes"]
    rows = {r["probe"]: r for r in view["rows"]}
    assert rows["embedding"]["node"] == "sentiment_cnn/embedding/embedding"
    assert rows["conv:pre"]["node"].startswith("sentiment_cnn/conv/add") and rows["conv"]["op"] == "relu"
    assert rows["pool"]["op"] == "amax" and rows["score"]["node"] == "sentiment_cnn/score/sigmoid"
    measured = [r for r in rows.values() if r["node"]]
    assert len(measured) == len(rows)  # every Keras tensor found among Core AI's ops
    assert not any(r["over"] for r in measured), [r for r in measured if r["over"]]
    assert 0 < rows["conv"]["max_abs_diff"] < 1e-3  # half precision, really computed in half


def test_a_worker_that_cannot_start_says_why_and_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    venv = tmp_path / "venv-coreai"
    (venv / "bin").mkdir(parents=True)
    (venv / coreai_env.STAMP).touch()
    python = venv / "bin" / "python"
    python.write_text(
        "#!/bin/sh\necho 'ImportError: libcoreai_runtime.so: cannot open shared object file' >&2\nexit 3\n"
    )
    python.chmod(0o755)
    monkeypatch.setenv("HARNESS_COREAI_VENV", str(venv))
    before = set(descendants(os.getpid()))
    with pytest.raises(HarnessError, match=r"worker died \(exit code 3\) during 'hello': ImportError: libcoreai"):
        Worker()
    assert set(descendants(os.getpid())) <= before

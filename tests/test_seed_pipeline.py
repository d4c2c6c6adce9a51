"""The seed's formats end to end: a tf_keras model, its TF.js layers model made by the converter's
own API outside the harness, the team's tokenizer and its JavaScript port, brought in with
`harness bundle --artifact` and `--app-tokenizer` (tests/seed_pipeline.py builds them).

make test: a tf_keras CNN (trained in seconds): the keras runtime runs it with tf_keras (its
scores are the model's own), the adopted layers model runs in Chromium through
tf.loadLayersModel, the adopted NeuralNetwork .mlmodel (made with coremltools' API) in
coreml-nn-ref, the harness's own layers and LiteRT exports of the same bundle agree, all
within policy on the golden texts; files converted from other weights fail `compare` (exit 1)
naming both runtimes. Nightly: the seed's LSTM through `harness report` on every
layers-model runtime of Chromium, Firefox and WebKit, coreml-nn-ref and LiteRT (WebGPU on 100 golden texts
only: too slow under SwiftShader for the 1,080 held-out reviews), a layers model converted from
other weights failing `compare` with exit 1, and the HTML saying which artifact shipped.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import seed_pipeline

from harness import cli
from harness.core import config
from harness.core.paths import REFERENCE_BUNDLE
from runtimes import registry

GOLDEN_TEXTS = REFERENCE_BUNDLE.parent / "texts.jsonl"
LAYERS_TARGETS = {target for _, target, _ in registry.TFJS_LAYERS_WEIGHTS}
# the layers-model, NeuralNetwork and LiteRT runtimes the make-test case runs (one browser: Chromium)
QUICK = ("keras", "tfjs-layers-wasm", "tfjs-layers-cpu@u8", "coreml-nn-ref", "tflite")
# every layers-model runtime registered, each browser engine's (the nightly report runs them all)
LAYERS = tuple(rid for rid in registry.ids() if registry.spec(rid).target in LAYERS_TARGETS)
# the Core ML NeuralNetwork evaluator: plain runs the team's adopted .mlmodel (--artifact coreml-nn),
# @f16 the harness's float16-weights copy of it; coreml-nn-native needs macOS (its row says so)
COREML_NN = ("coreml-nn-ref", "coreml-nn-ref@f16")
SHIPPED_TARGETS = {"tfjs-layers", "coreml-nn"}  # what SeedFiles.bundle_argv adopts


def cli_run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def golden_scores(bundle_dir: Path, runtimes: tuple[str, ...], first: int | None = None) -> dict[str, np.ndarray]:
    """Scores of the golden texts (the `first` of them only, when given) on each runtime."""
    cases = GOLDEN_TEXTS
    if first is not None:
        cases = bundle_dir.parent / f"golden-first-{first}.jsonl"
        cases.write_text("".join(GOLDEN_TEXTS.read_text(encoding="utf-8").splitlines(True)[:first]), encoding="utf-8")
    rc, out, err = cli_run(
        "predict", "--bundle", str(bundle_dir), "--runtimes", ",".join(runtimes), "--input", str(cases)
    )
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    return {rid: np.array([r["scores"][rid] for r in rows]) for rid in runtimes}


def assert_within_policy(scores: dict[str, np.ndarray]) -> None:
    ref = scores["keras"]
    assert ref.std() > 0.02 and 0 < np.count_nonzero(ref > config.threshold()) < len(ref), "an untrained model"
    for rid, got in scores.items():
        tol = config.tolerance(rid, registry.spec(rid).precision)
        worst = float(np.abs(got - ref).max())
        assert worst <= tol.atol, f"{rid}: max |diff| {worst:.2e} > atol {tol.atol:g}"


@pytest.fixture(scope="module")
def seed_cnn(tmp_path_factory: pytest.TempPathFactory) -> tuple[seed_pipeline.SeedFiles, Path]:
    files = seed_pipeline.build(tmp_path_factory.mktemp("seed-cnn"), kind="cnn", ios=True)
    out = tmp_path_factory.mktemp("bundles") / "seed-cnn"
    rc, _, err = cli_run(*files.bundle_argv(out))
    assert rc == 0, err
    return files, out


def test_a_tf_keras_cnn_and_its_layers_model_agree_within_policy(seed_cnn) -> None:
    files, bundle_dir = seed_cnn
    scores = golden_scores(bundle_dir, QUICK)
    assert_within_policy(scores)
    # the keras runtime ran the team's tf_keras model: its scores are the model's own
    from harness.core import bundle
    from runtimes.frameworks import load_keras_file

    b = bundle.load(bundle_dir)
    assert b.model_framework == "tf_keras" and b.model_path.name == "model.h5"
    from harness import export
    from harness.core import shipped

    assert shipped.targets(b) == ["coreml-nn", "tfjs-layers"]  # the team's files ran, not exports of the model
    assert export.export(b, "coreml-nn").main_file("x").read_bytes() == files.ios.read_bytes()
    texts = [json.loads(line)["text"] for line in GOLDEN_TEXTS.read_text(encoding="utf-8").splitlines()]
    from runtimes import tokenizers

    ids = np.asarray(tokenizers.tokenize("py", b, texts), dtype=np.int32)
    own = load_keras_file(files.model, "tf_keras")(ids, training=False).numpy().reshape(-1)
    assert float(np.abs(own - scores["keras"]).max()) < 1e-6


def test_files_converted_from_other_weights_fail_compare_naming_the_runtimes(seed_cnn, tmp_path_factory) -> None:
    assert_other_weights_are_named(seed_cnn[0], "cnn", tmp_path_factory)


def test_the_harness_exports_the_same_bundle_as_a_layers_model(seed_cnn) -> None:
    from harness import export
    from harness.core import bundle

    art = export.export(bundle.load(seed_cnn[1]), "tfjs-layers-u8", fresh=True)
    assert art.manifest["model_format"] == "tfjs_layers_model" and art.manifest["weights"] == "uint8"
    assert json.loads((art.path / "model.json").read_text())["format"] == "layers-model"
    # no recurrent layer: exactly the converter's own all-uint8 layers model (export/uint8_weights.py)
    assert "weights_note" not in art.manifest and "float32_weights" not in art.manifest
    from harness.core.quiet import native_stderr
    from runtimes.frameworks import load_keras_file

    own = seed_cnn[1].parent / "converter-u8"
    with contextlib.redirect_stdout(io.StringIO()), native_stderr(replay=False):
        from tensorflowjs.converters import save_keras_model

        save_keras_model(
            load_keras_file(seed_cnn[0].model, "tf_keras"), str(own), quantization_dtype_map={"uint8": True}
        )
    assert json.loads((own / "model.json").read_text()) == json.loads((art.path / "model.json").read_text())
    assert (own / "group1-shard1of1.bin").read_bytes() == (art.path / "group1-shard1of1.bin").read_bytes()


@pytest.mark.nightly
def test_the_seed_pipeline_end_to_end(tmp_path_factory: pytest.TempPathFactory) -> None:
    files = seed_pipeline.build(tmp_path_factory.mktemp("seed-lstm"), kind="lstm", epochs=2, ios=True)
    bundle_dir = tmp_path_factory.mktemp("bundles") / "seed-lstm"
    rc, _, err = cli_run(*files.bundle_argv(bundle_dir))
    assert rc == 0, err
    # WebGPU (SwiftShader here) took over 600 s, the page-call limit, for the report's 1,080 reviews
    # through the layers model's LSTM: it is scored on the first 100 golden texts instead, below
    slow = tuple(rid for rid in LAYERS if registry.spec(rid).backend == "webgpu")
    runtimes = ("keras", *(rid for rid in LAYERS if rid not in slow), *COREML_NN, "tflite")
    available = [rid for rid in runtimes if registry.get(rid).availability().ok]
    out = tmp_path_factory.mktemp("report")
    rc, _, err = cli_run("report", "--bundle", str(bundle_dir), "--runtimes", ",".join(available), "--out", str(out))
    report = json.loads((out / "report.json").read_text())
    rows = report["runtimes"]
    failed = {rid: row["error"]["message"] for rid, row in rows.items() if row["status"] != "ran"}
    assert not failed, failed
    diverged = []
    for rid in available:
        if registry.spec(rid).target in LAYERS_TARGETS | {"coreml-nn", "coreml-nn-f16"}:
            origin = "shipped" if registry.spec(rid).target in SHIPPED_TARGETS else "exported"
            assert rows[rid]["artifact_origin"] == origin, rid
            if registry.spec(rid).precision == "uint8" and not rows[rid]["agreement"]["passed"]:
                diverged.append(rid)  # measured: uint8 LSTM weights moved scores by 0.059 (a finding, named)
                continue
            assert rows[rid]["agreement"]["passed"], (rid, rows[rid]["agreement"])
    named = {g["subject"] for g in report["gates"] if g["gate"] == "agreement" and not g["passed"]}
    assert named == set(diverged), (named, diverged)  # the report names every divergence, and only those
    assert rows["tfjs-layers-wasm"]["artifact"]["recorded_by"]["convertedBy"].startswith("TensorFlow.js Converter")
    assert rows["coreml-nn-ref"]["artifact"]["recorded_by"]["coremltools"]  # what the .mlmodel records
    assert "shipped artifact (convertedBy TensorFlow.js Converter" in (out / "report.html").read_text()
    # the verdict also holds the tiny model's accuracy floor, latency budgets and the golden file it has
    # not got, so it fails on those too: the report ran (0 or 1, never a usage error)
    assert rc in (0, 1), err
    if any(registry.get(rid).availability().ok for rid in slow):
        assert_within_policy(golden_scores(bundle_dir, ("keras", *slow), first=100))

    # a layers model converted from other weights is named by compare
    assert_other_weights_are_named(files, "lstm", tmp_path_factory)


def assert_other_weights_are_named(
    files: seed_pipeline.SeedFiles, kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A layers model and an .mlmodel converted from other weights (same shape, another seed):
    `compare` exits 1 and names both runtimes that run them."""
    other = seed_pipeline.build(tmp_path_factory.mktemp(f"seed-other-{kind}"), kind=kind, seed=7, ios=True)
    wrong = tmp_path_factory.mktemp("bundles") / f"seed-{kind}-wrong-weights"
    argv = files.bundle_argv(wrong)
    argv[argv.index(f"tfjs-layers={files.web}")] = f"tfjs-layers={other.web}"
    argv[argv.index(f"coreml-nn={files.ios}")] = f"coreml-nn={other.ios}"
    assert cli_run(*argv)[0] == 0
    rc, out_text, err = cli_run(
        "compare",
        "--bundle",
        str(wrong),
        "--runtimes",
        "keras,tfjs-layers-wasm,coreml-nn-ref",
        "--tokenizers",
        "py",
        *(json.loads(line)["text"] for line in GOLDEN_TEXTS.read_text(encoding="utf-8").splitlines()[:20]),
    )
    assert rc == 1, err
    for rid in ("tfjs-layers-wasm", "coreml-nn-ref"):  # its row says NO (outside tolerance) on some review
        assert re.search(rf"^\s+{re.escape(rid)}\s+\S+\s+\S+\s+NO\b", out_text, re.MULTILINE), (rid, out_text)

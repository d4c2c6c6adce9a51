"""The Android artifact: TF's real TFLite converter and the real LiteRT interpreter (ai-edge-litert).

Exports go to a module-scoped cache (HARNESS_CACHE) with the user's corpora linked in (the
int8 export calibrates on the training split), so this module neither reuses nor pollutes the
user's exports. References: golden/expected.jsonl (keras's scores) and the held-out split.
The zoo models are the Core ML zoo's (tests/test_coreml_recurrent.py) at length 6, so every
conversion takes about a second.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import cli, export
from harness.check import gates
from harness.check.compare import compare
from harness.check.golden import load_current
from harness.core import bundle, config
from harness.core.errors import HarnessError
from harness.core.paths import cache_dir
from runtimes import registry
from runtimes.tflite import TfliteSession

VARIANTS = {"tflite": "tflite", "tflite@f16": "tflite-f16", "tflite@dr8": "tflite-dr8", "tflite@int8": "tflite-int8"}


@pytest.fixture(scope="module", autouse=True)
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    user_corpora = cache_dir() / "corpora"
    cache = tmp_path_factory.mktemp("tflite-cache")
    if user_corpora.is_dir():
        (cache / "corpora").symlink_to(user_corpora, target_is_directory=True)
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


def judge(rid: str, reference: np.ndarray, got: np.ndarray) -> Any:
    tol = config.tolerance(rid, registry.spec(rid).precision)
    return compare(rid, reference, got, tol=tol, threshold=config.threshold())


@pytest.mark.parametrize("rid", ["tflite", "tflite-ref"])
def test_float32_matches_keras_on_every_golden_case(reference_bundle, golden, rid):
    ids, keras = golden
    with open_session(rid, reference_bundle) as s:
        got = s.run(ids).scores
        assert s.info["num_threads"] == 1 and s.info["engine"].startswith("ai-edge-litert ")
        assert (s.info["xnnpack_partitions"] > 0) == (rid == "tflite"), s.info
    assert np.abs(got - keras).max() <= 1e-4
    assert np.array_equal(got > 0.5, keras > 0.5)
    assert judge(rid, keras, got).passed


@pytest.mark.parametrize("rid", ["tflite@f16", "tflite@dr8", "tflite@int8", "tflite-ref@dr8", "tflite-ref@int8"])
def test_quantized_variants_within_policy_and_accuracy_gate(reference_bundle, golden, test_split, rid):
    ids, keras = golden
    texts = [r.text for r in test_split]
    labels = np.asarray([r.label for r in test_split])
    held_out = np.asarray(reference_bundle.tokenizer().encode_batch(texts), np.int32)
    with open_session(rid, reference_bundle) as s:
        got, ho = s.run(ids).scores, s.run(held_out).scores
    verdict = judge(rid, keras, got)
    assert verdict.passed, verdict.reasons
    assert verdict.agreement >= 0.99 and set(verdict.flips) == set(verdict.allowed_flips)
    keras_acc = reference_bundle.metrics()["splits"]["test"]["accuracy"]
    acc = float(np.mean((ho > config.threshold()) == (labels == 1)))
    gate = gates.accuracy_gate(
        rid,
        precision=registry.spec(rid).precision,
        accuracy=acc,
        reference_accuracy=keras_acc,
        budget=gates.accuracy_budget(),
    )
    assert gate.passed, gate.detail


def test_accuracy_gate_holds_int8_classes_to_the_quantized_budget():
    budget = {"floor": 0.75, "max_drop_points": 0.5}
    for precision in ("int8w", "int8"):
        assert not gates.accuracy_gate(
            "x", precision=precision, accuracy=0.770, reference_accuracy=0.7778, budget=budget
        ).passed  # 0.78 points lost
        assert gates.accuracy_gate(
            "x", precision=precision, accuracy=0.7759, reference_accuracy=0.7778, budget=budget
        ).passed  # 0.19 points: int8's figure


def test_exports_are_cached_reproducible_and_describe_themselves(reference_bundle):
    first = export.export(reference_bundle, "tflite-int8")
    again = export.export(reference_bundle, "tflite-int8")
    assert again.manifest["cached"] is True and again.manifest["artifact_hash"] == first.manifest["artifact_hash"]
    rebuilt = export.export(reference_bundle, "tflite-int8", force=True)
    assert rebuilt.manifest["cached"] is False
    assert rebuilt.files["model.tflite"]["sha256"] == first.files["model.tflite"]["sha256"]
    m = first.manifest
    assert m["format"] == "harness-artifact/1" and m["model_format"] == "tflite" and m["quantization"] == "int8"
    assert {"tensorflow", "keras"} <= set(m["tool_versions"]) and m["supported_ops"] == "TFLITE_BUILTINS_INT8"
    assert m["inputs"][0]["dtype"] == "int32" and m["inputs"][0]["shape"] == [None, 48]
    assert m["outputs"][0]["dtype"] == "float32" and m["output_step"] == pytest.approx(1 / 256)
    assert m["calibration"]["split"] == "train" and m["calibration"]["reviews"] == 8469
    assert "int8" in m["tensor_types"] and not any(op.startswith("Flex") for op in m["ops"])
    f32 = export.export(reference_bundle, "tflite").manifest
    assert "int8" not in f32["tensor_types"] and "output_step" not in f32 and f32["signature"] == "serving_default"
    sizes = {t: export.export(reference_bundle, t).files["model.tflite"]["bytes"] for t in VARIANTS.values()}
    assert sizes["tflite-f16"] < sizes["tflite"] / 1.9 and sizes["tflite-dr8"] < sizes["tflite"] / 3.5


def test_a_batch_scores_exactly_as_row_by_row(reference_bundle, golden):
    ids = golden[0][:48]
    with open_session("tflite@int8", reference_bundle) as s:
        batch = s.run(ids).scores
        rows = np.concatenate([s.run(ids[i : i + 1]).scores for i in range(len(ids))])
        lat = s.latency_ms(ids[0], repeats=100, warmup=10)  # resizes back to one row
    assert np.array_equal(batch, rows)
    assert len(lat) == 100 and np.percentile(lat, 50) < 0.3  # the target, met ~30x here


# --- models the converter refuses, and what it takes ----------------------------------------------


@functools.cache
def _tf_op_layers() -> dict[str, Any]:
    """Layers calling one TF op each, registered once so a saved bundle loads them again."""
    import tensorflow as tf

    from runtimes.frameworks import import_keras

    keras = import_keras()

    @keras.saving.register_keras_serializable(package="test_tflite")
    class Det(keras.layers.Layer):  # tf.linalg.det: LiteRT has it only as a Select TF op
        def call(self, t):
            return tf.reshape(tf.linalg.det(tf.reshape(t, [-1, 2, 2])), [-1, 1])

    @keras.saving.register_keras_serializable(package="test_tflite")
    class Digamma(keras.layers.Layer):  # no LiteRT kernel at all, not even a Select TF op
        def call(self, t):
            return tf.math.digamma(t)

    return {"det": Det, "digamma": Digamma}


def _model(kind: str) -> Any:
    """A model on the reference tokenizer's ids (vocabulary 8930, length 48) for a converter test."""
    from runtimes.frameworks import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(5)
    inp = keras.Input((48,), dtype="int32")
    if kind == "lstm":
        x = keras.layers.LSTM(4)(keras.layers.Embedding(8930, 8)(inp))
    else:
        x = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(8930, 8)(inp)))
        x = _tf_op_layers()[kind]()(x)
    return keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(x))


def _bundle_of(model: Any, folder: Path) -> Path:
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    assert cli.main(["bundle", "--model", str(folder / "model.keras"), "--out", str(folder / "bundle")]) == 0
    return folder / "bundle"


def test_a_refused_model_is_that_runtimes_one_line_error_in_predict(tmp_path, capsys):
    b = _bundle_of(_model("det"), tmp_path / "det")
    capsys.readouterr()
    code = cli.main(["predict", "--bundle", str(b), "--runtimes", "keras,tflite", "a witty film", "dull"])
    out, err = capsys.readouterr()
    assert code == 1, err
    for row in map(json.loads, out.splitlines()):
        assert set(row["scores"]) == {"keras"} and 0.0 <= row["scores"]["keras"] <= 1.0
        why = row["errors"]["tflite"]
        assert why.startswith("export: ") and "\n" not in why, why
        assert (
            "the TFLite converter (tensorflow 2.19.0) cannot take it (needs Select TF ops: tf.MatrixDeterminant)" in why
        )
    assert "Traceback" not in err


def test_an_op_with_no_kernel_is_named(tmp_path):
    b = bundle.load(_bundle_of(_model("digamma"), tmp_path / "digamma"))
    with pytest.raises(HarnessError, match=r"cannot take it \(ops with no LiteRT kernel: tf\.Digamma\)$"):
        export.export(b, "tflite-dr8")


@pytest.fixture(scope="module")
def lstm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, bundle.Bundle]:
    model = _model("lstm")
    return model, bundle.load(_bundle_of(model, tmp_path_factory.mktemp("lstm") / "model"))


@pytest.mark.parametrize(("rid", "atol"), [("tflite", 1e-5), ("tflite@dr8", 0.05)])
def test_a_recurrent_model_converts_with_a_static_batch(lstm, golden, rid, atol):
    model, b = lstm
    art = export.export(b, str(registry.spec(rid).target))
    assert art.manifest["static_batch"]["batch"] == 1 and "tf.TensorListReserve" in art.manifest["static_batch"]["why"]
    assert art.manifest["inputs"][0]["shape"] == [1, 48] and "WHILE" in art.manifest["ops"]
    ids = golden[0][:24]
    with registry.get(rid).open(b, art) as s:
        got = s.run(ids).scores
        assert s.info["batch_max"] == 1 and s.info["static_batch"] == 1
    assert np.abs(got - np.asarray(model(ids)).reshape(-1)).max() <= atol


def test_a_recurrent_models_int8_export_is_refused_and_the_process_lives_on(lstm):
    with pytest.raises(HarnessError, match="int8 calibrator crashes on the WHILE loop"):
        export.export(lstm[1], "tflite-int8")


def test_the_runtime_refuses_select_tf_ops(lstm, tmp_path):
    """Converted WITH Select TF ops, the file would run here (TF in this process lends LiteRT its
    Flex delegate) but not on a phone's plain runtime: the session refuses it."""
    import tensorflow as tf

    saved = export.export(lstm[1], "savedmodel").path / "savedmodel"
    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    with contextlib.redirect_stdout(io.StringIO()):
        (tmp_path / "flex.tflite").write_bytes(conv.convert())
    with pytest.raises(HarnessError, match=r"needs Select TF ops \(FlexTensorList.*plain Android runtime lacks"):
        TfliteSession(tmp_path / "flex.tflite", 48, 8930, positive_index=0, kernels="xnnpack")


# --- the zoo ---------------------------------------------------------------------------------------

ZOO = {  # kind -> (converted with a static batch of 1, quantizations checked; recurrent ones cost ~3 s each)
    "bigru": (True, ("float32",)),  # Bidirectional(GRU), softmax over 3 classes (LSTM: the tests above)
    "masked": (True, ("float32",)),  # mask_zero: Keras's masking inside the WHILE loop
    "gelu": (False, ("float32", "dynamic-int8")),  # exact gelu: tfjs and coremltools refuse its Erfc; LiteRT has GELU
    "attention": (False, ("float32",)),  # MultiHeadAttention + LayerNormalization
}
ZOO_ATOL = {"float32": 1e-5, "dynamic-int8": 0.05}


def zoo(kind: str) -> Any:
    from test_coreml_recurrent import LENGTH, VOCAB, zoo_model

    from runtimes.frameworks import import_keras

    keras = import_keras()
    if kind not in ("gelu", "attention"):
        return zoo_model(keras, kind)
    keras.utils.set_random_seed(11)
    inp = keras.Input((LENGTH,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, 16, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0))(inp)
    if kind == "attention":
        x = keras.layers.LayerNormalization()(keras.layers.MultiHeadAttention(2, 8)(x, x))
    x = keras.layers.GlobalAveragePooling1D()(x)
    if kind == "gelu":
        x = keras.layers.Dense(16, activation="gelu")(x)
    return keras.Model(inp, keras.layers.Dense(2, activation="softmax")(x), name=kind)


@pytest.mark.parametrize("kind", list(ZOO))
def test_zoo_models_convert_and_litert_matches_keras(kind, tmp_path):
    from test_coreml_recurrent import LENGTH, VOCAB

    from harness.export.tflite import convert

    model = zoo(kind)
    with contextlib.redirect_stdout(io.StringIO()):
        model.export(str(tmp_path / "sm"), format="tf_saved_model", verbose=False)
    ids = np.random.default_rng(3).integers(1, VOCAB, (32, LENGTH)).astype(np.int32)
    if kind == "masked":
        ids[:, 4:] = 0
    last = int(model.outputs[0].shape[-1]) - 1  # the "positive" column: the last class
    want = np.asarray(model(ids, training=False))[:, last]
    static, quantizations = ZOO[kind]
    for quantization in quantizations:
        atol = ZOO_ATOL[quantization]
        data, facts = convert(tmp_path / "sm", quantization, LENGTH, load_model=lambda: model, ids=None, source=kind)
        assert ("static_batch" in facts) == static, facts.get("static_batch")
        assert not any(op.startswith("Flex") for op in facts["ops"])
        (tmp_path / f"{quantization}.tflite").write_bytes(data)
        with TfliteSession(
            tmp_path / f"{quantization}.tflite", LENGTH, VOCAB, positive_index=last, kernels="xnnpack"
        ) as s:
            got = s.run(ids).scores
        diff = float(np.abs(got - want).max())
        print(f"{kind} {quantization}: max |diff| {diff:.3g}, ops {facts['ops']}")
        assert diff <= atol, f"{kind} {quantization}: max |diff| {diff:.3g}"
    assert want.std() > 0.02, "scores barely vary: the comparison would prove little"


# --- the report ------------------------------------------------------------------------------------


def test_the_report_has_the_android_rows_and_size_gates(reference_bundle):
    from harness.report import build

    rep = build.run(reference_bundle, build.Options(runtimes="keras,tflite@int8,tflite-ref@dr8", latency=False,
                                                    golden=False, webapp=False))  # fmt: skip
    assert rep.status == "complete" and rep.verdict == "pass", [g.id for g in rep.blocking_gates()]
    row = rep.runtimes["tflite@int8"]
    assert row.spec.platform == "android" and row.spec.family == "tflite" and row.spec.precision == "int8"
    assert row.info["num_threads"] == 1 and row.info["kernels"] == "xnnpack"
    assert set(rep.sizes) == {"android:tflite-int8", "android:tflite-dr8"}
    size = rep.sizes["android:tflite-int8"]
    assert set(size.files) == {"model.tflite", "tokenizer.json"} and size.passed
    assert size.gzip_bytes == sum(f.gzip_bytes for f in size.files.values())
    gate = next(g for g in rep.gates if g.id == "size:android:tflite-int8")
    assert gate.passed and gate.budget == 500_000
    assert rep.size_gate_for("tflite-ref@dr8") is not None
    android = next(grp for grp in rep.groups() if grp.platform == "android")
    assert set(android.runtime_ids) == {"tflite@int8", "tflite-ref@dr8"} and android.verdict == "pass"

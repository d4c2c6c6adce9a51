"""Core ML exports and coreml-ref: the shipped ML Program against Keras, and refusals.

Self-contained: exports go to a module-scoped cache (HARNESS_CACHE), the reference bundle is
golden/reference when committed, else the bundle at /tmp/b1.
"""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from harness import export
from harness.core import bundle
from harness.core.errors import HarnessError
from harness.core.paths import REFERENCE_BUNDLE, cache_dir
from harness.export import ArtifactFolder, describe_files
from runtimes import registry
from runtimes.coreml_ref import ops

pytestmark = pytest.mark.coreml

FALLBACK_BUNDLE = Path("/tmp/b1")


def _bundle_path() -> Path:
    for path in (REFERENCE_BUNDLE, FALLBACK_BUNDLE):
        if (path / bundle.MANIFEST).is_file():
            return path
    pytest.skip(
        f"no reference bundle: neither {REFERENCE_BUNDLE} nor {FALLBACK_BUNDLE} has a manifest (run `harness train`)"
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A fresh export cache; the corpus is linked from the usual cache so nothing is re-fetched."""
    corpora = cache_dir() / "corpora"
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("coreml-cache")
        if corpora.is_dir():
            (path / "corpora").symlink_to(corpora)
        mp.setenv("HARNESS_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def ref(cache):
    return bundle.load(_bundle_path())


@pytest.fixture(scope="module")
def held_out_ids(ref):
    from harness.data.corpus import held_out

    texts = [r.text for r in held_out(ref)]
    return np.asarray(ref.tokenizer().encode_batch(texts), dtype=np.int32)


def keras_scores(b: bundle.Bundle, ids: np.ndarray) -> np.ndarray:
    from harness.core.quiet import native_stderr
    from harness.data.text_cnn import scores
    from runtimes.frameworks import import_keras

    with native_stderr():
        model = import_keras().saving.load_model(b.model_path, compile=False)
        return scores(model, ids)


@pytest.fixture(scope="module")
def keras_ref(ref, held_out_ids):
    return keras_scores(ref, held_out_ids)


@pytest.fixture(scope="module")
def artifacts(ref):
    return {target: export.export(ref, target) for target in ("coreml", "coreml-fp32")}


def run_runtime(runtime_id: str, b: bundle.Bundle, ids: np.ndarray) -> np.ndarray:
    rt = registry.get(runtime_id)
    with rt.open(b, export.export(b, rt.spec.target)) as session:
        return session.run(ids).scores


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a > 0.5) == (b > 0.5)))


# --- exports ----------------------------------------------------------------------------------


def test_export_records_precision_target_and_io(artifacts, ref):
    length = ref.signature().length
    for target, precision in (("coreml", "float16"), ("coreml-fp32", "float32")):
        m = artifacts[target].manifest
        print(f"{target}: export {m['export_seconds']} s, ops {m['mil_ops']}")
        assert m["precision"] == precision and m["minimum_deployment_target"] == "iOS15"
        assert m["specification_version"] >= 6 and m["opset"] == "CoreML5"
        assert m["input"] == {"name": "token_ids", "dtype": "int32", "shape": [None, length], "batch_range": [1, 1024]}
        assert [o["name"] for o in m["outputs"]] == ["scores"] and m["outputs"][0]["shape"] == [None, 1]
        assert set(m["mil_ops"]) - {"const"} <= set(ops.OPS), "the evaluator must cover every op the converter emits"
        assert "model.mlpackage/Data/com.apple.CoreML/weights/weight.bin" in m["files"]
        assert {"coremltools", "tensorflow", "keras"} <= set(m["tool_versions"])
    assert "cast" in artifacts["coreml"].manifest["mil_ops"]  # fp16 inside, fp32 at the boundary
    assert export.export(ref, "coreml").manifest["cached"] is True


def test_fp16_program_keeps_fp16_weights_and_intermediates(artifacts):
    from runtimes.coreml_ref.evaluator import Program

    program = Program(artifacts["coreml"].path / "model.mlpackage")
    declared = {s.op_type: s.outputs[0].dtype for s in program.steps}
    assert declared["conv"] == np.float16 and declared["gather"] == np.float16 and declared["sigmoid"] == np.float16
    assert declared["cast"] == np.float32  # the output crosses back to fp32
    weights = [v for v in program.consts.values() if isinstance(v, np.ndarray) and v.size > 1000]
    assert weights and all(w.dtype == np.float16 for w in weights)


# --- the whole program against Keras on the held-out split -------------------------------------


def test_fp32_program_matches_keras(ref, held_out_ids, keras_ref, artifacts):
    got = run_runtime("coreml-ref@fp32", ref, held_out_ids)
    diff = float(np.abs(got - keras_ref).max())
    print(
        f"coreml-ref@fp32 vs keras on {len(got)} held-out reviews: max |diff| {diff:.3g}, agreement {agreement(got, keras_ref):.4f}"
    )
    assert diff <= 1e-4 and agreement(got, keras_ref) == 1.0


def test_fp16_program_matches_keras_within_policy(ref, held_out_ids, keras_ref, artifacts):
    got = run_runtime("coreml-ref", ref, held_out_ids)
    diff = float(np.abs(got - keras_ref).max())
    print(
        f"coreml-ref (fp16) vs keras on {len(got)} held-out reviews: max |diff| {diff:.3g}, agreement {agreement(got, keras_ref):.4f}"
    )
    assert diff <= 0.05 and agreement(got, keras_ref) >= 0.99
    assert diff > 0, "an fp16 program identical to fp32 Keras would mean the rounding is not applied"


def test_rows_do_not_depend_on_their_batch(ref, held_out_ids, artifacts):
    rt = registry.get("coreml-ref")
    with rt.open(ref, artifacts["coreml"]) as session:
        batch = session.run(held_out_ids[:40]).scores
        single = np.concatenate([session.run(held_out_ids[i : i + 1]).scores for i in range(40)])
    np.testing.assert_array_equal(batch, single)


@pytest.mark.latency
def test_single_review_latency(ref, held_out_ids, artifacts):
    for rid in ("coreml-ref", "coreml-ref@fp32"):
        rt = registry.get(rid)
        with rt.open(ref, export.export(ref, rt.spec.target)) as session:
            ms = np.asarray(session.latency_ms(held_out_ids[0], repeats=300))
        p50, p95 = np.percentile(ms, [50, 95])
        print(f"{rid}: single review p50 {p50:.3f} ms, p95 {p95:.3f} ms")
        assert p50 <= 2.0, f"{rid} p50 {p50:.2f} ms exceeds the 2 ms target"


# --- refusals ----------------------------------------------------------------------------------


def test_truncated_or_edited_package_is_refused_by_hash(artifacts, ref, tmp_path):
    art = artifacts["coreml"]
    weights_rel = "model.mlpackage/Data/com.apple.CoreML/weights/weight.bin"
    spec_rel = "model.mlpackage/Data/com.apple.CoreML/model.mlmodel"

    truncated = tmp_path / "truncated"
    shutil.copytree(art.path, truncated)
    w = truncated / weights_rel
    w.write_bytes(w.read_bytes()[:-64])
    bad = ArtifactFolder("coreml", truncated, art.manifest)
    with pytest.raises(HarnessError, match=r"weight\.bin: \d+ bytes, manifest says \d+ \(truncated or edited"):
        bad.verify()
    with pytest.raises(HarnessError, match=r"weight\.bin"):
        registry.get("coreml-ref").open(ref, bad)

    edited = tmp_path / "edited"
    shutil.copytree(art.path, edited)
    spec = edited / spec_rel
    data = bytearray(spec.read_bytes())
    data[len(data) // 2] ^= 0x01
    spec.write_bytes(bytes(data))
    with pytest.raises(HarnessError, match=r"model\.mlmodel: sha256 does not match the manifest"):
        ArtifactFolder("coreml", edited, art.manifest).verify()


def _hand_built_artifact(folder: Path, build) -> ArtifactFolder:
    """A tiny ML Program made with coremltools' builder, wrapped as an artifact."""
    from runtimes.frameworks import coreml_quiet as quiet
    from runtimes.frameworks import import_coremltools

    ct = import_coremltools()
    from coremltools.converters.mil import Builder as mb

    with quiet():
        prog = build(mb, ct)
        model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS15)
        folder.mkdir(parents=True)
        model.save(str(folder / "model.mlpackage"))
    return ArtifactFolder("coreml", folder, {"files": describe_files(folder), "main": "model.mlpackage"})


def test_program_with_wrong_input_is_refused_naming_both_shapes(ref, tmp_path):
    from coremltools.converters.mil.mil import types

    length = ref.signature().length

    def float_input(mb, ct):
        @mb.program(input_specs=[mb.TensorSpec(shape=(1, length), dtype=types.fp32)])
        def prog(x):
            return mb.reduce_mean(x=x, axes=[1], keep_dims=True)

        return prog

    def short_input(mb, ct):
        @mb.program(input_specs=[mb.TensorSpec(shape=(1, 40), dtype=types.int32)])
        def prog(x):
            return mb.reduce_max(x=mb.cast(x=x, dtype="fp32"), axes=[1], keep_dims=True)

        return prog

    rt = registry.get("coreml-ref")
    art = _hand_built_artifact(tmp_path / "float", float_input)
    with pytest.raises(HarnessError, match=rf"input 'x' is fp32 \[1, {length}\]; expected int32 \[N, {length}\]"):
        rt.open(ref, art)
    art = _hand_built_artifact(tmp_path / "short", short_input)
    with pytest.raises(HarnessError, match=rf"input 'x' is int32 \[1, 40\]; expected int32 \[N, {length}\]"):
        rt.open(ref, art)


def test_unimplemented_op_is_refused_naming_op_and_model(ref, tmp_path):
    """random_uniform: an op coreml-ref will never run (its values are Core ML's own PRNG's)."""
    length = ref.signature().length

    def with_random(mb, ct):
        from coremltools.converters.mil.mil import types

        @mb.program(input_specs=[mb.TensorSpec(shape=(1, length), dtype=types.int32)])
        def prog(x):
            noise = mb.random_uniform(shape=np.array([1, length], np.int32))
            return mb.reduce_max(x=mb.add(x=mb.cast(x=x, dtype="fp32"), y=noise), axes=[1], keep_dims=True)

        return prog

    art = _hand_built_artifact(tmp_path / "random", with_random)
    with pytest.raises(
        HarnessError, match=r"model\.mlpackage: ML Program op 'random_uniform' \(.*\) is not implemented by coreml-ref"
    ) as e:
        registry.get("coreml-ref").open(ref, art)
    assert e.value.op_type == "random_uniform" and e.value.reason is None  # evaluator.OpRefused, for counting


def test_unreadable_package_is_a_one_line_error(tmp_path):
    from runtimes.coreml_ref.evaluator import Program

    pkg = tmp_path / "model.mlpackage"
    pkg.mkdir()
    (pkg / "Manifest.json").write_text("{}")
    with pytest.raises(HarnessError, match=r"model\.mlpackage: not a readable ML Program") as e:
        Program(pkg)
    assert "\n" not in str(e.value)


# --- a second, foreign architecture ------------------------------------------------------------


@pytest.fixture(scope="module")
def foreign(ref, tmp_path_factory):
    """Conv1D(kernel 5, 'same', dilation 2) -> GlobalAveragePooling1D -> Dense(2, softmax),
    made into a bundle with the reference tokenizer (`harness bundle`'s path)."""
    from harness.core.quiet import native_stderr
    from harness.data.make_bundle import make_bundle
    from runtimes.frameworks import import_keras

    keras = import_keras()
    sig = ref.signature()
    with native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # keras' model.save under numpy 2 (third-party)
        keras.utils.set_random_seed(7)
        inputs = keras.Input((sig.length,), dtype="int32", name="token_ids")
        x = keras.layers.Embedding(
            sig.vocab_size, 8, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0)
        )(inputs)
        x = keras.layers.Conv1D(8, 5, padding="same", dilation_rate=2, activation="relu")(x)
        x = keras.layers.GlobalAveragePooling1D()(x)
        outputs = keras.layers.Dense(2, activation="softmax", bias_initializer="ones")(x)
        model = keras.Model(inputs, outputs)
        folder = tmp_path_factory.mktemp("foreign")
        model.save(folder / "foreign.keras")
    make_bundle(str(folder / "foreign.keras"), str(ref.path), str(folder / "bundle"))
    return bundle.load(folder / "bundle")


def test_foreign_architecture_converts_and_matches_keras(foreign, held_out_ids):
    ids = held_out_ids[:300]
    want = keras_scores(foreign, ids)
    art = export.export(foreign, "coreml-fp32")
    print(f"foreign model ops: {art.manifest['mil_ops']}")
    assert {"pad", "reduce_mean", "softmax", "reshape"} <= set(art.manifest["mil_ops"])  # TF's space-to-batch rewrite
    fp32 = run_runtime("coreml-ref@fp32", foreign, ids)
    fp16 = run_runtime("coreml-ref", foreign, ids)
    d32, d16 = float(np.abs(fp32 - want).max()), float(np.abs(fp16 - want).max())
    print(f"foreign: fp32 max |diff| {d32:.3g}, fp16 max |diff| {d16:.3g}, fp16 agreement {agreement(fp16, want):.4f}")
    assert d32 <= 1e-4 and agreement(fp32, want) == 1.0
    assert d16 <= 0.05 and agreement(fp16, want) >= 0.99
    assert np.std(want) > 0.01, "a constant model would prove nothing"


# --- Apple's Core ML ---------------------------------------------------------------------------


def test_runtimes_list_coreml_availability():
    assert registry.get("coreml-ref").availability().ok and registry.get("coreml-ref@fp32").availability().ok
    native = registry.get("coreml-native").availability()
    if sys.platform != "darwin":
        assert not native.ok and "runs only on macOS" in native.reason and native.install


def test_native_matches_ref_on_macos(ref, held_out_ids, artifacts):
    native = registry.get("coreml-native")
    ok = native.availability()
    if not ok.ok:
        pytest.skip(f"coreml-native unavailable here: {ok.reason}")
    for native_id, ref_id, atol, agree in (
        ("coreml-native@fp32", "coreml-ref@fp32", 1e-3, 1.0),
        ("coreml-native", "coreml-ref", 0.05, 0.99),
    ):
        a, b = run_runtime(native_id, ref, held_out_ids), run_runtime(ref_id, ref, held_out_ids)
        print(f"{native_id} vs {ref_id}: max |diff| {np.abs(a - b).max():.3g}, agreement {agreement(a, b):.4f}")
        assert np.abs(a - b).max() <= atol and agreement(a, b) >= agree


def test_native_session_plumbing_with_a_stand_in_engine(ref, held_out_ids, artifacts):
    """Off macOS, drive the native session with coreml-ref standing in for MLModel.predict, so the
    adapter's feature names, batch bound, chunking and I/O checks run on every OS."""
    from runtimes.coreml_native import CoremlNativeSession, _io
    from runtimes.coreml_ref import check_program_io
    from runtimes.coreml_ref.evaluator import Program
    from runtimes.frameworks import coreml_quiet as quiet
    from runtimes.frameworks import import_coremltools

    ct = import_coremltools()
    path = artifacts["coreml"].path / "model.mlpackage"
    with quiet():
        spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    program = Program(path)
    calls = []

    class StandIn:
        def get_spec(self):
            return spec

        def predict(self, feed):
            (ids,) = feed.values()
            calls.append(len(ids))
            return program.run(feed)

    inputs, outputs, batch_max = _io(spec)
    assert batch_max == 1024 and inputs[0].describe() == f"int32 [N, {ref.signature().length}]"
    check_program_io(path, inputs, outputs, length=ref.signature().length)
    sig = ref.signature()
    session = CoremlNativeSession(
        StandIn(), 500, sig.length, vocab_size=sig.vocab_size, positive_index=sig.positive_index
    )
    got = session.run(held_out_ids).scores
    assert calls == [min(500, len(held_out_ids) - i) for i in range(0, len(held_out_ids), 500)]
    np.testing.assert_array_equal(got, run_runtime("coreml-ref", ref, held_out_ids))

"""Core ML NeuralNetwork: `.mlmodel` files a team's build makes, and the harness's own exports,
evaluated by coreml-nn-ref against the Keras model they came from, under conformance.toml's policy.

The tf_keras LSTM and CNN are trained briefly here and converted with coremltools' own API,
outside the harness, as a team's build would; the LSTM becomes a TF while loop in the spec
(loop, branch, copy, scatter, gather, ...), so the control-flow layers are exercised by a real
converter's output. The golden texts are tokenized by the reference bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.check.compare import compare
from harness.core import bundle, config
from harness.core.cases import read_cases
from harness.core.paths import REFERENCE_BUNDLE
from harness.export.coreml_nn import nn_facts
from runtimes import registry
from runtimes.coreml_nn_ref.network import LayerRefused, Network

pytestmark = pytest.mark.coreml

GOLDEN_TEXTS = Path(__file__).resolve().parent.parent / "golden" / "texts.jsonl"


@pytest.fixture(scope="module")
def ref() -> bundle.Bundle:
    if not (REFERENCE_BUNDLE / bundle.MANIFEST).is_file():
        pytest.skip(f"no reference bundle at {REFERENCE_BUNDLE} (run `harness train`)")
    return bundle.load(REFERENCE_BUNDLE)


@pytest.fixture(scope="module")
def golden_ids(ref) -> np.ndarray:
    texts = [c.text for c in read_cases(GOLDEN_TEXTS)]
    return np.asarray(ref.tokenizer().encode_batch(texts), dtype=np.int32)


def _tf_keras_model(kind: str, ref: bundle.Bundle):
    """A tiny tf_keras (Keras 2) sentiment model, trained briefly (seeded) on the reference bundle's
    held-out reviews: random weights give an LSTM the same score for every review (its state
    forgets the words across the trailing padding), which would compare nothing."""
    import tensorflow as tf
    import tf_keras as k2

    from harness.data.corpus import held_out

    tf.keras.utils.set_random_seed(7)
    sig = ref.signature()
    vocab, length = sig.vocab_size, sig.length

    layers = [k2.layers.Input((length,), dtype="int32"), k2.layers.Embedding(vocab, 8)]
    if kind == "lstm":
        layers += [k2.layers.LSTM(8)]
    else:
        layers += [k2.layers.Conv1D(8, 3, activation="relu"), k2.layers.GlobalMaxPooling1D()]
    model = k2.Sequential(layers + [k2.layers.Dense(1, activation="sigmoid")])
    reviews = held_out(ref)
    ids = np.asarray(ref.tokenizer().encode_batch([r.text for r in reviews]), dtype=np.int32)
    labels = np.asarray([r.label for r in reviews], dtype=np.float32)
    model.compile(optimizer=k2.optimizers.Adam(0.01), loss="binary_crossentropy")
    model.fit(ids, labels, epochs=3, batch_size=64, verbose=0)
    return model


def _team_build(model, length: int, out: Path) -> dict[str, Path]:
    """What a team's build script does: coremltools' own API, float32 and float16 weights."""
    import coremltools as ct
    import tensorflow as tf
    from coremltools.models.neural_network import quantization_utils

    fn = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, length], tf.int32)])
    mlmodel = ct.convert(
        [fn.get_concrete_function()],
        source="tensorflow",
        convert_to="neuralnetwork",
        inputs=[ct.TensorType(shape=(ct.RangeDim(1, 1024, default=1), length), dtype=np.int32)],
    )
    paths = {"float32": out / "model.mlmodel", "float16": out / "model-f16.mlmodel"}
    mlmodel.save(str(paths["float32"]))
    quantization_utils.quantize_weights(mlmodel, nbits=16).save(str(paths["float16"]))
    return paths


def ct_spec(path: Path) -> Any:
    import coremltools as ct

    return ct.models.utils.load_spec(str(path))


def _within_policy(rid: str, keras: np.ndarray, got: np.ndarray) -> None:
    spec = registry.spec(rid)
    result = compare(rid, keras, got, tol=config.tolerance(rid, spec.precision), threshold=config.threshold())
    assert result.passed, f"{rid}: {result.reasons} (max |diff| {result.max_abs_diff:.3g})"


@pytest.mark.parametrize(
    "kind",
    [
        "lstm",  # the TF while loop: loop, branch, copy, scatter, gather (make test)
        # convolution and reduceMax are also what the reference CNN's export runs, in make test
        pytest.param("cnn", marks=pytest.mark.nightly),
    ],
)
def test_tf_keras_models_converted_by_a_team_build_run_within_policy(kind, ref, golden_ids, tmp_path):
    from runtimes.frameworks import coreml_quiet

    sig = ref.signature()
    with coreml_quiet():
        model = _tf_keras_model(kind, ref)
        keras = model.predict(golden_ids, batch_size=512, verbose=0).reshape(-1)
        paths = _team_build(model, sig.length, tmp_path)
    positives = int(np.sum(keras > 0.5))
    assert 10 <= positives <= len(keras) - 10, "the trained model must put reviews on both sides of the threshold"
    for rid, precision in (("coreml-nn-ref", "float32"), ("coreml-nn-ref@f16", "float16")):
        net = Network(paths[precision])
        assert set(net.weights.storage) == {precision}, net.weights.storage  # what the file stores
        if kind == "lstm":
            assert {"loop", "branch", "copy", "scatter", "gather", "batchedMatmul"} <= net.layer_types
            # the exporter's manifest walks the same sub-networks (a branch has no bodyNetwork)
            spec = ct_spec(paths[precision])
            assert net.layer_types == set(nn_facts(spec, precision)["nn_layers"])
        feed = golden_ids.astype(np.float32)
        got = net.run({net.inputs[0][0]: feed})[net.outputs[0]].reshape(-1)
        _within_policy(rid, keras, got)
        if precision == "float32":
            assert np.max(np.abs(got - keras)) < 1e-5  # float32 both sides: summation order only


def test_reference_bundle_exports_run_within_policy(ref, golden_ids, tmp_path, monkeypatch):
    """The harness's own exports of the Keras 3 reference model, opened as `harness predict` opens them."""
    from harness import export
    from harness.data.text_cnn import scores
    from runtimes.frameworks import import_keras

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    keras = scores(import_keras().saving.load_model(ref.model_path, compile=False), golden_ids)
    for rid in ("coreml-nn-ref", "coreml-nn-ref@f16"):
        rt = registry.get(rid)
        art = export.export(ref, rt.spec.target)
        with rt.open(ref, art) as session:
            _within_policy(rid, keras, session.run(golden_ids).scores)
            assert session.info["weights_stored"].keys() == {rt.spec.precision}


def test_a_layer_outside_the_table_is_refused_naming_it(tmp_path):
    """A model with a layer coreml-nn-ref does not implement is refused when opened, never guessed."""
    import coremltools as ct
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    builder = NeuralNetworkBuilder([("x", datatypes.Array(2, 4))], [("y", None)], disable_rank5_shape_mapping=True)
    builder.add_erf("erf", "x", "y")
    path = tmp_path / "erf.mlmodel"
    ct.models.MLModel(builder.spec, skip_model_load=True).save(str(path))
    with pytest.raises(LayerRefused, match=r"layer 'erf' \(erf\) is not implemented") as e:
        Network(path)
    assert e.value.layer_type == "erf"


def test_quantized_weights_are_refused_naming_the_layer(tmp_path):
    """8-bit linear weights (quantize_weights(nbits=8)) are a use the evaluator does not implement:
    refused at open time, naming the layer, rather than read as if they were floats."""
    import coremltools as ct
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder, quantization_utils

    builder = NeuralNetworkBuilder([("x", datatypes.Array(64))], [("y", None)], disable_rank5_shape_mapping=True)
    weights = np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32)
    builder.add_inner_product("dense", weights, None, 64, 64, has_bias=False, input_name="x", output_name="y")
    quantized = quantization_utils.quantize_weights(ct.models.MLModel(builder.spec, skip_model_load=True), nbits=8)
    path = tmp_path / "q8.mlmodel"
    quantized.save(str(path))
    with pytest.raises(LayerRefused, match=r"layer 'innerProduct' \(dense\): .*quantized weights \(8 bits\)") as e:
        Network(path)
    assert e.value.layer_type == "innerProduct"


def _counting_loop(tmp_path: Path, max_iterations: int, below: float | None, break_at: float | None = None) -> float:
    """A network whose output is how many times its loop body ran, built with Apple's own builder."""
    import coremltools as ct
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    b = NeuralNetworkBuilder([("x", datatypes.Array(1))], [("y", None)], disable_rank5_shape_mapping=True)
    b.add_load_constant_nd("zero", "count", constant_value=np.zeros(1), shape=(1,))
    b.add_load_constant_nd("one", "one", constant_value=np.ones(1), shape=(1,))
    loop = b.add_loop("loop", max_iterations=max_iterations)
    if below is not None:
        cond = NeuralNetworkBuilder(nn_spec=loop.loop.conditionNetwork, disable_rank5_shape_mapping=True)
        cond.add_less_than("less", ["count"], "go_on", alpha=below)
        loop.loop.conditionVar = "go_on"
    body = NeuralNetworkBuilder(nn_spec=loop.loop.bodyNetwork, disable_rank5_shape_mapping=True)
    body.add_add_broadcastable("inc", ["count", "one"], "next")
    body.add_copy("write_back", "next", "count")
    if break_at is not None:
        body.add_equal("at", ["count"], "stop", alpha=break_at)
        branch = body.add_branch("maybe_break", "stop")
        NeuralNetworkBuilder(nn_spec=branch.branch.ifBranch, disable_rank5_shape_mapping=True).add_loop_break("brk")
    b.add_add_broadcastable("out", ["count", "x"], "y")
    path = tmp_path / "loop.mlmodel"
    ct.models.MLModel(b.spec, skip_model_load=True).save(str(path))
    return float(Network(path).run({"x": np.zeros(1, dtype=np.float32)})["y"][0])


@pytest.mark.parametrize(
    ("max_iterations", "below", "break_at", "runs"),
    [
        (5, None, None, 5),  # case 1: no condition network, a for loop
        (0, 3.0, None, 3),  # case 2: a while loop
        (4, 10.0, None, 4),  # case 3: the joint condition stops at the count
        (6, 2.0, None, 2),  # case 3: ... or at the condition
        (9, None, 3.0, 3),  # loopBreak inside a branch of the body
    ],
)
def test_loop_semantics_follow_the_proto(tmp_path, max_iterations, below, break_at, runs):
    assert _counting_loop(tmp_path, max_iterations, below, break_at) == runs


@pytest.mark.parametrize(
    "kind",
    [
        "bilstm",  # uniDirectionalLSTM both ways and reverse (the fused path of harness/export/recurrent.py)
        pytest.param("gru", marks=pytest.mark.nightly),  # unrolled: the older slice layer
        pytest.param("masked", marks=pytest.mark.nightly),  # unrolled, masked: tile, whereBroadcastable
        pytest.param("attention", marks=pytest.mark.nightly),  # unary (rsqrt), reshapeStatic, softmaxND
    ],
)
def test_keras3_zoo_models_exported_as_neuralnetworks_match_keras(kind, tmp_path):
    """The harness's own NeuralNetwork export of Keras 3 zoo models (recurrent layers traced as
    harness/export/recurrent.py does), evaluated against Keras on random ids."""
    from harness.data import zoo
    from harness.export.coreml_nn import convert_nn
    from runtimes.frameworks import coreml_quiet

    vocab, length = 500, 24
    ids = np.random.default_rng(0).integers(0, vocab, (64, length)).astype(np.int32)
    with coreml_quiet():
        model = zoo.build(kind, vocab, length)
        keras = np.asarray(model(ids)).reshape(len(ids), -1)
        mlmodel, facts = convert_nn(model, "float32", tmp_path / kind)
        mlmodel.save(str(tmp_path / "model.mlmodel"))
    net = Network(tmp_path / "model.mlmodel")
    assert set(facts["nn_layers"]) == net.layer_types
    got = net.run({net.inputs[0][0]: ids.astype(np.float32)})[net.outputs[0]].reshape(len(ids), -1)
    tol = config.tolerance("coreml-nn-ref", "float32")
    assert np.max(np.abs(got - keras)) <= tol.atol

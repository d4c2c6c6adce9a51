"""Recurrent models on Core ML: coreml-ref's lstm, gru, rnn (and split, fill, reverse, scalar
concat) against independent references, and small zoo models through the real exporter.

References, in order of authority:
- float64 numpy loops written from the formulas of Apple's own MIL op tests
  (coremltools mil/ops/tests/iOS14/test_recurrent.py), which run against Core ML on macOS;
- Keras's own layers (LSTM, GRU(reset_after=False), SimpleRNN, Bidirectional) with their
  weights rearranged into MIL's layout: an implementation that shares nothing with ours;
- for the zoo, the Keras model itself, on random token ids (no padding, so every step counts).
The zoo models are the brief's architectures at a short length (the conversion of an unrolled
GRU takes ~30 s per precision at the reference length 48; at 6 it takes a few seconds).
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.errors import HarnessError
from runtimes.coreml_ref import ops
from runtimes.coreml_ref.evaluator import apply

pytestmark = pytest.mark.coreml

F16, F32 = np.float16, np.float32
RNG = np.random.default_rng(2024)


def rand(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(F32)


def sig(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


ACT = {
    "sigmoid": sig,
    "tanh": np.tanh,
    "scaled_tanh": np.tanh,
    "relu": lambda x: np.maximum(0, x),
    "hard_sigmoid": lambda x: np.minimum(np.maximum(0.2 * x + 0.5, 0), 1),
    "linear": lambda x: x,
}


def run(op_type: str, dtype=F32, **inputs):
    """An op with several outputs as the evaluator runs it: compute, round every output."""
    fn = ops.OPS[op_type]
    with np.errstate(all="ignore"):
        out = fn(**inputs)
    return tuple(np.asarray(o).astype(dtype) for o in out) if isinstance(out, tuple) else np.asarray(out).astype(dtype)


# --- float64 references from Apple's test formulas ----------------------------------------------


def lstm_ref(x, h, c, w_ih, w_hh, b, p, acts=("sigmoid", "tanh", "tanh"), clip=None):
    """One direction, forward; x [s, b, I]. test_numpy_numerical's loop, batched. Returns h per step."""
    ra, ca, a = (ACT[n] for n in acts)
    x, h, c = (np.asarray(v, np.float64) for v in (x, h, c))
    wi, wf, wo, wz = np.split(np.asarray(w_ih, np.float64), 4)
    ui, uf, uo, uz = np.split(np.asarray(w_hh, np.float64), 4)
    bi, bf, bo, bz = np.split(np.asarray(b, np.float64), 4)
    pi, pf, po = np.split(np.asarray(p, np.float64), 3)
    out = []
    for t in range(x.shape[0]):
        xt = x[t]
        i = ra(xt @ wi.T + h @ ui.T + bi + c * pi)
        f = ra(xt @ wf.T + h @ uf.T + bf + c * pf)
        z = ca(xt @ wz.T + h @ uz.T + bz)
        c = c * f + i * z
        if clip is not None:
            c = np.clip(c, -clip, clip)
        o = ra(xt @ wo.T + h @ uo.T + bo + c * po)
        h = o * a(c)
        out.append(h)
    return np.stack(out), h, c


def gru_ref(x, h, w_ih, w_hh, b, acts=("sigmoid", "tanh")):
    """TestGRU's get_numpy_prediction_gru_single_batch, batched: rows [r, o, z], reset before R_o."""
    ra, a = (ACT[n] for n in acts)
    x, h = np.asarray(x, np.float64), np.asarray(h, np.float64)
    wr, wo, wz = np.split(np.asarray(w_ih, np.float64), 3)
    ur, uo, uz = np.split(np.asarray(w_hh, np.float64), 3)
    br, bo, bz = np.split(np.asarray(b, np.float64), 3)
    out = []
    for t in range(x.shape[0]):
        z = ra(x[t] @ wz.T + h @ uz.T + bz)
        r = ra(x[t] @ wr.T + h @ ur.T + br)
        o = a(x[t] @ wo.T + (h * r) @ uo.T + bo)
        h = (1 - z) * o + z * h
        out.append(h)
    return np.stack(out), h


def lstm_case(s=5, b=3, i=4, hidden=6):
    return dict(
        x=rand(s, b, i),
        initial_h=rand(b, hidden, scale=0.5),
        initial_c=rand(b, hidden, scale=0.5),
        weight_ih=rand(4 * hidden, i, scale=0.5),
        weight_hh=rand(4 * hidden, hidden, scale=0.5),
        bias=rand(4 * hidden, scale=0.5),
    )


# --- lstm ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_sequence", [True, False])
@pytest.mark.parametrize("peephole", [False, True])
@pytest.mark.parametrize("clip", [None, 0.3])
def test_lstm_forward_against_apples_reference(output_sequence, peephole, clip):
    case = lstm_case()
    hidden = case["weight_hh"].shape[1]
    p = rand(3 * hidden) if peephole else np.zeros(3 * hidden, F32)
    kw = dict(case, output_sequence=output_sequence)
    if peephole:
        kw["peephole"] = p
    if clip is not None:
        kw["clip"] = F32(clip)
    seq, h, c = run("lstm", **kw)
    r_seq, r_h, r_c = lstm_ref(
        case["x"],
        case["initial_h"],
        case["initial_c"],
        case["weight_ih"],
        case["weight_hh"],
        case["bias"],
        p,
        clip=clip,
    )
    np.testing.assert_allclose(seq, r_seq if output_sequence else r_seq[-1:], atol=2e-6)
    np.testing.assert_allclose(h, r_h, atol=2e-6)
    np.testing.assert_allclose(c, r_c, atol=2e-6)
    assert seq.shape == ((5 if output_sequence else 1), 3, hidden)
    if clip is not None:
        assert np.abs(c).max() <= clip + 1e-7  # the cell STATE is clipped (Apple's reference)


@pytest.mark.parametrize(
    "acts", [("sigmoid", "tanh", "relu"), ("hard_sigmoid", "scaled_tanh", "linear"), ("tanh", "sigmoid", "sigmoid")]
)
def test_lstm_activations(acts):
    case = lstm_case()
    hidden = case["weight_hh"].shape[1]
    seq, _, _ = run(
        "lstm", **case, output_sequence=True, recurrent_activation=acts[0], cell_activation=acts[1], activation=acts[2]
    )
    ref, _, _ = lstm_ref(
        case["x"], case["initial_h"], case["initial_c"], case["weight_ih"], case["weight_hh"], case["bias"],
        np.zeros(3 * hidden), acts,
    )  # fmt: skip
    np.testing.assert_allclose(seq, ref, atol=2e-6)


def test_lstm_reverse_returns_steps_in_processing_order():
    case = lstm_case()
    hidden = case["weight_hh"].shape[1]
    seq, h, c = run("lstm", **case, direction="reverse", output_sequence=True)
    ref, r_h, r_c = lstm_ref(
        case["x"][::-1], case["initial_h"], case["initial_c"], case["weight_ih"], case["weight_hh"], case["bias"],
        np.zeros(3 * hidden),
    )  # fmt: skip
    np.testing.assert_allclose(seq, ref, atol=2e-6)  # step k = after reading x[s-1-k]; not flipped back
    np.testing.assert_allclose(h, r_h, atol=2e-6)
    np.testing.assert_allclose(c, r_c, atol=2e-6)
    last, _, _ = run("lstm", **case, direction="reverse", output_sequence=False)
    np.testing.assert_allclose(last[0], r_h, atol=2e-6)


@pytest.mark.parametrize("output_sequence", [True, False])
def test_lstm_bidirectional_aligns_the_backward_half_with_input_positions(output_sequence):
    s, b, i, hidden = 4, 2, 3, 5
    fwd, bwd = lstm_case(s, b, i, hidden), lstm_case(s, b, i, hidden)
    x = fwd["x"]
    h0, c0 = rand(b, 2 * hidden), rand(b, 2 * hidden)
    seq, h, c = run(
        "lstm", x=x, initial_h=h0, initial_c=c0,
        weight_ih=fwd["weight_ih"], weight_hh=fwd["weight_hh"], bias=fwd["bias"],
        weight_ih_back=bwd["weight_ih"], weight_hh_back=bwd["weight_hh"], bias_back=bwd["bias"],
        direction="bidirectional", output_sequence=output_sequence,
    )  # fmt: skip
    zp = np.zeros(3 * hidden)
    f_seq, f_h, f_c = lstm_ref(x, h0[:, :hidden], c0[:, :hidden], fwd["weight_ih"], fwd["weight_hh"], fwd["bias"], zp)
    b_seq, b_h, b_c = lstm_ref(
        x[::-1], h0[:, hidden:], c0[:, hidden:], bwd["weight_ih"], bwd["weight_hh"], bwd["bias"], zp
    )
    want = np.concatenate([f_seq, b_seq[::-1]], -1) if output_sequence else np.concatenate([f_h, b_h], -1)[None]
    np.testing.assert_allclose(seq, want, atol=2e-6)
    np.testing.assert_allclose(h, np.concatenate([f_h, b_h], -1), atol=2e-6)
    np.testing.assert_allclose(c, np.concatenate([f_c, b_c], -1), atol=2e-6)
    if output_sequence:  # torch's convention in Apple's bidirectional test: position 0 holds the backward final
        np.testing.assert_allclose(seq[0, :, hidden:], b_h, atol=2e-6)


def test_lstm_fp16_carries_fp16_states_and_stays_close():
    case = {k: v.astype(F16) for k, v in lstm_case(s=12).items()}
    seq, h, c = run("lstm", F16, **case, output_sequence=True)
    hidden = case["weight_hh"].shape[1]
    ref, _, _ = lstm_ref(
        case["x"], case["initial_h"], case["initial_c"], case["weight_ih"], case["weight_hh"], case["bias"],
        np.zeros(3 * hidden),
    )  # fmt: skip
    assert seq.dtype == F16
    np.testing.assert_allclose(seq.astype(np.float64), ref, atol=5e-3)


def test_lstm_refuses_what_it_cannot_compute():
    case = lstm_case()
    with pytest.raises(ops.Unsupported, match="direction"):
        run("lstm", **case, direction="sideways")
    with pytest.raises(ops.Unsupported, match="activation"):
        run("lstm", **case, activation="gelu")
    with pytest.raises(ops.Unsupported, match="weight_ih_back"):
        run("lstm", **dict(case, initial_h=rand(3, 12), initial_c=rand(3, 12)), direction="bidirectional")
    with pytest.raises(ops.Unsupported, match="initial"):
        run("lstm", **dict(case, initial_h=rand(3, 7)))


# --- gru and rnn -----------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["forward", "reverse"])
@pytest.mark.parametrize("acts", [("sigmoid", "tanh"), ("tanh", "sigmoid")])
def test_gru_against_apples_reference(direction, acts):
    s, b, i, hidden = 5, 3, 4, 6
    x, h0 = rand(s, b, i), rand(b, hidden, scale=0.5)
    w_ih, w_hh, bias = rand(3 * hidden, i, scale=0.5), rand(3 * hidden, hidden, scale=0.5), rand(3 * hidden)
    seq, h = run(
        "gru", x=x, initial_h=h0, weight_ih=w_ih, weight_hh=w_hh, bias=bias, direction=direction,
        output_sequence=True, recurrent_activation=acts[0], activation=acts[1],
    )  # fmt: skip
    ref, r_h = gru_ref(x if direction == "forward" else x[::-1], h0, w_ih, w_hh, bias, acts)
    np.testing.assert_allclose(seq, ref, atol=2e-6)
    np.testing.assert_allclose(h, r_h, atol=2e-6)


def test_gru_input_bias_adds_and_reset_after_is_refused():
    s, b, i, hidden = 3, 2, 4, 5
    kw = dict(
        x=rand(s, b, i), initial_h=rand(b, hidden), weight_ih=rand(3 * hidden, i), weight_hh=rand(3 * hidden, hidden)
    )
    b1, b2 = rand(3 * hidden), rand(3 * hidden)
    both, _ = run("gru", **kw, bias=b1, input_bias=b2, output_sequence=True)
    summed, _ = run("gru", **kw, bias=b1 + b2, output_sequence=True)
    np.testing.assert_allclose(both, summed, atol=1e-6)
    with pytest.raises(ops.Unsupported, match="reset_after"):
        run("gru", **kw, reset_after=True)


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_rnn_against_the_formula(direction):
    s, b, i, hidden = 6, 2, 3, 4
    x, h0 = rand(s, b, i), rand(b, hidden)
    w_ih, w_hh, bias = rand(hidden, i), rand(hidden, hidden, scale=0.5), rand(hidden)
    seq, h = run(
        "rnn", x=x, initial_h=h0, weight_ih=w_ih, weight_hh=w_hh, bias=bias, direction=direction, output_sequence=True
    )
    xs = x.astype(np.float64)[:: 1 if direction == "forward" else -1]
    ref, state = [], h0.astype(np.float64)
    for t in range(s):
        state = np.tanh(xs[t] @ w_ih.T + state @ w_hh.T + bias)
        ref.append(state)
    np.testing.assert_allclose(seq, np.stack(ref), atol=2e-6)
    np.testing.assert_allclose(h, state, atol=2e-6)


# --- tensor ops of the exported graphs ----------------------------------------------------------


def test_split_even_and_sized():
    x = np.arange(24, dtype=F32).reshape(2, 12)
    parts = ops.OPS["split"](x=x, axis=1, num_splits=3)
    assert [p.tolist() for p in parts] == [p.tolist() for p in np.split(x, 3, axis=1)]
    parts = ops.OPS["split"](x=x, axis=-1, split_sizes=np.array([2, 7, 3], np.int32))
    assert [p.shape for p in parts] == [(2, 2), (2, 7), (2, 3)] and parts[2].tolist() == x[:, 9:].tolist()
    assert ops.OPS["split"](x=x, axis=0, num_splits=1).shape == (2, 12)  # one output: a tensor, not a tuple
    with pytest.raises(ops.Unsupported):
        ops.OPS["split"](x=x, axis=1, num_splits=5)
    with pytest.raises(ops.Unsupported):
        ops.OPS["split"](x=x, axis=1, split_sizes=np.array([5, 5], np.int32))


def test_tile():
    x = np.arange(6, dtype=F32).reshape(2, 3, 1)
    assert ops.OPS["tile"](x=x, reps=np.array([1, 1, 4], np.int32)).tolist() == np.tile(x, (1, 1, 4)).tolist()
    assert ops.OPS["tile"](x=x, reps=np.array([2, 1, 1], np.int32)).shape == (4, 3, 1)
    for bad in ([2, 2], [1, 0, 1]):
        with pytest.raises(ops.Unsupported):
            ops.OPS["tile"](x=x, reps=np.array(bad, np.int32))


def test_fill_reverse_and_scalar_concat():
    out = apply("fill", F16, shape=np.array([3, 2], np.int32), value=np.asarray(1.5, F32))
    assert out.dtype == F16 and out.shape == (3, 2) and (out == 1.5).all()
    with pytest.raises(ops.Unsupported):
        ops.OPS["fill"](shape=np.array([0, 2], np.int32))
    x = np.arange(12).reshape(3, 4)
    assert ops.OPS["reverse"](x=x, axes=np.array([0], np.int32)).tolist() == x[::-1].tolist()
    assert ops.OPS["reverse"](x=x, axes=np.array([-1], np.int32)).tolist() == x[:, ::-1].tolist()
    assert ops.OPS["reverse"](x=x).tolist() == x[::-1, ::-1].tolist()
    # TF's Pack of the batch size and the unit count, as the converter emits it for an RNN's zero state
    out = apply("concat", np.int32, values=[np.int32(7), np.int32(16)], axis=0)
    assert out.tolist() == [7, 16]
    assert apply("concat", F32, values=[np.ones((2, 1), F32), np.zeros((2, 2), F32)], axis=-1).shape == (2, 3)


# --- against Keras's own layers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    from runtimes.frameworks import import_keras

    return import_keras()


def _ifco_to_ifoz(m: np.ndarray) -> np.ndarray:
    """Keras [.., 4H] columns i, f, c, o -> MIL rows i, f, o, z(=c)."""
    i, f, c, o = np.split(m, 4, axis=-1)
    return np.concatenate([i, f, o, c], axis=-1).T


def test_lstm_matches_keras_lstm_forward_backwards_and_bidirectional(keras):
    s, b, i, hidden = 7, 3, 5, 6
    x = rand(b, s, i)
    fwd = keras.layers.LSTM(hidden, return_sequences=True, return_state=True)
    seq, h, c = (np.asarray(t) for t in fwd(x))
    k, u, bias = fwd.get_weights()
    mil = dict(weight_ih=_ifco_to_ifoz(k), weight_hh=_ifco_to_ifoz(u), bias=_ifco_to_ifoz(bias[None])[:, 0])
    zeros = np.zeros((b, hidden), F32)
    got, g_h, g_c = run("lstm", x=x.transpose(1, 0, 2), initial_h=zeros, initial_c=zeros, **mil, output_sequence=True)
    np.testing.assert_allclose(got.transpose(1, 0, 2), seq, atol=1e-5)
    np.testing.assert_allclose(g_h, h, atol=1e-5)
    np.testing.assert_allclose(g_c, c, atol=1e-5)

    bi = keras.layers.Bidirectional(keras.layers.LSTM(hidden, return_sequences=True))
    want = np.asarray(bi(x))
    fk, fu, fb, bk, bu, bb = bi.get_weights()
    zeros2 = np.zeros((b, 2 * hidden), F32)
    got, _, _ = run(
        "lstm", x=x.transpose(1, 0, 2), initial_h=zeros2, initial_c=zeros2,
        weight_ih=_ifco_to_ifoz(fk), weight_hh=_ifco_to_ifoz(fu), bias=_ifco_to_ifoz(fb[None])[:, 0],
        weight_ih_back=_ifco_to_ifoz(bk), weight_hh_back=_ifco_to_ifoz(bu), bias_back=_ifco_to_ifoz(bb[None])[:, 0],
        direction="bidirectional", output_sequence=True,
    )  # fmt: skip
    np.testing.assert_allclose(got.transpose(1, 0, 2), want, atol=1e-5)


def test_gru_matches_keras_gru_reset_before_and_rnn_matches_simple_rnn(keras):
    s, b, i, hidden = 6, 2, 4, 5
    x = rand(b, s, i)
    layer = keras.layers.GRU(hidden, return_sequences=True, reset_after=False)
    want = np.asarray(layer(x))
    k, u, bias = layer.get_weights()  # columns z, r, h -> MIL rows r, o(=h), z

    def rows(m):
        z, r, hh = np.split(m, 3, axis=-1)
        return np.concatenate([r, hh, z], axis=-1).T

    got, _ = run(
        "gru", x=x.transpose(1, 0, 2), initial_h=np.zeros((b, hidden), F32),
        weight_ih=rows(k), weight_hh=rows(u), bias=rows(bias[None])[:, 0], output_sequence=True,
    )  # fmt: skip
    np.testing.assert_allclose(got.transpose(1, 0, 2), want, atol=1e-5)

    simple = keras.layers.SimpleRNN(hidden, return_sequences=True, go_backwards=True)
    want = np.asarray(simple(x))  # go_backwards: Keras also returns processing order
    k, u, bias = simple.get_weights()
    got, _ = run(
        "rnn", x=x.transpose(1, 0, 2), initial_h=np.zeros((b, hidden), F32), weight_ih=k.T, weight_hh=u.T,
        bias=bias, direction="reverse", output_sequence=True,
    )  # fmt: skip
    np.testing.assert_allclose(got.transpose(1, 0, 2), want, atol=1e-5)


# --- the zoo through the real exporter ---------------------------------------------------------

VOCAB, LENGTH = 300, 6


def zoo_model(keras, kind: str, length: int = LENGTH):
    """The brief's architectures (harness/data/zoo.py, shared with the model zoo test and
    `make bench`), seed 11; embeddings ~N(0, 1) so the gates leave their linear range; every
    layer named (auto-names carry a per-process counter, which depends on what ran before)."""
    from harness.data import zoo

    return zoo.build(kind, VOCAB, length, seed=11)


ZOO = {  # kind -> (path of each recurrent layer, MIL ops that must appear)
    "lstm": (["fused"], {"lstm"}),
    "stacked": (["fused", "fused"], {"lstm"}),
    "gru": (["unrolled"], {"matmul", "sigmoid", "tanh", "split"}),
    "bigru": (["unrolled", "unrolled"], {"matmul", "sigmoid", "tanh", "split", "softmax"}),
    "bilstm": (["fused", "fused"], {"lstm", "reverse", "softmax"}),
    "masked": (["unrolled"], {"tile", "select", "not_equal"}),  # a mask has no fused form: Keras's unrolled masking
}


@pytest.mark.parametrize("kind", list(ZOO))
def test_zoo_model_exports_and_coreml_ref_matches_keras(keras, kind, tmp_path):
    from harness.export.coreml import convert
    from runtimes.coreml_ref.evaluator import Program

    model = zoo_model(keras, kind)
    ids = RNG.integers(1, VOCAB, (64, LENGTH)).astype(np.int32)
    if kind == "masked":
        ids[:, 4:] = 0  # post-padding, as the reference tokenizer pads
        ids[::3, 2:] = 0
    want = np.asarray(model(ids, training=False))
    paths, must = ZOO[kind]
    for precision, atol in (("float32", 1e-4), ("float16", 0.05)):
        mlmodel, facts = convert(model, precision, tmp_path / f"{kind}.keras")
        assert sorted(p["path"] for p in facts["recurrent"]) == paths
        assert must <= set(facts["mil_ops"]) and "while_loop" not in facts["mil_ops"]
        assert ("lstm" in facts["mil_ops"]) == (paths[0] == "fused")
        package = tmp_path / f"{kind}-{precision}.mlpackage"
        mlmodel.save(str(package))
        program = Program(package)
        got = program.run({program.inputs[0].name: ids})[program.outputs[0].name]
        diff = float(np.abs(got - want).max())
        print(f"{kind} {precision}: max |diff| {diff:.3g} over {want.size} scores (std {want.std():.3f})")
        assert diff <= atol, f"{kind} {precision}: max |diff| {diff:.3g}"
        assert want.std() > 0.02, "scores barely vary: the comparison would prove little"
    from keras.src import backend as keras_backend

    from harness.export.recurrent import recurrent_layers

    assert not any(layer.unroll for layer in recurrent_layers(model)), "the export must leave the model as it was"
    assert keras_backend.lstm.__module__ == "keras.src.backend.tensorflow.rnn"


def test_coremltools_still_fails_on_keras3_while_loops(keras):
    """The upstream bug the exporter works around (harness/export/recurrent.py). If this starts
    passing conversion, coremltools fixed it: the fused/unrolled tracing may then be revisited."""
    import tensorflow as tf

    from harness.export.coreml import frozen_heap, import_coremltools, quiet

    ct = import_coremltools()
    model = zoo_model(keras, "lstm")
    fn = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, LENGTH], tf.int32)])
    with quiet(), frozen_heap(), pytest.raises(IndexError, match="list index out of range"):
        ct.convert([fn.get_concrete_function()], source="tensorflow", convert_to="mlprogram")


def test_a_loop_the_exporter_cannot_remove_gives_a_one_line_reason(keras, tmp_path):
    from harness.export.coreml import convert

    class Cumulative(keras.layers.Layer):
        """A custom while loop (not a Keras RNN): nothing to fuse or unroll."""

        def call(self, x):
            steps = x.shape[1]

            def body(t, acc):
                return t + 1, acc * 0.5 + x[:, 0]

            return keras.ops.while_loop(lambda t, acc: t < steps, body, (0, x[:, 0]), maximum_iterations=steps)[1]

    inputs = keras.Input((LENGTH,), dtype="int32")
    x = Cumulative()(keras.layers.Embedding(VOCAB, 4)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    with pytest.raises(HarnessError) as info:
        convert(model, "float32", tmp_path / "loop.keras")
    message = str(info.value)
    print(message)
    assert "\n" not in message and "while loop" in message and "loop.keras" in message, message

    stateful = keras.Sequential([keras.Input((LENGTH,), batch_size=2, dtype="int32"),
                                 keras.layers.Embedding(VOCAB, 4), keras.layers.LSTM(4, stateful=True),
                                 keras.layers.Dense(1)])  # fmt: skip
    with pytest.raises(HarnessError, match="stateful"):
        convert(stateful, "float32", tmp_path / "stateful.keras")

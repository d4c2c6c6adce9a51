"""`harness compare --layers` names the layer where a runtime parts from Keras.

- Deliberately perturbed runtimes (runtimes/testing.py): an embedding row shifted is localized
  to the embedding; a Dense kernel shifted, to that Dense layer, with every earlier tensor
  identical. A runtime that shows no tensor says so.
- The reference model through TF.js (u8 weights) and coreml-ref (fp16): the u8 variant's first
  tensor over the bar is the embedding (its weights are quantized); coreml-ref's fp16 error is
  visible per op and grows from the embedding to the convolution. The mapping is derived from
  the artifacts (checked here on TF's grappler-rewritten graph, where relu follows the pooling).
- A recurrent zoo model (tests/test_coreml_recurrent.py): the LSTM's output and final cell state.
- The report links worst cases to this view and charts the reduced-precision runtime's layers.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import cli
from harness.check import layer_map
from harness.check.layers import LayerTrace, RuntimeTrace, trace
from harness.core.paths import REFERENCE_BUNDLE
from harness.run.engines import Engines
from runtimes import registry
from runtimes.tensors import OUTPUT, PRE, CannotExpose, GraphNode, Probe, TensorGraph
from runtimes.testing import (
    OPAQUE_ID,
    PERTURBED_DENSE_ID,
    PERTURBED_ID,
    opaque_spec,
    perturbed_dense_spec,
    perturbed_spec,
)

TEXT = "a gorgeous, witty film"


def rows(rt: RuntimeTrace) -> dict[str, Any]:
    return {r.probe: r for r in rt.rows}


def runtime(t: LayerTrace, rid: str) -> RuntimeTrace:
    return next(r for r in t.runtimes if r.runtime == rid)


def cli_run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


# ---- the mapping, on graphs as the converters write them (no framework) ------------------------


def cnn_probes() -> TensorGraph:
    def p(name: str, kind: str, cls: str, shape: tuple[int | None, ...], act: str | None = None, inbound=()):
        return Probe(name, name.split(":")[0], kind, cls, shape, act, tuple(inbound))

    return TensorGraph(
        probes=(
            p("embedding", OUTPUT, "Embedding", (None, 48, 32), inbound=["token_ids"]),
            p("conv:pre", PRE, "Conv1D", (None, 46, 64), "relu", ["embedding"]),
            p("conv", OUTPUT, "Conv1D", (None, 46, 64), "relu", ["embedding"]),
            p("pool", OUTPUT, "GlobalMaxPooling1D", (None, 64), inbound=["conv"]),
            p("dropout", OUTPUT, "Dropout", (None, 64), inbound=["pool"]),
            p("score:pre", PRE, "Dense", (None, 1), "sigmoid", ["dropout"]),
            p("score", OUTPUT, "Dense", (None, 1), "sigmoid", ["dropout"]),
        ),
        model="sentiment_cnn",
    )


def grappler_graph() -> TensorGraph:
    """The reference model's TF.js graph as tensorflowjs 4.22 writes it: relu after the max."""
    s = "StatefulPartitionedCall/sentiment_cnn_1/"
    nodes = [
        GraphNode(s + "embedding_1/Less", "Less", ("token_ids",)),
        GraphNode(s + "embedding_1/add", "AddV2", ("token_ids",)),
        GraphNode(s + "embedding_1/SelectV2", "SelectV2", (s + "embedding_1/Less", s + "embedding_1/add")),
        GraphNode(s + "embedding_1/GatherV2", "GatherV2", (s + "embedding_1/SelectV2",)),
        GraphNode(s + "conv_1/convolution/ExpandDims", "ExpandDims", (s + "embedding_1/GatherV2",)),
        GraphNode(s + "conv_1/convolution", "_FusedConv2D", (s + "conv_1/convolution/ExpandDims",), ("BiasAdd",)),
        GraphNode(s + "conv_1/BiasAdd", "Squeeze", (s + "conv_1/convolution",)),
        GraphNode(s + "pool_1/Max", "Max", (s + "conv_1/BiasAdd",)),
        GraphNode(s + "conv_1/Relu", "Relu", (s + "pool_1/Max",)),
        GraphNode(s + "score_1/Sigmoid", "_FusedMatMul", (s + "conv_1/Relu",), ("BiasAdd", "Sigmoid")),
        GraphNode("Identity", "Identity", (s + "score_1/Sigmoid",)),
    ]
    return TensorGraph(nodes=tuple(nodes))


def test_mapping_follows_the_optimizer_not_the_names():
    s = "StatefulPartitionedCall/sentiment_cnn_1/"
    found = {c.probe.name: c for c in layer_map.candidates(cnn_probes(), grappler_graph())}
    assert found["embedding"].nodes[0] == s + "embedding_1/GatherV2"
    assert found["conv:pre"].nodes[0] == s + "conv_1/BiasAdd"  # the last conv tensor is before relu
    assert not found["conv"].nodes and "after a later layer's op" in found["conv"].note
    assert found["pool"].nodes[0] == s + "conv_1/Relu"  # relu(max(x)) = max(relu(x)): the pool's output
    assert found["dropout"].follows == "pool"  # no op of its own at inference
    assert not found["score:pre"].nodes and "fused into" in found["score:pre"].note
    assert found["score"].nodes == [s + "score_1/Sigmoid"]


def test_scopes_prefer_the_model_scopes_suffix():
    scopes = layer_map.LayerScopes("m", ["dense", "dense_1"], "_")
    assert scopes.of("m_1_dense_1_MatMul") == ("dense", "MatMul")
    assert scopes.of("m_1_dense_1_1_MatMul") == ("dense_1", "MatMul")
    assert scopes.of("cast_0") is None
    tf = layer_map.LayerScopes("zoo_attention", ["dense", "dense_1"], "/")
    assert tf.of("StatefulPartitionedCall/zoo_attention_1/dense_1_2/Sigmoid") == ("dense_1", "Sigmoid")
    assert tf.of("StatefulPartitionedCall/zoo_attention_1/dense_1/Relu") == ("dense", "Relu")


def test_unrolled_lstm_cell_state_is_the_input_of_the_last_tanh():
    """Keras's unrolled LSTM as TF.js runs it (harness/export/graph_rewrites.py unrolls every RNN):
    h = o * tanh(c) at the last step, the steps stacked for return_sequences; a masked one ends
    in a select, which is not h = o * tanh(c): not identified rather than guessed."""
    cell = "m_1/lstm_1/lstm_cell_95/"
    nodes = (
        GraphNode(cell + "add_1", "AddV2", (cell + "mul", cell + "mul_1")),
        GraphNode(cell + "Tanh_1", "Tanh", (cell + "add_1",)),
        GraphNode(cell + "mul_2", "Mul", (cell + "Sigmoid_2", cell + "Tanh_1")),
        GraphNode("m_1/lstm_1/stack", "Pack", ("m_1/lstm_1/lstm_cell_1/mul_2", cell + "mul_2")),
        GraphNode("m_1/lstm_1/transpose_1", "Transpose", ("m_1/lstm_1/stack",)),
        GraphNode("m_1/lstm_1/SelectV2_9", "SelectV2", ("mask", cell + "mul_2", "h_prev")),
    )
    graph = TensorGraph(nodes=nodes)
    assert layer_map.cell_state_of(cell + "mul_2", graph) == cell + "add_1"
    assert layer_map.cell_state_of("m_1/lstm_1/transpose_1", graph) == cell + "add_1"  # return_sequences
    assert layer_map.cell_state_of("m_1/lstm_1/SelectV2_9", graph) is None


def test_a_session_that_cannot_expose_says_why():
    from runtimes.coreml_native import CoremlNativeSession

    assert "Apple" in CoremlNativeSession.cannot_expose and "declared outputs" in CoremlNativeSession.cannot_expose
    session = CoremlNativeSession.__new__(CoremlNativeSession)
    with pytest.raises(CannotExpose, match="Apple's Core ML runtime"):
        session.intermediates(np.zeros((1, 48), np.int32), ["x"])


# ---- perturbed runtimes: localized to the perturbed layer -------------------------------------


@pytest.fixture(scope="module")
def good_id(reference_bundle) -> int:
    return reference_bundle.tokenizer().vocab.index("good")


@pytest.fixture(scope="module")
def perturbed(reference_bundle, good_id) -> Iterator[Engines]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry.SPECS, PERTURBED_ID, perturbed_spec(good_id))
        mp.setitem(registry.SPECS, PERTURBED_DENSE_ID, perturbed_dense_spec("score"))
        mp.setitem(registry.SPECS, OPAQUE_ID, opaque_spec())
        ids = ["keras", PERTURBED_ID, PERTURBED_DENSE_ID, OPAQUE_ID]
        with Engines(reference_bundle, [registry.get(r) for r in ids], ["py"]) as engines:
            yield engines


def test_perturbed_embedding_is_localized_to_the_embedding(perturbed):
    rt = runtime(trace(perturbed, "a good film"), PERTURBED_ID)
    first = rt.first_over
    assert first is not None and first.probe == "embedding"
    emb = rows(rt)["embedding"]
    assert emb.max_abs_diff == pytest.approx(1.0, abs=1e-6)  # the shifted row, delta 1.0
    assert emb.worst_index is not None and emb.worst_index[1] == 1  # "good" is the second token
    clean = runtime(trace(perturbed, "a gorgeous, witty film"), PERTURBED_ID)  # no "good": nothing differs
    assert clean.first_over is None and all(r.max_abs_diff == 0 for r in clean.rows)


def test_perturbed_dense_is_localized_to_the_dense_layer(perturbed):
    rt = runtime(trace(perturbed, TEXT), PERTURBED_DENSE_ID)
    by = rows(rt)
    assert all(by[p].max_abs_diff == 0 for p in ("embedding", "conv:pre", "conv", "pool", "dropout"))
    first = rt.first_over
    assert first is not None and first.probe == "score:pre" and by["score:pre"].max_abs_diff > 0.01


def test_a_runtime_that_cannot_expose_tensors_says_so(perturbed):
    rt = runtime(trace(perturbed, TEXT), OPAQUE_ID)
    assert rt.cannot_expose == "this engine returns only the model's declared outputs"
    assert rt.score is not None and all(r.max_abs_diff is None and "cannot expose" in r.detail for r in rt.rows)


# ---- the reference model through TF.js u8 and coreml-ref fp16 ---------------------------------


@pytest.fixture(scope="module")
def shipped(reference_bundle) -> Iterator[LayerTrace]:
    ids = ["keras", "tfjs-wasm@u8", "coreml-ref"]
    with Engines(reference_bundle, [registry.get(r) for r in ids], ["py"]) as engines:
        yield trace(engines, TEXT)


@pytest.mark.browser
@pytest.mark.coreml
def test_u8_first_large_diff_is_the_embedding(shipped):
    rt = runtime(shipped, "tfjs-wasm@u8")
    assert rt.error is None, rt.error
    first = rt.first_over
    assert first is not None and first.probe == "embedding" and first.op == "GatherV2"
    by = rows(rt)
    assert by["pool"].node is not None and by["pool"].node.endswith("conv_1/Relu")  # grappler's relu(max(x))
    assert by["conv"].node is None and "after a later layer's op" in by["conv"].detail
    assert by["score"].max_abs_diff is not None and by["score"].max_abs_diff < 0.05  # within the score policy


@pytest.mark.browser
@pytest.mark.coreml
def test_coreml_ref_fp16_growth_is_visible_per_op(shipped):
    rt = runtime(shipped, "coreml-ref")
    by = rows(rt)
    ops = {p: by[p].op for p in ("embedding", "conv:pre", "conv", "pool", "score:pre", "score")}
    assert ops == {"embedding": "gather", "conv:pre": "transpose", "conv": "relu", "pool": "reduce_max",
                   "score:pre": "linear", "score": "sigmoid"}  # fmt: skip
    diffs = {p: by[p].max_abs_diff for p in ops}
    assert all(d is not None and d > 0 for d in diffs.values()), diffs  # every op rounds to fp16
    assert diffs["conv:pre"] > diffs["embedding"]  # the convolution sums 3 x width rounded products: it grows
    ref = {t.probe: t.max_abs for t in shipped.tensors}
    assert all(d < 4 * 2**-11 * ref[p] + 1e-4 for p, d in diffs.items())  # fp16 rounding, not a bug


@pytest.mark.browser
@pytest.mark.coreml
def test_cli_prints_per_layer_diffs_for_every_runtime():
    rc, out, err = cli_run("compare", "--layers", TEXT, "--runtimes", "keras,tfjs-wasm@u8,coreml-ref")
    assert rc == 0, err
    assert "tfjs-wasm@u8 (uint8" in out and "coreml-ref (float16" in out
    assert "first over: embedding" in out and "<- first over" in out
    assert out.count("conv (before relu)") == 3  # the reference and both runtimes
    rc, out, err = cli_run("compare", "--layers", "--json", TEXT, "--runtimes", "keras,coreml-ref@fp32")
    data = json.loads(out)
    assert rc == 0 and data["reference"] == "keras" and data["runtimes"][0]["runtime"] == "coreml-ref@fp32"
    assert data["runtimes"][0]["first_over"] is None and len(data["runtimes"][0]["rows"]) == len(data["tensors"])


def test_cli_case_from_an_input_file(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "text": "dull"}\n{"id": "b", "text": "a good film"}\n')
    rc, out, err = cli_run("compare", "--layers", "--json", "--input", str(cases), "--case", "b", "--runtimes", "keras")
    assert rc == 0, err
    data = json.loads(out)
    assert data["case_id"] == "b" and data["text"] == "a good film" and data["runtimes"] == []
    rc, _, err = cli_run("compare", "--layers", "--input", str(cases), "--case", "zz", "--runtimes", "keras")
    assert rc == 2 and "no case with id 'zz'" in err


# ---- a recurrent zoo model --------------------------------------------------------------------


@pytest.fixture(scope="module")
def lstm_bundle(tmp_path_factory, reference_bundle) -> Iterator[Path]:
    import test_coreml_recurrent as zoo

    from harness.data.make_bundle import make_bundle
    from runtimes.frameworks import import_keras

    tok = reference_bundle.tokenizer()
    folder = tmp_path_factory.mktemp("lstm")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(folder / "cache"))  # its exports never touch the user's cache
        mp.setattr(zoo, "VOCAB", tok.vocab_size)
        zoo.zoo_model(import_keras(), "lstm", length=tok.length).save(folder / "lstm.keras")
        make_bundle(str(folder / "lstm.keras"), str(REFERENCE_BUNDLE), str(folder / "bundle"))
        yield folder / "bundle"


@pytest.mark.coreml
def test_lstm_reports_the_rnn_output_and_final_state(lstm_bundle):
    from harness.core import bundle

    ids = ["keras", "coreml-ref@fp32", "coreml-ref"]
    with Engines(bundle.load(lstm_bundle), [registry.get(r) for r in ids], ["py"]) as engines:
        t = trace(engines, "a gorgeous, witty film that never lets go")
    assert [x.probe for x in t.tensors] == ["embedding", "lstm", "lstm:state_c", "dense:pre", "dense"]
    fp32, fp16 = rows(runtime(t, "coreml-ref@fp32")), rows(runtime(t, "coreml-ref"))
    assert fp32["lstm:state_c"].op == "lstm" and fp32["lstm:state_c"].node.endswith(
        "BlockLSTMV2_2"
    )  # MIL lstm: (seq, h, c)
    assert fp32["lstm"].node is not None and fp32["dense"].node == "scores"  # the output variable keeps its op's scope
    assert all(r.max_abs_diff is not None and r.max_abs_diff < 1e-5 for r in fp32.values())
    assert fp16["lstm"].max_abs_diff > 10 * fp32["lstm"].max_abs_diff  # fp16 through 48 steps, visible


# ---- the report ------------------------------------------------------------------------------


@pytest.mark.browser
def test_report_worst_cases_link_to_the_view_and_chart_the_u8_layers(reference_bundle, tmp_path):
    from harness.report import build, html, writer

    opts = build.Options(runtimes="keras,tfjs-wasm@u8", latency=False, golden=False, sizes=False, webapp=False)
    rep = build.run(reference_bundle, opts)
    worst = [w for w in rep.worst_cases if w.runtime == "tfjs-wasm@u8"]
    assert worst and all(w.layers_command and w.layers_command.startswith("harness compare --layers") for w in worst)
    assert worst[0].layers is not None and worst[0].layers[0].layer == "embedding" and worst[0].layers[0].over
    assert worst[0].layers_atol == pytest.approx(1e-4) and all(w.layers is None for w in worst[1:])
    page = html.render(rep, [])
    assert 'aria-label="max |diff| per layer for the worst case of each failing or reduced-precision runtime"' in page
    assert "layer by layer: <code>harness compare --layers" in page
    out = writer.write(rep, tmp_path / "run", history_path=tmp_path / "history.jsonl")
    rc, text, err = cli_run("compare", "--layers", "--json", "--report", str(out / "report.json"),
                            "--case", worst[0].case_id)  # fmt: skip
    assert rc == 0, err
    data = json.loads(text)
    assert data["case_id"] == worst[0].case_id and [r["runtime"] for r in data["runtimes"]] == ["tfjs-wasm@u8"]
    assert data["runtimes"][0]["first_over"] == "embedding"

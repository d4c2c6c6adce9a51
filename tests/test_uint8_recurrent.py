"""The harness's uint8 TF.js models (layers and graph) of a recurrent model keep the recurrent
layers' weights float32 (harness/export/uint8_weights.py says why: uint8 recurrent kernels moved
the seed LSTM by 0.059, past the uint8 bar of 0.05), say so in their artifact, and score within the
uint8 bar in a real browser. That a model without recurrent layers exports exactly as the
converter's own all-uint8 map writes it is in tests/test_seed_pipeline.py (its CNN).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import seed_pipeline
from test_seed_pipeline import cli_run, golden_scores

from harness.core import config

U8_RUNTIMES = ("tfjs-layers-cpu@u8", "tfjs-cpu@u8")  # the layers model and the graph model


def manifest_dtypes(model_json: Path) -> dict[str, str]:
    """Each weight's stored dtype as the weights manifest says: its quantization dtype, else its own."""
    mj = json.loads(model_json.read_text())
    return {
        w["name"]: w.get("quantization", {}).get("dtype", w["dtype"])
        for group in mj["weightsManifest"]
        for w in group["weights"]
    }


def save_layers_model(model: Any, out: Path, qmap: dict[str, Any]) -> Path:
    from harness.core.quiet import native_stderr

    with contextlib.redirect_stdout(io.StringIO()), native_stderr(replay=False):
        from tensorflowjs.converters import save_keras_model

        save_keras_model(model, str(out), quantization_dtype_map=qmap)
    return out / "model.json"


@pytest.fixture(scope="module")
def seed_lstm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed's tf_keras LSTM (one epoch) as a bundle; its uint8 layers model is the harness's export."""
    files = seed_pipeline.build(tmp_path_factory.mktemp("seed-lstm"), kind="lstm", epochs=1)
    out = tmp_path_factory.mktemp("bundles") / "seed-lstm"
    rc, _, err = cli_run(*files.bundle_argv(out))
    assert rc == 0, err
    return out


def test_the_uint8_layers_model_of_an_lstm_keeps_its_recurrent_weights_float32(seed_lstm: Path) -> None:
    from harness import export
    from harness.core import bundle

    art = export.export(bundle.load(seed_lstm), "tfjs-layers-u8")
    dtypes = manifest_dtypes(art.path / "model.json")
    recurrent = {n for n in dtypes if re.match(r"lstm(_\d+)?/", n)}  # Keras numbers a second "lstm" in one process
    assert recurrent and all(dtypes[n] == "float32" for n in recurrent), dtypes
    assert all(d == "uint8" for n, d in dtypes.items() if n not in recurrent), dtypes  # embedding, dense
    assert art.manifest["weights"] == "uint8" and sorted(recurrent) == art.manifest["float32_weights"]
    assert "except recurrent layers (float32)" in art.manifest["weights_note"]


def test_the_uint8_graph_model_of_an_lstm_keeps_its_recurrent_weights_float32(seed_lstm: Path) -> None:
    from harness import export
    from harness.core import bundle

    art = export.export(bundle.load(seed_lstm), "tfjs-u8")
    dtypes = manifest_dtypes(art.path / "model.json")
    kept = art.manifest["float32_weights"]
    in_lstm = re.compile(r"/lstm(_\d+)?/")  # Keras numbers a second "lstm" in one process
    assert kept and all(in_lstm.search(n) and dtypes[n] == "float32" for n in kept), kept
    quantized = {n for n, d in dtypes.items() if d == "uint8"}
    assert quantized and not any(in_lstm.search(n) for n in quantized), quantized  # embedding, dense
    assert art.manifest["weights_note"].startswith("uint8 weights except recurrent layers (float32)")


def test_the_uint8_models_of_an_lstm_agree_within_the_uint8_bar(seed_lstm: Path) -> None:
    scores = golden_scores(seed_lstm, ("keras", *U8_RUNTIMES), first=40)
    for rid in U8_RUNTIMES:
        worst = float(np.abs(scores[rid] - scores["keras"]).max())
        assert worst <= config.tolerance(rid, "uint8").atol, (rid, worst)


def test_gru_simplernn_and_bidirectional_weights_stay_float32_the_rest_uint8(tmp_path: Path) -> None:
    from harness.export.uint8_weights import check_kept_float32, quantization_map
    from runtimes.frameworks import import_tf_keras

    tf_keras = import_tf_keras()
    layers = tf_keras.layers
    ids = tf_keras.Input(shape=(12,), dtype="int32")
    # named: tf_keras numbers unnamed layers per process (embedding_3), and the names are asserted below
    x = layers.Embedding(50, 4, name="emb")(ids)
    x = layers.Bidirectional(layers.GRU(3, return_sequences=True, name="gru"), name="bigru")(x)
    x = layers.SimpleRNN(3, name="rnn")(x)
    model = tf_keras.Model(ids, layers.Dense(1, activation="sigmoid", name="out")(x))
    qmap, kept = quantization_map(model)
    model_json = save_layers_model(model, tmp_path / "u8", qmap)
    check_kept_float32(json.loads(model_json.read_text()), kept)
    dtypes = manifest_dtypes(model_json)
    float32 = {n for n, d in dtypes.items() if d == "float32"}
    assert float32 == set(kept) and {n.split("/")[0] for n in kept} == {"bigru", "rnn"}
    assert any("backward" in n for n in kept), kept  # both directions of the Bidirectional GRU
    assert {n.split("/")[0] for n, d in dtypes.items() if d == "uint8"} == {"emb", "out"}


def test_graph_weights_are_matched_to_recurrent_layers_by_path_segment() -> None:
    from harness.export.uint8_weights import graph_recurrent_weights

    names = [
        "StatefulPartitionedCall/zoo_1/lstm_1/lstm_cell_3/Cast/ReadVariableOp",  # Keras 3 scopes `lstm` as lstm_1
        "StatefulPartitionedCall/seed/lstm/Read/ReadVariableOp",  # tf_keras
        "StatefulPartitionedCall/seed/lstm_seq/Read/ReadVariableOp",  # another layer whose name starts alike
        "StatefulPartitionedCall/zoo_1/dense_1/Cast/ReadVariableOp",
        "unknown",  # the converter's name for an embedding table
    ]
    assert graph_recurrent_weights(names, ["lstm"]) == sorted(names[:2])


def test_the_report_row_says_which_weights_stayed_float32() -> None:
    from harness.export.uint8_weights import NOTE
    from harness.report import html
    from tests.report_sample import synthetic_report

    r = synthetic_report()
    assert NOTE.split(":")[0] not in html.render(r)  # rows without the note do not say it
    rid = next(rid for rid in r.runtimes if rid.startswith("tfjs"))
    r.runtimes[rid] = r.runtimes[rid].model_copy(update={"info": {**r.runtimes[rid].info, "weights": NOTE}})
    assert "uint8 weights except recurrent layers (float32): uint8 recurrent kernels measured 0.059 &gt; 0.05" in (
        html.render(r)
    )

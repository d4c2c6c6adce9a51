"""`harness compare --layers --isolate`: the error each layer adds by itself, apart from what it inherits.

- A small two-Dense model whose first Dense kernel is shifted (runtimes/testing.py): that
  Dense is named as the op that introduces the error; every layer after it, run on the
  reference's own inputs, adds nothing (its whole |diff| is inherited).
- The reference model through TF.js (u8 weights, the graph entered at named nodes in the
  browser) and coreml-ref (fp16, op by op): the u8 embedding adds the most; an op without
  weights (TF.js's relu(max(x)) for the pool) adds exactly nothing in float32.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.check.layers import LayerTrace, RuntimeTrace, trace
from harness.core.paths import REFERENCE_BUNDLE
from harness.run.engines import Engines
from runtimes import registry
from runtimes.testing import PERTURBED_DENSE_ID, perturbed_dense_spec

TEXT = "a gorgeous, witty film"


def runtime(t: LayerTrace, rid: str) -> RuntimeTrace:
    return next(r for r in t.runtimes if r.runtime == rid)


def two_dense_model(keras, vocab: int, length: int):
    """Embedding -> mean -> Dense(relu) "hidden" -> Dense(sigmoid) "score": layers after the perturbed one."""
    keras.utils.set_random_seed(5)
    ids = keras.Input((length,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocab, 8, name="embedding")(ids)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    x = keras.layers.Dense(16, activation="relu", name="hidden")(x)
    out = keras.layers.Dense(1, activation="sigmoid", name="score")(x)
    return keras.Model(ids, out, name="two_dense")


@pytest.fixture(scope="module")
def two_dense_bundle(tmp_path_factory, reference_bundle) -> Path:
    from harness.data.make_bundle import make_bundle
    from runtimes.frameworks import import_keras

    tok = reference_bundle.tokenizer()
    folder = tmp_path_factory.mktemp("two_dense")
    two_dense_model(import_keras(), tok.vocab_size, tok.length).save(folder / "two_dense.keras")
    make_bundle(str(folder / "two_dense.keras"), str(REFERENCE_BUNDLE), str(folder / "bundle"))
    return folder / "bundle"


def test_a_perturbed_dense_kernel_introduces_and_the_layers_after_it_inherit(two_dense_bundle):
    from harness.core import bundle

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry.SPECS, PERTURBED_DENSE_ID, perturbed_dense_spec("hidden", delta=0.5))
        ids = ["keras", PERTURBED_DENSE_ID]
        with Engines(bundle.load(two_dense_bundle), [registry.get(r) for r in ids], ["py"]) as engines:
            found = trace(engines, TEXT, isolated=True)
    rt = runtime(found, PERTURBED_DENSE_ID)
    assert rt.cannot_isolate is None
    by = {r.probe: r for r in rt.rows}
    assert [r.probe for r in rt.rows] == ["embedding", "pool", "hidden:pre", "hidden", "score:pre", "score"]
    for before in ("embedding", "pool"):
        assert by[before].max_abs_diff == 0 and by[before].introduced.max_abs_diff == 0
    hidden = by["hidden:pre"].introduced
    assert hidden.max_abs_diff > 0.01 and hidden.inherited_max_abs_diff == 0  # all its own
    assert rt.most_introduced is by["hidden:pre"]
    for after in ("hidden", "score:pre", "score"):
        row = by[after]
        assert row.max_abs_diff > 1e-3, after  # off in the full run ...
        assert row.introduced.max_abs_diff < 1e-6, (after, row.introduced)  # ... adding (next to) nothing itself
        assert row.introduced.inherited_max_abs_diff == pytest.approx(row.max_abs_diff, rel=1e-3, abs=1e-6)
    data = json.loads(json.dumps(found.as_json(), allow_nan=False))
    assert data["runtimes"][0]["most_introduced"] == "hidden:pre"
    assert data["runtimes"][0]["rows"][1]["introduced"]["snr_db"] == "inf"  # JSON has no inf: said as a string


@pytest.mark.browser
@pytest.mark.coreml
def test_tfjs_graph_entered_at_named_nodes_and_coreml_ref_op_by_op(reference_bundle):
    ids = ["keras", "tfjs-wasm@u8", "coreml-ref"]
    with Engines(reference_bundle, [registry.get(r) for r in ids], ["py"]) as engines:
        shipped = trace(engines, TEXT, isolated=True)
    rt = runtime(shipped, "tfjs-wasm@u8")
    assert rt.error is None and rt.cannot_isolate is None, (rt.error, rt.cannot_isolate)
    by = {r.probe: r for r in rt.rows}
    assert rt.most_introduced is by["embedding"]  # the quantized table
    pool = by["pool"]
    assert pool.node.endswith("conv_1/Relu") and pool.max_abs_diff > 0
    assert pool.introduced.max_abs_diff == 0  # relu(max(x)) of the reference's x: no weights, float32
    assert pool.introduced.inherited_max_abs_diff == pool.max_abs_diff
    assert "conv:pre" in pool.introduced.detail

    rt = runtime(shipped, "coreml-ref")
    assert rt.cannot_isolate is None, rt.cannot_isolate
    ref = {t.probe: t.max_abs for t in shipped.tensors}
    for row in rt.rows:
        i = row.introduced
        assert i is not None and i.max_abs_diff is not None, row.probe
        assert i.max_abs_diff <= 4 * 2**-11 * ref[row.probe] + 1e-4, (row.probe, i)  # a few fp16 roundings
    assert rt.most_introduced is not None


def test_engines_that_cannot_be_entered_in_the_middle_say_why():
    from runtimes.coreml_native import CoremlNativeSession
    from runtimes.frameworks import import_keras
    from runtimes.keras_replay import replay
    from runtimes.tensors import CannotExpose

    session = CoremlNativeSession.__new__(CoremlNativeSession)
    with pytest.raises(CannotExpose, match="declared inputs only"):
        session.replay(np.zeros((1, 4), np.int32), {}, ["x"])
    keras = import_keras()
    ids = keras.Input((4,), dtype="int32")
    x = keras.layers.Embedding(10, 2, mask_zero=True, name="masked")(ids)
    model = keras.Model(ids, keras.layers.GlobalAveragePooling1D()(x))
    with pytest.raises(CannotExpose, match="masked masks its padding"):
        replay(model, None, [], ids=np.zeros((1, 4), np.int32), feeds={}, names=["masked"])

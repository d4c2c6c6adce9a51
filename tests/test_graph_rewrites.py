"""The TF.js graph rewrites (harness/export/graph_rewrites.py) and the runtime's execution choice.

The end-to-end proof (every zoo model on cpu, wasm and webgl, within tolerance) is
tests/test_model_zoo.py; these check each rewrite on its own, fast: the split _FusedMatMul
computes what the fused one did, the einsum lowering leaves no Einsum and the same values,
unrolling leaves the user's model as it was, and the execute/executeAsync choice follows
tfjs-converter 4.22's own op sets.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest

from harness.export.graph_rewrites import einsum_lowered, portable_trace, unfuse_matmuls, unrolled
from runtimes.tfjs import ASYNC_OPS, execution


def b64(*names: str) -> dict:
    return {"list": {"s": [base64.b64encode(n.encode()).decode() for n in names]}}


def const(name: str, *dims: int) -> dict:
    return {
        "name": name,
        "op": "Const",
        "attr": {"value": {"tensor": {"tensorShape": {"dim": [{"size": str(d)} for d in dims]}}}},
    }


def fused(name: str, bias: str, *ops: str) -> dict:
    return {
        "name": name, "op": "_FusedMatMul", "input": ["x", "w", bias, "^ctl"],
        "attr": {"T": {"type": "DT_FLOAT"}, "transpose_a": {"b": False}, "transpose_b": {"b": True}, "fused_ops": b64(*ops)},
    }  # fmt: skip


def test_fused_matmuls_with_a_computed_bias_are_split_and_keep_their_name() -> None:
    model = {"modelTopology": {"node": [
        const("w", 4, 8), const("b", 8), {"name": "hu", "op": "MatMul", "input": ["h", "u"]},
        fused("step", "hu", "BiasAdd"),            # bias = h @ U, [batch, 4H]: wasm refuses it
        fused("dense", "b", "BiasAdd", "Relu"),    # a rank-1 weight: left fused
        fused("gate", "hu", "BiasAdd", "Sigmoid"),  # computed bias and an activation
        fused("odd", "hu", "BiasAdd", "Prelu"),     # a fusion this does not know: left alone
        {"name": "out", "op": "Identity", "input": ["step", "gate"]},
    ]}}  # fmt: skip
    assert unfuse_matmuls(model) == 2
    nodes = {n["name"]: n for n in model["modelTopology"]["node"]}
    assert nodes["step"]["op"] == "AddV2" and nodes["step"]["input"] == ["step/unfused_matmul", "hu"]
    mm = nodes["step/unfused_matmul"]
    assert mm["op"] == "MatMul" and mm["input"] == ["x", "w", "^ctl"] and mm["attr"]["transpose_b"] == {"b": True}
    assert nodes["dense"]["op"] == "_FusedMatMul" and nodes["odd"]["op"] == "_FusedMatMul"
    assert nodes["gate"]["op"] == "Sigmoid" and nodes["gate"]["input"] == ["gate/unfused_add"]
    assert nodes["gate/unfused_add"]["input"] == ["gate/unfused_matmul", "hu"]
    order = [n["name"] for n in model["modelTopology"]["node"]]
    assert order.index("gate/unfused_matmul") < order.index("gate/unfused_add") < order.index("gate")
    assert nodes["out"]["input"] == ["step", "gate"], "consumers still read the same names"


def test_execution_mode_follows_the_converters_op_sets() -> None:
    static = {"modelTopology": {"node": [{"op": "Placeholder"}, {"op": "MatMul"}]}}
    assert execution(static) == {"mode": "execute", "async_ops": []}
    v1_loop = {"modelTopology": {"node": [{"op": "Enter"}, {"op": "Merge"}, {"op": "MatMul"}]}}
    assert execution(v1_loop) == {"mode": "executeAsync", "async_ops": ["Enter", "Merge"]}
    v2_loop = {"modelTopology": {"node": [{"op": "MatMul"}], "library": {"function": [{"nodeDef": [{"op": "Where"}]}]}}}
    assert execution(v2_loop)["async_ops"] == ["Where"]
    assert {"While", "StatelessIf", "NonMaxSuppressionV5", "LookupTableFindV2"} <= ASYNC_OPS


@pytest.fixture(scope="module")
def keras():
    from runtimes.frameworks import import_keras

    return import_keras()


def test_einsum_is_lowered_to_batch_matmul_with_the_same_values() -> None:
    import tensorflow as tf

    rng = np.random.default_rng(0)
    q, k = (tf.constant(rng.standard_normal((2, 5, 3, 4)), tf.float32) for _ in range(2))
    want = tf.einsum("BTNH,BSNH->BNTS", q, k).numpy()

    @tf.function
    def scores(a, b):
        return tf.einsum("BTNH,BSNH->BNTS", a, b)

    with einsum_lowered() as lowered:
        graph = scores.get_concrete_function(q, k).graph
    ops = {op.type for op in graph.get_operations()}
    assert "Einsum" not in ops and "BatchMatMulV2" in ops, ops
    assert lowered == ["BTNH,BSNH->BNTS"] and tf.einsum.__module__.startswith("tensorflow")
    np.testing.assert_allclose(scores(q, k).numpy(), want, atol=1e-5)  # traced once: still the lowered graph


def test_portable_trace_unrolls_then_restores_and_says_so(keras) -> None:
    from harness.data import zoo

    model = zoo.build("bigru", 50, 4)
    rnns = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.RNN)]
    assert len(rnns) == 2 and not any(layer.unroll for layer in rnns)
    with portable_trace(model) as rewrites:
        assert all(layer.unroll for layer in rnns)
    assert not any(layer.unroll for layer in rnns), "the user's model is left as it was"
    assert [r["rewrite"] for r in rewrites] == ["unroll"] and len(rewrites[0]["layers"]) == 2
    with unrolled(zoo.build("cnn", 50, 4)) as changed:
        assert changed == []

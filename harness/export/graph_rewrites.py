"""Rewrites that give TF.js 4.22 a graph every backend (cpu, wasm, webgl) runs with `execute()`.

Measured on this stack (tensorflow 2.19, keras 3.15, tensorflowjs 4.22), for a Keras 3 model:

1. Recurrent layers. Keras 3 runs LSTM/GRU/SimpleRNN as a `tf.while_loop`; the converter
   lowers it to TF1 control flow (Enter/Merge/Switch/Exit/NextIteration), which `execute()`
   refuses ("dynamic op 'Exit'. Please use model.executeAsync()") and `executeAsync()` stalls
   on after the first iteration: the body's `input_control_node` NoOp has control inputs
   (`^.../Switch`) that TF.js reads as output 0 of the Switch, the not-taken branch, so it
   never fires ("Cannot compute the outputs [Identity]"). `--control_flow_v2` keeps a `While`
   with library functions instead: right on cpu and webgl but 40-130 ms a review on cpu and
   390-730 ms on webgl, and a use-after-dispose in `TensorList.stack` breaks a stacked LSTM
   (return_sequences) everywhere and every model on wasm. So the SavedModel is traced with
   every RNN layer `unroll=True` (Keras's own unrolled code, the same weights): no loop at all.
2. Attention. Keras's MultiHeadAttention contracts with `tf.einsum` (its TF `dot_product_attention`
   and `ops.einsum` equations it does not map to matmul), which becomes the TF op `Einsum`;
   tfjs-backend-wasm 4.22 has no Einsum kernel ("Kernel 'Einsum' not registered for backend
   'wasm'") and the converter has no option to lower it. While tracing, `tf.einsum` is TF's own
   `special_math_ops._einsum_v1`, which builds the same contraction from Reshape, Transpose and
   BatchMatMulV2 (private TF API; fine pinned at TF 2.19, and a failing equation keeps Einsum).
3. After conversion (model.json). The converter's grappler remap fuses `x @ W + (h @ U)` of an
   unrolled LSTM step into `_FusedMatMul` with a [batch, 4H] "bias"; the wasm kernel accepts
   only a rank-1 bias ("_FusedMatMul only supports rank-1 bias but got rank 3"). Such nodes
   (bias not a rank-1 weight) are split back into MatMul + AddV2 (+ the fused activation);
   cpu and webgl compute the same either way.

Each rewrite reports what it changed; the artifact manifests record it under `graph_rewrites`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from harness.export.recurrent import recurrent_layers

UNROLL_WHY = (
    "Keras 3 RNNs are tf.while_loop; TF.js 4.22 cannot execute() the converted loop and executeAsync() "
    "stalls on it, so every RNN layer is traced with unroll=True (same weights, no loop)"
)
EINSUM_WHY = (
    "tfjs-backend-wasm 4.22 has no Einsum kernel: tf.einsum is traced as TF's _einsum_v1 "
    "(Reshape, Transpose, BatchMatMulV2)"
)
UNFUSE_WHY = (
    "tfjs-backend-wasm 4.22 _FusedMatMul only supports a rank-1 bias: fused x@W + h@U nodes "
    "are split back into MatMul + AddV2"
)
# _FusedMatMul fused activations -> the TF op that computes them on its own
ACTIVATIONS = {"Relu": "Relu", "Relu6": "Relu6", "Elu": "Elu", "Sigmoid": "Sigmoid", "Tanh": "Tanh"}


@contextmanager
def unrolled(model: Any) -> Iterator[list[str]]:
    """Every RNN layer of `model` has `unroll=True` inside this block (restored after); yields
    the names of the layers it changed."""
    layers = [layer for layer in recurrent_layers(model) if not layer.unroll]
    saved = [(layer, layer.unroll) for layer in layers]
    try:
        for layer in layers:
            layer.unroll = True
        yield [layer.name for layer in layers]
    finally:
        for layer, unroll in saved:
            layer.unroll = unroll


@contextmanager
def einsum_lowered() -> Iterator[list[str]]:
    """`tf.einsum` (and `tf.linalg.einsum`) build no Einsum op inside this block; yields the
    equations it lowered, in call order."""
    import tensorflow as tf
    from tensorflow.python.ops import special_math_ops

    original = tf.einsum
    lowered: list[str] = []

    def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Any:
        try:
            out = special_math_ops._einsum_v1(equation, *inputs, name=kwargs.get("name"))
        except (ValueError, TypeError):  # an equation v1 cannot parse: keep the Einsum op
            return original(equation, *inputs, **kwargs)
        lowered.append(equation)
        return out

    tf.einsum = einsum
    tf.linalg.einsum = einsum
    try:
        yield lowered
    finally:
        tf.einsum = original
        tf.linalg.einsum = original


@contextmanager
def portable_trace(model: Any) -> Iterator[list[dict[str, Any]]]:
    """Trace `model` inside this block (e.g. `model.export`) for a graph without loops or Einsum.
    Yields the list of rewrites, filled in when the block ends (only those that changed something)."""
    rewrites: list[dict[str, Any]] = []
    with ExitStack() as stack:
        layers = stack.enter_context(unrolled(model))
        equations = stack.enter_context(einsum_lowered())
        yield rewrites
    if layers:
        rewrites.append({"rewrite": "unroll", "layers": layers, "why": UNROLL_WHY})
    if equations:
        rewrites.append({"rewrite": "einsum_v1", "equations": sorted(set(equations)), "why": EINSUM_WHY})


def _fused_ops(node: dict[str, Any]) -> list[str]:
    values = node.get("attr", {}).get("fused_ops", {}).get("list", {}).get("s", [])
    return [base64.b64decode(v).decode() for v in values]


def _rank1_weight(name: str, consts: dict[str, dict[str, Any]]) -> bool:
    node = consts.get(name.split(":")[0].lstrip("^"))
    if node is None:
        return False
    dims = node.get("attr", {}).get("value", {}).get("tensor", {}).get("tensorShape", {}).get("dim", [])
    return len(dims) == 1


def unfuse_matmuls(model_json: dict[str, Any]) -> int:
    """Split every `_FusedMatMul` whose bias is not a rank-1 weight into MatMul + AddV2 (+ its
    activation), in place; the last node keeps the fused node's name, so consumers are untouched.
    Returns how many nodes were split. A fusion this does not know is left as it is."""
    topology = model_json["modelTopology"]
    nodes: list[dict[str, Any]] = topology.get("node", [])
    consts = {n["name"]: n for n in nodes if n.get("op") == "Const"}
    out: list[dict[str, Any]] = []
    split = 0
    for node in nodes:
        ops = _fused_ops(node)
        data = [i for i in node.get("input", []) if not i.startswith("^")]
        control = [i for i in node.get("input", []) if i.startswith("^")]
        known = ops[:1] == ["BiasAdd"] and all(op in ACTIVATIONS for op in ops[1:]) and len(ops) <= 2
        if node.get("op") != "_FusedMatMul" or not known or len(data) != 3 or _rank1_weight(data[2], consts):
            out.append(node)
            continue
        attr = node.get("attr", {})
        dtype = {"T": attr["T"]} if "T" in attr else {}
        name = node["name"]
        matmul = {
            "name": f"{name}/unfused_matmul",
            "op": "MatMul",
            "input": data[:2] + control,
            "attr": {k: attr[k] for k in ("transpose_a", "transpose_b", "T") if k in attr},
        }
        added = {
            "name": name if len(ops) == 1 else f"{name}/unfused_add",
            "op": "AddV2",
            "input": [matmul["name"], data[2]],
            "attr": dict(dtype),
        }
        out += [matmul, added]
        if len(ops) == 2:
            out.append({"name": name, "op": ACTIVATIONS[ops[1]], "input": [added["name"]], "attr": dict(dtype)})
        split += 1
    topology["node"] = out
    return split

"""Core AI's per-op tensors as a `TensorGraph` that `compare --layers` maps onto Keras layers.

The worker (runtimes/coreai_worker/intermediates.py) returns every torch op of the converted
program with the Keras layer it was traced in and its value as Apple's engine computed it. Each
becomes a `GraphNode` named `<model>/<layer path>/<torch op>` (the Keras name scopes joined by
"/", as TF.js names its nodes), so harness/check/layer_map.py finds each layer's ops by name and
picks its output by the data flow and shapes, with no rule written for Core AI. Ops traced
outside every layer (none in a functional model) keep their bare torch name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from runtimes.tensors import CannotExpose, GraphNode, TensorGraph


def _node_name(model: str, op: dict[str, Any]) -> str:
    layer = str(op.get("layer") or "")
    return f"{model}/{layer}/{op['name']}" if layer else str(op["name"])


def _short_op(target: str) -> str:
    """`aten.relu.default` -> `relu`: the op name layer_map.py reads activations from."""
    parts = target.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "aten" else target


def graph_of(reply: dict[str, Any]) -> TensorGraph:
    model = str(reply["model"])
    names = {op["name"]: _node_name(model, op) for op in reply["ops"]}
    nodes = tuple(
        GraphNode(
            name=names[op["name"]],
            op=_short_op(str(op["target"])),
            inputs=tuple(names[i] for i in op.get("inputs", []) if i in names),
            shape=None if op.get("shape") is None else tuple(op["shape"]),
        )
        for op in reply["ops"]
    )
    return TensorGraph(nodes=nodes, separator="/")


def values_of(reply: dict[str, Any], names: Sequence[str]) -> dict[str, np.ndarray]:
    """The value of each named node (a name from `graph_of`) that the engine computed."""
    model = str(reply["model"])
    by_node = {_node_name(model, op): op["name"] for op in reply["ops"]}
    values = reply["values"]
    out = {}
    for name in names:
        torch_name = by_node.get(name)
        if torch_name is None:
            raise CannotExpose(f"{name!r} is not a tensor of this Core AI program")
        if torch_name in values:
            out[name] = np.asarray(values[torch_name])
    return out

"""A Keras model entered in the middle: one layer run on given inputs (`compare --layers --isolate`).

Keras layers are callables, so a layer needs no sub-model to be run on the reference's own
inputs to it: its inbound layers' values are fed in the structure of its own call (one
tensor, or a list for Concatenate/Add), eagerly, `training=False`. The tapped twins of
runtimes/keras_probes.py give the value before an activation the same way; a layer's output
whose pre-activation value is fed is that activation applied to it, so the activation is
judged apart from the layer's kernel.

Limits, said where they apply: a masked model (an Embedding with `mask_zero=True`) is not
replayed, since a layer called alone loses its mask; an RNN's final cell state is not replayed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from runtimes.frameworks import import_keras
from runtimes.tensors import OUTPUT, PRE, CannotExpose, Probe


def replay(
    model: Any,
    sub: Any,
    probes: Sequence[Probe],
    *,
    ids: np.ndarray,
    feeds: Mapping[str, np.ndarray],
    names: Sequence[str],
) -> dict[str, np.ndarray]:
    """Each probe in `names` computed by its own layer from `feeds` (probe name -> value; the
    model's input layer's name -> `ids` unless fed)."""
    keras = import_keras()
    masked = [layer.name for layer in model.layers if getattr(layer, "mask_zero", False)]
    if masked:
        raise CannotExpose(
            f"{masked[0]} masks its padding (mask_zero=True): a layer replayed alone would lose the mask"
        )
    by_name = {p.name: p for p in probes}
    inputs = {t._keras_history.operation.name for t in model.inputs}
    out = {}
    for name in names:
        probe = by_name.get(name)
        if probe is None:
            raise CannotExpose(f"the Keras model has no tensor {name!r}")
        layer = model.get_layer(probe.layer)
        if probe.kind == OUTPUT and f"{probe.layer}:pre" in feeds and probe.activation:
            value = layer.activation(keras.ops.convert_to_tensor(feeds[f"{probe.layer}:pre"]))
        elif probe.kind in (OUTPUT, PRE):
            twin = layer if probe.kind == OUTPUT else sub.get_layer(f"{probe.layer}__probe_activation")
            call = layer._inbound_nodes[0].arguments
            args = keras.tree.map_structure(
                lambda t, _layer=probe.layer: (
                    _fed(keras, t, _layer, feeds=feeds, inputs=inputs, ids=ids)
                    if isinstance(t, keras.KerasTensor)
                    else t
                ),
                call.args,
            )
            value = twin(*args, training=False)
        else:
            raise CannotExpose(f"{probe.label}: an RNN's final cell state is not replayed (only its output)")
        out[name] = np.asarray(keras.ops.convert_to_numpy(value))
    return out


def _fed(
    keras: Any, tensor: Any, layer: str, *, feeds: Mapping[str, np.ndarray], inputs: set[str], ids: np.ndarray
) -> Any:
    """The value fed for one of `layer`'s symbolic inputs: its source layer's, or the ids."""
    source = tensor._keras_history.operation.name
    if source in feeds:
        return keras.ops.convert_to_tensor(feeds[source])
    if source in inputs:
        return keras.ops.convert_to_tensor(ids)
    raise CannotExpose(f"{layer}: its input {source!r} was not fed")

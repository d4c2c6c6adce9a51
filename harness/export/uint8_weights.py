"""Which weights the harness's uint8 TF.js export quantizes: all of them, except a recurrent layer's.

Why. The converter's uint8 weights are one affine min/scale per tensor, 256 levels, dequantized to
float32 at load. An LSTM's recurrent kernel and bias act at every one of its 48 steps, so their
rounding compounds (and `unit_forget_bias` puts a 1.0 in the bias, which widens its range and so
its step). Measured on the seed's tf_keras Embedding -> LSTM -> Dense on the golden texts: all
weights uint8 moved scores by up to 0.059 against keras (27 of 1,185 decisions flipped), outside
the uint8 bar of 0.05; the same model with the LSTM's weights kept float32 moved them by 0.004.
So a model with recurrent layers (any Keras RNN: LSTM, GRU, SimpleRNN, and the Bidirectional
wrappers around them) gets a quantization map that names only its other weights; the recurrent
layers' weights stay float32 and the artifact says so (`weights_note`, `float32_weights`). A model
without recurrent layers gets the converter's plain all-uint8 map, so its export is unchanged.
A shipped (adopted) file is never re-exported: it is tested as it ships (harness/core/shipped.py).
"""

from __future__ import annotations

import glob
import re
from typing import Any

from harness.core.errors import HarnessError

ALL_UINT8: dict[str, Any] = {"uint8": True}
NOTE = "uint8 weights except recurrent layers (float32): uint8 recurrent kernels measured 0.059 > 0.05 on the seed LSTM"


def weight_name(variable: Any) -> str:
    """The name tensorflowjs gives a tf_keras weight in a layers model's manifest (no `:0`)."""
    name = str(variable.name)
    return name[:-2] if name.endswith(":0") else name


def recurrent_weights(model: Any) -> list[str]:
    """Names of the weights of every recurrent layer in a tf_keras `model` (nested models and
    Bidirectional wrappers included), sorted; empty for a model without one."""
    from runtimes.frameworks import import_tf_keras

    layers = import_tf_keras().layers
    kinds = (layers.RNN, layers.Bidirectional)
    found = {
        weight_name(w)
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, kinds)
        for w in layer.weights
    }
    return sorted(found)


def recurrent_layer_names(model: Any, framework: str) -> list[str]:
    """Names of the recurrent layers (and Bidirectional wrappers) of a tf_keras or Keras 3 model."""
    from runtimes.frameworks import import_keras, import_tf_keras

    layers = (import_tf_keras() if framework == "tf_keras" else import_keras()).layers
    kinds = (layers.RNN, layers.Bidirectional)
    return sorted({layer.name for layer in model._flatten_layers(include_self=False) if isinstance(layer, kinds)})


def graph_recurrent_weights(names: list[str], layer_names: list[str]) -> list[str]:
    """The graph-model weights that belong to a recurrent layer: a node name has the layer's name
    as a path segment (tf_keras: `seed/lstm/Read/ReadVariableOp`; Keras 3 scopes it `lstm_1`).
    A non-recurrent layer named `<recurrent name>_<n>` would also stay float32: the safe side."""
    segment = re.compile("|".join(rf"{re.escape(n)}(_\d+)?" for n in layer_names))
    return sorted({n for n in names if any(segment.fullmatch(part) for part in n.split("/"))})


def quantization_map(model: Any) -> tuple[dict[str, Any], list[str]]:
    """The converter's `quantization_dtype_map` for the harness's uint8 layers model of `model`,
    and the weights it keeps float32 (empty: every weight is uint8, as the converter's default)."""
    kept = recurrent_weights(model)
    if not kept:
        return ALL_UINT8, []
    others = [glob.escape(n) for n in dict.fromkeys(weight_name(w) for w in model.weights) if n not in kept]
    return {"uint8": others}, kept


def check_kept_float32(model_json: dict[str, Any], kept: list[str]) -> None:
    """Every weight meant to stay float32 is in the written manifest, unquantized: a converter that
    named the weights otherwise would quietly quantize them, so that stops the export."""
    written = {w["name"]: w for group in model_json.get("weightsManifest", []) for w in group.get("weights", [])}
    wrong = [n for n in kept if n not in written or "quantization" in written[n]]
    if wrong:
        raise HarnessError(
            f"the uint8 layers model did not keep recurrent weights float32 ({', '.join(wrong[:4])}): "
            "tensorflowjs named or quantized them otherwise"
        )

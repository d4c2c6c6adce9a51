"""Is a model's output a probability? `harness bundle` must know before it calls it "sigmoid".

Every runtime reports "the probability of the positive class"; a model that ends in a linear
layer outputs logits (-2.96, 4.1), and comparing or thresholding those at 0.5 as if they
were probabilities is wrong without a word. So a foreign model's last layer is read:

- its activation (Dense/Conv/Activation) or class (Softmax) is sigmoid or softmax: kept;
- it is linear (no activation): the outputs are logits. By default the bundle wraps the model
  in an explicit Activation("sigmoid" | "softmax") layer (so the bundled model.keras, and
  every export of it, outputs probabilities) and says so; `--logits refuse` refuses instead;
- anything else (tanh, relu, a custom layer) is refused, since no activation can be named.

The structural verdict is then checked on real inputs: a sigmoid output outside [0, 1] or a
softmax row that does not sum to 1 is refused, whatever the layers claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.errors import HarnessError

PROBABILITY = {"sigmoid", "softmax"}
LINEAR = {"linear", "identity", None}


@dataclass(frozen=True)
class OutputKind:
    activation: str | None  # "sigmoid", "softmax", "linear" (logits) or another name
    layer: str  # the last layer's name and class, for messages


def last_activation(model: Any) -> OutputKind:
    layer = model.layers[-1]
    cls = layer.__class__.__name__
    where = f"{layer.name!r} ({cls})"
    if cls == "Softmax":
        return OutputKind("softmax", where)
    fn = getattr(layer, "activation", None)
    if fn is not None:
        return OutputKind(getattr(fn, "__name__", str(fn)), where)
    return OutputKind("linear" if cls == "Identity" else f"unknown to the harness ({cls})", where)


def probabilities(out: np.ndarray, classes: int) -> str:
    """ "" if `out` can be probabilities of that kind, else why not."""
    out = np.asarray(out, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        return "non-finite outputs"
    lo, hi = float(out.min()), float(out.max())
    if lo < 0 or hi > 1:
        return f"outputs range over [{lo:.3g}, {hi:.3g}], not [0, 1]"
    if classes > 1:
        sums = out.sum(axis=1)
        worst = float(np.abs(sums - 1).max())
        if worst > 1e-3:
            return f"softmax rows sum to as far as {1 + worst:.4g} from 1"
    return ""


def ensure_probabilities(
    model: Any, source: Path, classes: int, *, probe: np.ndarray, logits: str
) -> tuple[Any, str | None]:
    """(the model to bundle, the activation added or None); HarnessError if it cannot be."""
    kind = "sigmoid" if classes == 1 else "softmax"
    found = last_activation(model)
    wrapped = None
    if found.activation in LINEAR:
        if logits == "refuse":
            raise HarnessError(
                f"{source}: the last layer {found.layer} is linear, so it outputs logits; "
                f"end the model in {kind} (or bundle with --logits wrap)"
            )
        from runtimes.frameworks import import_keras

        keras = import_keras()
        out = keras.layers.Activation(kind, name="harness_probability")(model.outputs[0])
        model = keras.Model(model.inputs, out, name=f"{model.name}_probability")
        wrapped = kind
    elif found.activation not in PROBABILITY:
        raise HarnessError(
            f"{source}: the last layer {found.layer} has activation {found.activation}; "
            f"expected sigmoid [N, 1] or softmax [N, C] (probabilities), or a linear layer (logits)"
        )
    elif (found.activation == "sigmoid") != (classes == 1):
        raise HarnessError(
            f"{source}: a {found.activation} output with {classes} class(es); expected sigmoid [N, 1] or softmax [N, C]"
        )
    why = probabilities(np.asarray(model(probe, training=False)), classes)
    if why:
        raise HarnessError(f"{source}: {why}, so they are not probabilities; end the model in {kind}")
    return model, wrapped

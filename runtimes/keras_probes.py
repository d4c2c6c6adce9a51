"""The Keras model's intermediate tensors: one functional sub-model with every layer's output.

What the other runtimes' tensors are compared with (harness/check/layers.py). Besides each
layer's output it taps two tensors converters often keep apart or move:
- the value before a layer's activation (`conv:pre`): converters fuse or move activations
  (TF's grappler computes `relu(max(x))` instead of `max(relu(x))` for Conv1D -> relu ->
  GlobalMaxPool), so the converted graph may hold only the pre-activation tensor of a layer;
- an LSTM's final cell state c (`lstm:state_c`), which the layer's output does not show (its
  final hidden state h is the output, or the output's last step).
Both come from twins of the layer (same config except `activation="linear"` or
`return_state=True`, same weights) called on the layer's own input inside the functional
graph, so Keras computes them with its own code; masks propagate as for the layer itself.
"""

from __future__ import annotations

from typing import Any

from runtimes.frameworks import import_keras
from runtimes.tensors import OUTPUT, PRE, STATE_C, CannotExpose, Probe

_LINEAR = (None, "linear")


def _activation_name(layer: Any) -> str | None:
    """The name of a layer's own activation, when it applies one last (Dense, Conv*), else None."""
    if hasattr(layer, "cell") or hasattr(layer, "forward_layer"):
        return None  # an RNN's activation acts inside its cell, not on its output
    act = getattr(layer, "activation", None)
    if act is None or not callable(act):
        return None
    config = layer.get_config().get("activation")
    name = config if isinstance(config, str) else getattr(act, "__name__", None)
    return None if name in _LINEAR else str(name)


def _shape(tensor: Any) -> tuple[int | None, ...]:
    return tuple(None if d is None else int(d) for d in tensor.shape)


def _twin(layer: Any, **changes: Any) -> Any:
    """A copy of `layer` with some config changed and the same weights, built on its input."""
    config = layer.get_config()
    for key, value in changes.items():
        if key == "return_state" and "layer" in config:  # Bidirectional: both halves return states
            for half in ("layer", "backward_layer"):
                if half in config:
                    config[half]["config"]["return_state"] = value
        else:
            config[key] = value
    config["name"] = f"{layer.name}__probe_{'_'.join(changes)}"
    twin = type(layer).from_config(config)
    call = layer._inbound_nodes[0].arguments  # the layer's own call: its input and its mask
    out = twin(*call.args, **call.kwargs)
    twin.set_weights(layer.get_weights())
    return out


def _try_twin(layer: Any, **changes: Any) -> Any:
    """`_twin`, or None when this layer's config cannot be rebuilt so (a custom layer): that
    layer then shows its output only."""
    try:
        return _twin(layer, **changes)
    except (TypeError, ValueError, KeyError, NotImplementedError):
        return None


def _is_lstm(layer: Any) -> bool:
    inner = getattr(layer, "forward_layer", layer)
    return type(inner).__name__ == "LSTM"


def probe_model(model: Any) -> tuple[Any, list[Probe]]:
    """A Keras model from `model`'s inputs to every probe's tensor, and the probes in layer order."""
    keras = import_keras()
    try:
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        outputs: list[Any] = []
        probes: list[Probe] = []
        for layer in layers:
            if len(getattr(layer, "_inbound_nodes", [])) != 1:
                continue  # a shared layer has several outputs; none of them is "the" layer's
            tensors = layer._inbound_nodes[0].arguments.keras_tensors
            inbound = tuple(dict.fromkeys(t._keras_history.operation.name for t in tensors))
            out = layer.output
            if isinstance(out, (list, tuple)):
                continue
            name = type(layer).__name__
            act = _activation_name(layer)
            pre = _try_twin(layer, activation="linear") if act is not None else None
            if pre is not None:
                probes.append(Probe(f"{layer.name}:pre", layer.name, PRE, name, _shape(out), act, inbound))
                outputs.append(pre)
            probes.append(Probe(layer.name, layer.name, OUTPUT, name, _shape(out), act, inbound))
            outputs.append(out)
            with_states = _try_twin(layer, return_state=True) if _is_lstm(layer) else None
            if with_states is not None:
                states = with_states[1:]
                halves = ("forward", "backward") if hasattr(layer, "forward_layer") else ("",)
                for i, direction in enumerate(halves):  # LSTM states are [h, c] per direction
                    c = states[2 * i + 1]
                    suffix = f":{direction}" if direction else ""
                    probes.append(
                        Probe(
                            f"{layer.name}:state_c{suffix}",
                            layer.name,
                            STATE_C,
                            name,
                            _shape(c),
                            None,
                            inbound,
                            direction,
                        )
                    )
                    outputs.append(c)
        sub = keras.Model(model.inputs, outputs, name=f"{model.name}__probes")
    except (AttributeError, ValueError, TypeError) as e:
        raise CannotExpose(
            f"the Keras model has no layer graph to tap (a subclassed model or a layer without one input): {e}"
        ) from None
    return sub, probes

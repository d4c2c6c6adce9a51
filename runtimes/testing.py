"""Deliberately broken runtimes, for proving that the suite catches what it should.

Not in the registry by default; tests register them. `PerturbedKeras` is the reference
model with one embedding row shifted: only reviews containing that token disagree, so a
property test must find such a review and shrink it to (about) that one word.
`PerturbedDenseKeras` shifts a later layer's kernel and `OpaqueKeras` shows no intermediate
tensor: the per-layer view (`harness compare --layers`) must name the perturbed layer, and say
when a runtime cannot show its tensors.
"""

from __future__ import annotations

from typing import Any

from runtimes.base import Session
from runtimes.keras_runtime import KerasRuntime
from runtimes.spec import RuntimeSpec

PERTURBED_ID = "keras@perturbed"


class PerturbedKeras(KerasRuntime):
    def prepare(self, model: Any) -> Any:
        token, delta = int(self.spec.options["token_id"]), float(self.spec.options.get("delta", 1.0))
        embedding = model.get_layer("embedding")
        weights = embedding.get_weights()
        weights[0][token] += delta
        embedding.set_weights(weights)
        return model


def perturbed_spec(token_id: int, delta: float = 1.0) -> RuntimeSpec:
    return RuntimeSpec(
        PERTURBED_ID,
        "keras",
        "runtimes.testing:PerturbedKeras",
        "desktop",
        "float32",
        "py",
        variant="perturbed",
        options={"token_id": token_id, "delta": delta},
    )


PERTURBED_DENSE_ID = "keras@perturbed-dense"


class PerturbedDenseKeras(KerasRuntime):
    """The reference with one Dense layer's kernel shifted: every review's logit moves, and no
    tensor before that layer changes, so a per-layer view must name that layer and no earlier one."""

    def prepare(self, model: Any) -> Any:
        layer = model.get_layer(str(self.spec.options["layer"]))
        weights = layer.get_weights()
        weights[0] = weights[0] + float(self.spec.options.get("delta", 0.05))
        layer.set_weights(weights)
        return model


def perturbed_dense_spec(layer: str, delta: float = 0.05) -> RuntimeSpec:
    return RuntimeSpec(
        PERTURBED_DENSE_ID,
        "keras",
        "runtimes.testing:PerturbedDenseKeras",
        "desktop",
        "float32",
        "py",
        variant="perturbed-dense",
        options={"layer": layer, "delta": delta},
    )


OPAQUE_ID = "keras@opaque"


class OpaqueKeras(KerasRuntime):
    """The reference model in a session that shows no intermediate tensor, as Apple's Core ML
    (coreml-native) cannot: the per-layer view must say so instead of a number."""

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        session = super().open(bundle, artifact)
        session.tensor_graph = Session.tensor_graph.__get__(session)  # type: ignore[method-assign]
        session.cannot_expose = "this engine returns only the model's declared outputs"
        return session


def opaque_spec() -> RuntimeSpec:
    return RuntimeSpec(OPAQUE_ID, "keras", "runtimes.testing:OpaqueKeras", "desktop", "float32", "py", variant="opaque")

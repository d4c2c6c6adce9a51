"""Deliberately broken runtimes, for proving that the suite catches what it should.

Not in the registry by default; tests register them. `PerturbedKeras` is the reference
model with one embedding row shifted: only reviews containing that token disagree, so a
property test must find such a review and shrink it to (about) that one word.
"""

from __future__ import annotations

from typing import Any

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

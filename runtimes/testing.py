"""Deliberately broken runtimes, for proving that the suite catches what it should.

Not in the registry by default; tests register them. `PerturbedKeras` is the reference
model with one embedding row shifted: only reviews containing that token disagree, so a
property test must find such a review and shrink it to (about) that one word.
"""

from __future__ import annotations

import time
from typing import Any

from harness.model import import_keras
from harness.quiet import native_stderr
from runtimes.base import Availability, Runtime, RuntimeSpec, Session
from runtimes.keras_runtime import KerasSession

PERTURBED_ID = "keras@perturbed"


class PerturbedKeras(Runtime):
    def availability(self) -> Availability:
        return Availability(True)

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        keras = import_keras()
        started = time.perf_counter()
        with native_stderr():
            model = keras.saving.load_model(bundle.model_path, compile=False)
        token, delta = int(self.spec.options["token_id"]), float(self.spec.options.get("delta", 1.0))
        embedding = model.get_layer("embedding")
        weights = embedding.get_weights()
        weights[0][token] += delta
        embedding.set_weights(weights)
        sig = bundle.signature()
        session = KerasSession(model, sig.length, sig.vocab_size, sig.positive_index)
        session.load_seconds = time.perf_counter() - started
        session.info = {"perturbed_token_id": token, "delta": delta}
        return session


def perturbed_spec(token_id: int, delta: float = 1.0) -> RuntimeSpec:
    return RuntimeSpec(
        PERTURBED_ID, "runtimes.testing:PerturbedKeras", None, "py", "float32", {"token_id": token_id, "delta": delta}
    )

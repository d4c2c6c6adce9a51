"""`coreml-nn-native` and `coreml-nn-native@f16`: Apple's Core ML running the NeuralNetwork `.mlmodel`, macOS only.

The same engine as `coreml-native` (coremltools' `MLModel.predict`), given the `.mlmodel` the
iOS 13-14 app ships instead of an ML Program. Untested here: this machine is Linux, where it is
listed as unavailable with the reason, and `coreml-nn-ref` evaluates the same file.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from harness.core.errors import HarnessError
from runtimes.base import Session
from runtimes.coreml_native import CoremlNativeRuntime, CoremlNativeSession
from runtimes.coreml_nn_ref import MODEL_FILE


class CoremlNnNativeSession(CoremlNativeSession):
    """The converter declares a NeuralNetwork's int32 input as float32: ids are fed as float32."""

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        return super()._predict(ids.astype(np.float32))

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        return super()._latency_ms(ids.astype(np.float32), repeats, warmup)


class CoremlNnNativeRuntime(CoremlNativeRuntime):
    def open(self, bundle: Any, artifact: Any | None) -> Session:
        ok = self.availability()
        if not ok.ok:
            raise HarnessError(f"{self.id} cannot run here: {ok.reason}")
        if artifact is None:
            raise HarnessError(f"{self.id} needs a Core ML NeuralNetwork artifact (target {self.spec.target})")
        from runtimes.coreml_ref.evaluator import batch_upper_bound
        from runtimes.frameworks import coreml_quiet as quiet
        from runtimes.frameworks import import_coremltools

        artifact.verify()
        ct = import_coremltools()
        sig = bundle.signature()
        path = artifact.main_file(MODEL_FILE)
        started = time.perf_counter()
        with quiet():
            units = getattr(ct.ComputeUnit, str(self.spec.options.get("compute_units", "ALL")))
            mlmodel = ct.models.MLModel(str(path), compute_units=units)
        spec = mlmodel.get_spec()
        shape = list(spec.description.input[0].type.multiArrayType.shape)
        if spec.WhichOneof("Type") != "neuralNetwork" or len(shape) != 2 or shape[1] != sig.length:
            raise HarnessError(f"{path}: expected a NeuralNetwork taking [N, {sig.length}] token ids")
        batch_max = batch_upper_bound(spec) or 1
        session = CoremlNnNativeSession(
            mlmodel, batch_max, sig.length, vocab_size=sig.vocab_size, positive_index=sig.positive_index
        )
        session.load_seconds = time.perf_counter() - started
        session.info = {"engine": "Core ML (macOS)", "coremltools": ct.__version__, "compute_units": units.name}
        session.info["artifact"] = artifact.target
        return session

"""`coreml-nn-native` and `coreml-nn-native@f16`: Apple's Core ML running the NeuralNetwork `.mlmodel`, macOS only.

The same engine as `coreml-native` (coremltools' `MLModel.predict`), given the `.mlmodel` the
iOS 13-14 app ships instead of an ML Program. Untested here: this machine is Linux, where it is
listed as unavailable with the reason, and `coreml-nn-ref` evaluates the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from harness.core.errors import HarnessError
from runtimes.coreml_native import CoremlNativeRuntime, CoremlNativeSession
from runtimes.coreml_nn_ref import MODEL_FILE


class CoremlNnNativeSession(CoremlNativeSession):
    """The converter declares a NeuralNetwork's int32 input as float32: ids are fed as float32."""

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        return super()._predict(ids.astype(np.float32))

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        return super()._latency_ms(ids.astype(np.float32), repeats, warmup)


class CoremlNnNativeRuntime(CoremlNativeRuntime):
    main_file = MODEL_FILE
    artifact_kind = "a Core ML NeuralNetwork artifact"

    def _session(self, mlmodel: Any, path: Path, sig: Any) -> CoremlNativeSession:
        from runtimes.coreml_ref.evaluator import batch_upper_bound

        spec = mlmodel.get_spec()
        shape = list(spec.description.input[0].type.multiArrayType.shape)
        if spec.WhichOneof("Type") != "neuralNetwork" or len(shape) != 2 or shape[1] != sig.length:
            raise HarnessError(f"{path}: expected a NeuralNetwork taking [N, {sig.length}] token ids")
        batch_max = batch_upper_bound(spec) or 1
        return CoremlNnNativeSession(
            mlmodel, batch_max, sig.length, vocab_size=sig.vocab_size, positive_index=sig.positive_index
        )

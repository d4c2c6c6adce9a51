"""`coreml-nn-ref` and `coreml-nn-ref@f16`: the shipped NeuralNetwork `.mlmodel`, layer by layer in numpy.

Apps that deploy to iOS 14 or older ship this format (an ML Program needs iOS 15). Apple's
Core ML runs only on macOS, so this reads the exact `.mlmodel` the app ships and evaluates it
per NeuralNetwork.proto (`network` for the graph and its control flow, `layers` for the rest).

Precision. Everything is computed in float32, for both variants. A NeuralNetwork has no
compute-precision field (ML Programs do), and `quantize_weights(nbits=16)` changes only how
weights are *stored* (WeightParams.float16Value): coremltools' guide "Compressing Neural Network
Weights" says "the precision of the intermediate tensors and the compute precision of the ops
are not altered ... intermediate tensors are kept in float precision (float 32 or float 16
depending on execution unit), while the weights are dequantized at runtime". The execution
unit a phone picks is Core ML's choice (the GPU and the Neural Engine run float16); the one
precision the format itself fixes is the CPU's float32. So `@f16` models a CPU run
(`MLComputeUnits.cpuOnly`) of the shipped file: weights rounded to float16, math in float32.
Float16 activations on a GPU or the Neural Engine are not modelled here (`coreml-ref`, the
ML Program evaluator, models float16 compute); `@f16` is still held to the float16 policy.

Importing this package imports no coremltools.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.bundle import positive_scores
from harness.core.errors import HarnessError
from runtimes.base import RunResult, Session
from runtimes.coreml_ref import CoremlRefRuntime
from runtimes.tensors import CannotExpose, TensorGraph

MODEL_FILE = "model.mlmodel"  # the artifact's default entry point (its manifest names it as `main`)
CHUNK = 512  # rows per evaluator call: bounds memory, not results


def check_network_io(path: Path, network: Any, length: int) -> None:
    """Refuse a network that does not take [N, length] token ids to one float output. The input is
    a float32 multiarray: the NeuralNetwork converter declares int32 inputs as float32, which
    holds every id below 2^24 exactly."""
    expected = f"one multiarray [N, {length}] of token ids"
    if len(network.inputs) != 1 or network.input_types != ["multiArrayType"]:
        raise HarnessError(f"{path}: NeuralNetwork has {len(network.inputs)} inputs; expected {expected}")
    name, shape = network.inputs[0]
    if len(shape) != 2 or shape[1] != length:
        raise HarnessError(f"{path}: NeuralNetwork input {name!r} has shape {list(shape)}; expected {expected}")
    if len(network.outputs) != 1:
        raise HarnessError(f"{path}: NeuralNetwork has {len(network.outputs)} outputs; expected one float [N, C]")


class CoremlNnRefSession(Session):
    def __init__(self, network: Any, length: int, vocab_size: int, *, positive_index: int | None) -> None:
        super().__init__(length, vocab_size)
        self.network = network
        self._input = network.inputs[0][0]
        self._output = network.outputs[0]
        self._positive_index = positive_index
        self.info = {
            "evaluator": "coreml-nn-ref (numpy, float32 compute)",
            "numpy": np.__version__,
            "specification_version": network.specification_version,
            "weights_stored": dict(network.weights.storage),
            "nn_layers": sorted(network.layer_types),
            "converter": {k: v for k, v in network.metadata.items() if k.startswith("com.github.apple.coremltools")},
        }

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        feed = ids.astype(np.float32)
        parts = [
            self.network.run({self._input: feed[i : i + CHUNK]})[self._output].reshape(len(feed[i : i + CHUNK]), -1)
            for i in range(0, len(feed), CHUNK)
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _run(self, ids: np.ndarray) -> RunResult:
        started = time.perf_counter()
        out = self._forward(ids)
        seconds = time.perf_counter() - started
        return RunResult(positive_scores(out, self._positive_index), seconds)

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        feed = {self._input: ids.astype(np.float32)}
        return self._time_calls(lambda: self.network.run(feed), repeats, warmup)

    def tensor_graph(self) -> TensorGraph:
        """Every layer's output blob (names join TF scopes with "/", as the converter keeps them)."""
        return TensorGraph(nodes=self.network.graph(), separator="/")

    def intermediates(self, ids: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
        ids = self.check_ids(ids)
        env = self.network.trace({self._input: ids.astype(np.float32)})
        missing = [n for n in names if n not in env]
        if missing:
            raise CannotExpose(f"the NeuralNetwork computes no blob {missing[0]!r}")
        return {n: np.asarray(env[n]) for n in names}


class CoremlNnRefRuntime(CoremlRefRuntime):
    """Runs wherever coreml-ref runs (coremltools reads the spec; numpy computes): its availability."""

    def context(self) -> str:
        return f"coreml-nn-ref (numpy {np.__version__})"

    artifact_kind = "Core ML NeuralNetwork"
    main_file = MODEL_FILE

    def _evaluator(self, path: Path, sig: Any) -> Session:
        from runtimes.coreml_nn_ref.network import Network

        network = Network(path)
        check_network_io(path, network, sig.length)
        return CoremlNnRefSession(network, sig.length, sig.vocab_size, positive_index=sig.positive_index)

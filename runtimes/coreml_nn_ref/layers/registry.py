"""The layer table and what every layer module shares: registration, refusal, weights, indices.

A layer is registered by its `Layer.layer` oneof name in NeuralNetwork.proto (`embeddingND`,
`batchedMatmul`, ...). Its builder runs once when the model is opened: it reads the layer's
parameters and decodes its weights, and returns the function every run calls with the layer's
input tensors (in the order the spec lists them). So a weight is decoded once, not per review.

Every tensor of a NeuralNetwork is a float32 array, shapes and indices included (getShape
returns floats, gather reads float indices): that is how the format is defined, and why
`index` converts and refuses non-integers rather than truncate them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Run = Callable[[list[np.ndarray]], Any]  # input tensors -> one tensor, or a list for multi-output layers
Builder = Callable[[Any, "Weights"], Run]  # (the layer's params message, weight decoder) -> Run
LAYERS: dict[str, Builder] = {}


class UnsupportedLayer(Exception):
    """The layer, or this use of it, is not implemented; never approximated."""


def layer(*names: str) -> Callable[[Builder], Builder]:
    """Register a builder under NeuralNetwork.proto layer names (default: the function name
    without a trailing `_`)."""

    def register(fn: Builder) -> Builder:
        for name in names or (fn.__name__.rstrip("_"),):
            LAYERS[name] = fn
        return fn

    return register


def layers_from(table: Mapping[str, Any], make: Callable[[str, Any, Any], Run]) -> None:
    """Register one builder per entry of a {layer name: numpy function} table; `make(name, fn,
    params)` gives the layer's Run. For families whose layers differ only in that function."""
    for name, fn in table.items():

        def build(p: Any, w: Weights, *, name: str = name, fn: Any = fn) -> Run:
            return make(name, fn, p)

        LAYERS[name] = build


class Weights:
    """Decodes WeightParams (NeuralNetwork.proto) to float32 arrays and counts how each was stored.

    `floatValue` is float32; `float16Value` is IEEE half precision, little-endian bytes, what
    coremltools' `quantize_weights(nbits=16)` writes. A half-precision weight widens to float32
    exactly, and the layer then computes in float32 (see the package docstring for why).
    `rawValue` / `int8RawValue` (linear or lookup-table quantized weights) are refused.
    """

    def __init__(self) -> None:
        self.storage: dict[str, int] = {}  # "float32" / "float16" -> number of weight values

    def __call__(self, params: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
        count = int(np.prod(shape)) if shape else 1
        if len(params.floatValue):
            values, kind = np.asarray(params.floatValue, dtype=np.float32), "float32"
        elif len(params.float16Value):
            values, kind = np.frombuffer(params.float16Value, dtype="<f2").astype(np.float32), "float16"
        elif len(params.rawValue) or len(params.int8RawValue):
            bits = params.quantization.numberOfBits
            raise UnsupportedLayer(f"{what}: quantized weights ({bits} bits) are not implemented")
        elif count == 0:
            values, kind = np.zeros(0, dtype=np.float32), "float32"
        else:
            raise UnsupportedLayer(f"{what}: no weight values stored")
        if values.size != count:
            raise UnsupportedLayer(f"{what}: {values.size} weight values stored, shape {list(shape)} needs {count}")
        self.storage[kind] = self.storage.get(kind, 0) + count
        return values.reshape(shape)


def index(x: np.ndarray, what: str) -> np.ndarray:
    """Float indices as int64; a non-integral one is refused (Core ML's cast is unspecified)."""
    x = np.asarray(x)
    out = np.rint(x).astype(np.int64)
    if x.size and not np.array_equal(out, x):
        raise UnsupportedLayer(f"{what}: non-integral index values")
    return out


def axis_of(axis: int, rank: int) -> int:
    """A (possibly negative) axis in [-rank, rank) as a non-negative one; refused outside."""
    if not -rank <= axis < max(rank, 1):
        raise UnsupportedLayer(f"axis {axis} for a rank-{rank} tensor")
    return axis % max(rank, 1)


def f32(x: Any) -> np.ndarray:
    """A result as the format stores it: float32 (booleans become 1.0 / 0.0)."""
    return np.asarray(x, dtype=np.float32)

"""Elementwise layers: arithmetic, comparison, logic and select, with numpy broadcasting.

NeuralNetwork.proto: `add` and `multiply` take one or more inputs (one input: `alpha` is the
other operand); the `*Broadcastable` layers take exactly two. Comparisons produce 1.0 / 0.0
(GreaterThanLayerParams: "Output is 1.0f if the condition is true otherwise 0.0f"), and with
one input compare against `alpha`. Logic layers read any non-zero value as true.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np

from runtimes.coreml_nn_ref.layers.registry import Run, UnsupportedLayer, Weights, f32, layer, layers_from


def _fold(fn: Any, p: Any) -> Run:
    def run(xs: list[np.ndarray]) -> np.ndarray:
        if len(xs) == 1:
            return f32(fn(xs[0], np.float32(p.alpha)))
        return f32(reduce(fn, xs))

    return run


@layer()
def add(p: Any, w: Weights) -> Run:
    return _fold(np.add, p)


@layer()
def multiply(p: Any, w: Weights) -> Run:
    return _fold(np.multiply, p)


_BINARY = {
    "addBroadcastable": np.add,
    "subtractBroadcastable": np.subtract,
    "multiplyBroadcastable": np.multiply,
    "divideBroadcastable": np.divide,
    "maxBroadcastable": np.maximum,
    "minBroadcastable": np.minimum,
}


def _binary(name: str, fn: Any, p: Any) -> Run:
    def run(xs: list[np.ndarray]) -> np.ndarray:
        if len(xs) != 2:
            raise UnsupportedLayer(f"{name} takes 2 inputs, got {len(xs)}")
        return f32(fn(xs[0], xs[1]))

    return run


_COMPARE = {
    "greaterThan": np.greater,
    "greaterEqual": np.greater_equal,
    "lessThan": np.less,
    "lessEqual": np.less_equal,
    "equal": np.equal,
    "notEqual": np.not_equal,
}


def _compare(name: str, fn: Any, p: Any) -> Run:
    def run(xs: list[np.ndarray]) -> np.ndarray:
        other = xs[1] if len(xs) == 2 else np.float32(p.alpha)
        return f32(fn(xs[0], other))

    return run


layers_from(_BINARY, _binary)
layers_from(_COMPARE, _compare)


@layer()
def logicalNot(p: Any, w: Weights) -> Run:
    return lambda xs: f32(xs[0] == 0)


@layer()
def logicalAnd(p: Any, w: Weights) -> Run:
    return lambda xs: f32(reduce(np.logical_and, [x != 0 for x in xs]))


@layer()
def logicalOr(p: Any, w: Weights) -> Run:
    return lambda xs: f32(reduce(np.logical_or, [x != 0 for x in xs]))


@layer()
def whereBroadcastable(p: Any, w: Weights) -> Run:
    """Inputs (condition, x, y), broadcast to one shape; a non-zero condition picks x."""
    return lambda xs: f32(np.where(xs[0] != 0, xs[1], xs[2]))


_UNARY = {
    0: lambda x, p, eps: np.sqrt(x),  # SQRT
    1: lambda x, p, eps: 1 / np.sqrt(x + eps),  # RSQRT
    2: lambda x, p, eps: 1 / (x + eps),  # INVERSE
    3: lambda x, p, eps: np.power(x, np.float32(p.alpha)),  # POWER
    4: lambda x, p, eps: np.exp(x),  # EXP
    5: lambda x, p, eps: np.log(x),  # LOG
    6: lambda x, p, eps: np.abs(x),  # ABS
    7: lambda x, p, eps: np.maximum(x, np.float32(p.alpha)),  # THRESHOLD
}


@layer()
def unary(p: Any, w: Weights) -> Run:
    """UnaryFunctionLayerParams: x <- scale * x + shift first (scale 0 means 1, as the proto says),
    then the function; epsilon 0 means 1e-6 (RSQRT, INVERSE)."""
    fn = _UNARY.get(int(p.type))
    if fn is None:
        raise UnsupportedLayer(f"unary function {int(p.type)}")
    scale, eps = np.float32(p.scale or 1.0), np.float32(p.epsilon or 1e-6)
    return lambda xs: f32(fn(scale * xs[0] + np.float32(p.shift), p, eps))

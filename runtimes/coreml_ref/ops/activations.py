"""Activations and softmax, each the formula of its iOS15 docstring, computed in float32.

Per-channel parameters (prelu, softplus_parametric) apply along axis 1, as the docstrings say
(x is [B, C, ...]). gelu EXACT goes through float64 `math.erf` (numpy has no erf).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, axis_of, op, widen
from runtimes.coreml_ref.ops.unary import erf64

_ONE, _ZERO = np.float32(1), np.float32(0)


def _per_channel(alpha: Any, x: np.ndarray) -> np.ndarray:
    """A [C] parameter broadcast along axis 1 of x."""
    a = widen(alpha)
    if a.ndim != 1 or x.ndim < 2 or x.shape[1] != a.shape[0]:
        raise Unsupported(f"per-channel parameter of shape {list(a.shape)} for x {list(x.shape)}")
    return a.reshape((1, -1) + (1,) * (x.ndim - 2))


@op()
def relu(x: Any) -> np.ndarray:
    return np.maximum(widen(x), _ZERO)


@op()
def relu6(x: Any) -> np.ndarray:
    return np.minimum(np.maximum(widen(x), _ZERO), np.float32(6))


@op()
def sigmoid(x: Any) -> np.ndarray:
    return _ONE / (_ONE + np.exp(-widen(x)))


@op()
def tanh(x: Any) -> np.ndarray:
    return np.tanh(widen(x))


@op()
def scaled_tanh(x: Any, alpha: Any, beta: Any) -> np.ndarray:
    return widen(alpha) * np.tanh(widen(beta) * widen(x))


@op()
def gelu(x: Any, mode: str = "EXACT") -> np.ndarray:
    x = widen(x)
    if mode == "EXACT":
        x64 = x.astype(np.float64)
        return 0.5 * x64 * (1.0 + erf64(x64 / math.sqrt(2.0)))
    if mode == "TANH_APPROXIMATION":
        inner = np.float32(math.sqrt(2.0 / math.pi)) * (x + np.float32(0.044715) * x * x * x)
        return np.float32(0.5) * x * (_ONE + np.tanh(inner))
    if mode == "SIGMOID_APPROXIMATION":
        return x * sigmoid(np.float32(1.702) * x)
    raise Unsupported(f"gelu mode {mode!r}")


@op()
def silu(x: Any) -> np.ndarray:
    x = widen(x)
    return x * sigmoid(x)


@op()
def leaky_relu(x: Any, alpha: Any = 0.01) -> np.ndarray:
    x = widen(x)
    return np.where(x >= 0, x, widen(alpha) * x)


@op()
def clamped_relu(x: Any, alpha: Any, beta: Any) -> np.ndarray:
    """x >= 0: min(beta, x); else min(beta, alpha * x)."""
    x = widen(x)
    return np.minimum(widen(beta), np.where(x >= 0, x, widen(alpha) * x))


@op()
def elu(x: Any, alpha: Any) -> np.ndarray:
    """x > 0: x; else alpha * (e^x - 1)."""
    x = widen(x)
    return np.where(x > 0, x, widen(alpha) * np.expm1(x))


@op()
def thresholded_relu(x: Any, alpha: Any) -> np.ndarray:
    x = widen(x)
    return np.where(x >= widen(alpha), x, _ZERO)


@op()
def linear_activation(x: Any, alpha: Any, beta: Any) -> np.ndarray:
    return widen(x) * widen(alpha) + widen(beta)


@op()
def sigmoid_hard(x: Any, alpha: Any, beta: Any) -> np.ndarray:
    return np.minimum(np.maximum(widen(alpha) * widen(x) + widen(beta), _ZERO), _ONE)


@op()
def prelu(x: Any, alpha: Any) -> np.ndarray:
    x = widen(x)
    return np.where(x > 0, x, _per_channel(alpha, x) * x)


@op()
def softplus(x: Any) -> np.ndarray:
    """log(1 + e^x), in the overflow-free form of the op's value inference."""
    x = widen(x)
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, _ZERO)


@op()
def softplus_parametric(x: Any, alpha: Any, beta: Any) -> np.ndarray:
    """alpha_c * log(1 + e^(beta_c * x)), per channel."""
    x = widen(x)
    z = _per_channel(beta, x) * x
    return _per_channel(alpha, x) * (np.log1p(np.exp(-np.abs(z))) + np.maximum(z, _ZERO))


@op()
def softsign(x: Any) -> np.ndarray:
    x = widen(x)
    return x / (_ONE + np.abs(x))


@op()
def softmax(x: Any, axis: Any = -1) -> np.ndarray:
    x = widen(x)
    axis = axis_of(axis, x.ndim)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)

"""batch_norm, instance_norm, layer_norm, l2_norm: the iOS15 docstring formulas, in float32.

Means and variances are float32 sums rounded once; variance is the biased (population) one,
as layer_norm's value inference computes it (sum((x - mean)^2) / n). local_response_norm is
absent on purpose: its docstring says "amount of neighboring channels" without saying which
neighbours (Apple's own smoke-test values and PyTorch's LocalResponseNorm disagree).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, axis_of, ints, op, widen


def _channel(v: Any, x: np.ndarray, default: float) -> np.ndarray:
    """A [C] parameter (or its default) shaped to broadcast along axis 1 of x."""
    if v is None:
        return np.asarray(default, np.float32)
    v = widen(v)
    if v.size != x.shape[1]:
        raise Unsupported(f"per-channel parameter of {v.size} values for {x.shape[1]} channels")
    return v.reshape((1, -1) + (1,) * (x.ndim - 2))


def _normalize(x: np.ndarray, axes: tuple[int, ...], epsilon: Any) -> np.ndarray:
    mean = np.mean(x, axis=axes, keepdims=True, dtype=np.float32)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True, dtype=np.float32)
    return centered / np.sqrt(var + widen(epsilon))


@op()
def batch_norm(
    x: Any, mean: Any, variance: Any, *, gamma: Any = None, beta: Any = None, epsilon: Any = 1e-5
) -> np.ndarray:
    """gamma_c * (x - mean_c) / sqrt(variance_c + epsilon) + beta_c, x [n, C, *D]."""
    x = widen(x).astype(np.float32, copy=False)
    if x.ndim < 2:
        raise Unsupported(f"batch_norm of a rank-{x.ndim} tensor")
    m, v = _channel(mean, x, 0.0), _channel(variance, x, 1.0)
    return _channel(gamma, x, 1.0) * (x - m) / np.sqrt(v + widen(epsilon)) + _channel(beta, x, 0.0)


@op()
def instance_norm(x: Any, gamma: Any = None, beta: Any = None, *, epsilon: Any = 1e-5) -> np.ndarray:
    """Per sample and channel, normalized over the spatial dims *D of x [n, C, *D]."""
    x = widen(x).astype(np.float32, copy=False)
    if x.ndim < 3:
        raise Unsupported(f"instance_norm of a rank-{x.ndim} tensor")
    y = _normalize(x, tuple(range(2, x.ndim)), epsilon)
    return _channel(gamma, x, 1.0) * y + _channel(beta, x, 0.0)


@op()
def layer_norm(x: Any, axes: Any = None, gamma: Any = None, *, beta: Any = None, epsilon: Any = 1e-5) -> np.ndarray:
    """gamma * (x - E[x]) / sqrt(Var[x] + epsilon) + beta over `axes`; gamma and beta have
    shape x.shape[axes] (the axes in increasing order)."""
    x = widen(x).astype(np.float32, copy=False)
    ax = tuple(sorted({axis_of(a, x.ndim) for a in ints(axes)})) if axes is not None else tuple(range(x.ndim))
    y = _normalize(x, ax, epsilon)
    shape = [x.shape[i] if i in ax else 1 for i in range(x.ndim)]
    for p in (gamma, beta):
        if p is not None and np.size(p) != math.prod(shape):
            raise Unsupported(f"layer_norm gamma/beta of shape {list(np.shape(p))} for axes {list(ax)}")
    if gamma is not None:
        y = y * widen(gamma).reshape(shape)
    if beta is not None:
        y = y + widen(beta).reshape(shape)
    return y


@op()
def l2_norm(x: Any, epsilon: Any = 1e-6) -> np.ndarray:
    """x / sqrt(sum(x^2) + epsilon) over the last three dims; leading dims are batch."""
    x = widen(x).astype(np.float32, copy=False)
    if x.ndim < 3:
        raise Unsupported(f"l2_norm of a rank-{x.ndim} tensor (needs rank >= 3)")
    square_sum = np.sum(x * x, axis=(-3, -2, -1), keepdims=True)
    return x / np.sqrt(square_sum + widen(epsilon))

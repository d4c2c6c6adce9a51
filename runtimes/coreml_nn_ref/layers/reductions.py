"""Reductions (ReduceMax/Min/Sum/Mean/ProdLayerParams) and softmaxND, accumulated in float32.

Each reduce layer takes `axes` (negative allowed), `keepDims`, and `reduceAll` (every axis,
`axes` ignored). reduceSum over a 0/1 comparison is how the TF frontend writes `any`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from runtimes.coreml_nn_ref.layers.registry import Run, Weights, axis_of, f32, layer, layers_from

_REDUCE: dict[str, Callable[..., Any]] = {
    "reduceMax": np.max,
    "reduceMin": np.min,
    "reduceSum": np.sum,
    "reduceMean": np.mean,
    "reduceProd": np.prod,
}


def _reduce(name: str, fn: Any, p: Any) -> Run:
    def run(xs: list[np.ndarray]) -> np.ndarray:
        x = xs[0]
        axes = None if p.reduceAll else tuple(axis_of(int(a), x.ndim) for a in p.axes)
        return f32(fn(np.asarray(x, dtype=np.float32), axis=axes, keepdims=bool(p.keepDims)))

    return run


layers_from(_REDUCE, _reduce)


@layer()
def softmaxND(p: Any, w: Weights) -> Run:
    def run(xs: list[np.ndarray]) -> np.ndarray:
        x = xs[0]
        a = axis_of(int(p.axis), x.ndim)
        e = np.exp(x - np.max(x, axis=a, keepdims=True))
        return f32(e / np.sum(e, axis=a, keepdims=True))

    return run

"""reduce_*: float sums accumulate in float32 and round once (see the package docstring)."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, ints, is_int, op, widen


def _axes(axes: Any) -> tuple[int, ...] | None:
    return None if axes is None else ints(axes)


@op()
def reduce_max(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    return np.max(widen(x), axis=_axes(axes), keepdims=bool(keep_dims))


@op()
def reduce_min(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    return np.min(widen(x), axis=_axes(axes), keepdims=bool(keep_dims))


@op()
def reduce_sum(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = widen(x)
    return np.sum(x, axis=_axes(axes), keepdims=bool(keep_dims), dtype=x.dtype)


@op()
def reduce_mean(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    if is_int(x):
        raise Unsupported("reduce_mean on int32 (the spec does not say how the mean is rounded)")
    return np.mean(widen(x), axis=_axes(axes), keepdims=bool(keep_dims), dtype=np.float32)

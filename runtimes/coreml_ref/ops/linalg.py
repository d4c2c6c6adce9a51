"""linear and matmul: float sums accumulate in float32 and round once; int32 sums in int64, then wrap."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import is_int, op, widen


@op()
def linear(x: Any, weight: Any, bias: Any = None) -> np.ndarray:
    if is_int(x, weight):
        acc = np.asarray(x, np.int64) @ np.asarray(weight, np.int64).T
        return (acc if bias is None else acc + np.asarray(bias, np.int64)).astype(np.int32)
    out = widen(x).astype(np.float32, copy=False) @ widen(weight).astype(np.float32, copy=False).T
    return out if bias is None else out + widen(bias)


@op()
def matmul(x: Any, y: Any, transpose_x: Any = False, transpose_y: Any = False) -> np.ndarray:
    x, y = widen(x), widen(y)
    if bool(transpose_x) and x.ndim >= 2:
        x = np.swapaxes(x, -1, -2)
    if bool(transpose_y) and y.ndim >= 2:
        y = np.swapaxes(y, -1, -2)
    if is_int(x, y):
        return np.matmul(x.astype(np.int64), y.astype(np.int64)).astype(np.int32)
    return np.matmul(x.astype(np.float32, copy=False), y.astype(np.float32, copy=False))

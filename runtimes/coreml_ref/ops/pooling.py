"""max_pool and avg_pool over 1-3 spatial dims of [N, C, *S]."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, ints, op, widen
from runtimes.coreml_ref.ops.windows import pads_for, windows


def _pool(
    x: Any, kernel_sizes: Any, strides: Any, pad_type: Any, pad: Any, ceil_mode: Any, fill: float
) -> tuple[np.ndarray, list[tuple[int, int]], tuple[int, ...], tuple[int, ...]]:
    if bool(ceil_mode):
        raise Unsupported("pooling with ceil_mode=True")
    x = widen(x).astype(np.float32, copy=False)
    kernel = ints(kernel_sizes)
    strides_ = ints(strides) if strides is not None else (1,) * len(kernel)
    pads = pads_for(str(pad_type), pad, x.shape[2:], kernel, strides_)
    if any(p for pair in pads for p in pair):
        x = np.pad(x, [(0, 0), (0, 0), *pads], constant_values=fill)
    return x, pads, kernel, strides_


@op()
def max_pool(
    x: Any, kernel_sizes: Any, strides: Any = None, pad_type: Any = "valid", pad: Any = None, ceil_mode: Any = False
) -> np.ndarray:
    xp, _, kernel, strides_ = _pool(x, kernel_sizes, strides, pad_type, pad, ceil_mode, -np.inf)
    win = windows(xp, kernel, strides_, (1,) * len(kernel))
    return win.max(axis=tuple(range(-len(kernel), 0)))


@op()
def avg_pool(
    x: Any,
    kernel_sizes: Any,
    strides: Any = None,
    pad_type: Any = "valid",
    pad: Any = None,
    exclude_padding_from_average: Any = False,
    ceil_mode: Any = False,
) -> np.ndarray:
    """Padding counts as zeros in the average unless exclude_padding_from_average."""
    xp, pads, kernel, strides_ = _pool(x, kernel_sizes, strides, pad_type, pad, ceil_mode, 0.0)
    axes = tuple(range(-len(kernel), 0))
    total = windows(xp, kernel, strides_, (1,) * len(kernel)).sum(axis=axes, dtype=np.float32)
    if not bool(exclude_padding_from_average):
        return total / np.float32(math.prod(kernel))
    ones = np.pad(np.ones((1, 1, *np.shape(x)[2:]), np.float32), [(0, 0), (0, 0), *pads])
    count = windows(ones, kernel, strides_, (1,) * len(kernel)).sum(axis=axes, dtype=np.float32)
    return total / count

"""Tensors made from a shape, a range or indices: fill, fill_like, range_1d, one_hot, non_zero, band_part."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, axis_of, ints, is_int, op, widen


@op()
def fill(shape: Any, value: Any = 0.0) -> np.ndarray:
    """A tensor of `shape` holding `value`; the docstring requires every dimension > 0."""
    dims = ints(shape)
    if any(d <= 0 for d in dims):
        raise Unsupported(f"fill shape {list(dims)} (the spec requires every dimension > 0)")
    return np.full(dims, np.asarray(value))


@op()
def fill_like(ref_tensor: Any, value: Any = 0.0) -> np.ndarray:
    return np.full(np.shape(ref_tensor), np.asarray(value))


@op()
def range_1d(start: Any, end: Any, step: Any) -> np.ndarray:
    """numpy's arange: start + i * step for i in [0, ceil((end - start) / step))."""
    if is_int(start, end, step):
        if int(step) == 0:
            raise Unsupported("range_1d with step 0")
        return np.arange(int(start), int(end), int(step), dtype=np.int32)
    s, e, d = (np.float32(widen(v)) for v in (start, end, step))
    if d == 0 or not all(map(math.isfinite, (s, e, d))):
        raise Unsupported(f"range_1d({s}, {e}, {d})")
    n = max(0, math.ceil((float(e) - float(s)) / float(d)))
    return s + np.arange(n, dtype=np.float32) * d


@op()
def one_hot(
    indices: Any, one_hot_vector_size: Any, axis: Any = -1, *, on_value: Any = 1, off_value: Any = 0
) -> np.ndarray:
    """The new axis of length one_hot_vector_size goes at `axis` of the output (rank D + 1). An
    index outside [0, size) is not specified (TF gives all off_value; the spec is silent): refused."""
    idx = np.asarray(indices).astype(np.int64)
    size = int(one_hot_vector_size)
    if np.any((idx < 0) | (idx >= size)):
        raise Unsupported(f"one_hot index outside [0, {size})")
    on, off = np.asarray(on_value), np.asarray(off_value)
    a = axis_of(axis, idx.ndim + 1)
    hot = np.moveaxis(idx[..., None] == np.arange(size), -1, a)
    return np.where(hot, on, off).astype(np.result_type(on, off))


@op()
def non_zero(x: Any) -> np.ndarray:
    """[N, rank] indices of the non-zero elements, in row-major order (numpy's argwhere)."""
    return np.argwhere(np.asarray(x) != 0).astype(np.int32)


@op(moves=True)
def band_part(x: Any, lower: Any = -1, upper: Any = -1) -> np.ndarray:
    """Keep x[..., m, n] where (lower < 0 or m - n <= lower) and (upper < 0 or n - m <= upper)."""
    x = np.asarray(x)
    m, n = np.ogrid[: x.shape[-2], : x.shape[-1]]
    lo, up = int(lower), int(upper)
    keep = ((lo < 0) | (m - n <= lo)) & ((up < 0) | (n - m <= up))
    return np.where(keep, x, np.zeros((), x.dtype))

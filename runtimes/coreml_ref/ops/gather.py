"""gather, gather_along_axis, gather_nd: index-driven reads (tf.gather / tf.gather_nd semantics).

Index range, from the docstrings: iOS15/16 accept [-D, D) with negatives counting from the end;
iOS17 "supports only positive values -- negative values are considered out-of-bound", and an
out-of-bound index is a runtime error (validate_indices) or "undefined but memory safe". So an
index outside the opset's range is refused, never clamped or wrapped.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, axis_of, op


def checked(indices: Any, size: int | np.ndarray, opset: int, *, what: str) -> np.ndarray:
    """indices (int) as non-negative int64, after refusing any outside the opset's range.
    `size` may be an array broadcasting against indices (gather_nd: one size per column)."""
    idx = np.asarray(indices).astype(np.int64)
    lo = -np.asarray(size) if opset < 17 else np.zeros_like(np.asarray(size))
    bad = (idx < lo) | (idx >= size)
    if np.any(bad):
        v = int(idx[bad].reshape(-1)[0])
        raise Unsupported(f"{what} index {v} outside [{'-D' if opset < 17 else 0}, D) (iOS{opset} semantics)")
    return np.where(idx < 0, idx + size, idx)


@op(opset=True, moves=True)
def gather(
    x: Any, indices: Any, axis: Any = 0, *, batch_dims: Any = 0, validate_indices: Any = False, opset: int = 15
) -> np.ndarray:
    """output shape D[:axis] + N[batch_dims:] + D[axis+1:] (iOS16 docstring): per batch entry
    (the first batch_dims dims of x and indices, which must agree), an np.take along axis."""
    x = np.asarray(x)
    axis, b = axis_of(axis, x.ndim), int(batch_dims)
    d = x.shape[axis]
    if b == 0:
        return np.take(x, checked(indices, d, opset, what="gather"), axis=axis)
    idx = checked(indices, d, opset, what="gather")
    if b < 0 or b > axis or b > idx.ndim or x.shape[:b] != idx.shape[:b]:
        raise Unsupported(f"gather batch_dims {b} for x {list(x.shape)}, indices {list(idx.shape)}, axis {axis}")
    n = math.prod(x.shape[:b])
    xr, ir = x.reshape((n, *x.shape[b:])), idx.reshape((n, *idx.shape[b:]))
    parts = [np.take(xr[k], ir[k], axis=axis - b) for k in range(n)]
    inner = parts[0].shape if parts else x.shape[b:axis] + idx.shape[b:] + x.shape[axis + 1 :]
    return np.stack(parts).reshape(x.shape[:b] + inner) if parts else np.zeros(x.shape[:b] + inner, x.dtype)


@op(opset=True, moves=True)
def gather_along_axis(
    x: Any, indices: Any, axis: Any = 0, *, validate_indices: Any = False, opset: int = 15
) -> np.ndarray:
    x = np.asarray(x)
    axis = axis_of(axis, x.ndim)
    idx = checked(indices, x.shape[axis], opset, what="gather_along_axis")
    if idx.ndim != x.ndim:
        raise Unsupported(f"gather_along_axis indices rank {idx.ndim} != x rank {x.ndim}")
    return np.take_along_axis(x, idx, axis=axis)


@op(opset=True, moves=True)
def gather_nd(
    x: Any, indices: Any, batch_dims: Any = 0, *, validate_indices: Any = False, opset: int = 15
) -> np.ndarray:
    """output shape K[:-1] + D[batch_dims + K[-1]:] (iOS16 docstring): indices[..., :] address
    the dims after the batch dims; batch dims of x and indices must agree."""
    x = np.asarray(x)
    b = int(batch_dims)
    idx = np.asarray(indices)
    k = idx.shape[-1] if idx.ndim else 0
    if idx.ndim < 1 or b < 0 or b + k > x.ndim or x.shape[:b] != idx.shape[:b]:
        raise Unsupported(f"gather_nd batch_dims {b} for x {list(x.shape)}, indices {list(idx.shape)}")
    idx = checked(idx, np.asarray(x.shape[b : b + k]), opset, what="gather_nd")
    n = math.prod(x.shape[:b])
    xr = x.reshape((n, *x.shape[b:]))
    ir = idx.reshape((n, -1, k))
    rows = [xr[j][tuple(ir[j].T)] for j in range(n)]  # each [M, *D[b+k:]]
    out = np.stack(rows) if rows else np.zeros((0, ir.shape[1], *x.shape[b + k :]), x.dtype)
    return out.reshape(idx.shape[:-1] + x.shape[b + k :])

"""scatter, scatter_along_axis, scatter_nd: index-driven writes, `mode` update/add/sub/mul/div/max/min.

Indices follow the gather rule (`gather.checked`: iOS15/16 [-D, D), iOS17 [0, D), else refused).
Two updates to one position: for `update` the spec does not say which wins, so it is refused;
the arithmetic modes combine them all (np.<ufunc>.at, in index order).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.gather import checked
from runtimes.coreml_ref.ops.registry import Unsupported, axis_of, is_int, op, widen

_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "max": np.maximum, "min": np.minimum}


def _apply(data: Any, where: tuple[np.ndarray, ...], updates: Any, *, mode: str, what: str) -> np.ndarray:
    """out = data; out[where] (mode)= updates, `where` a tuple of broadcast index arrays."""
    out = np.array(widen(data), copy=True)
    upd = np.broadcast_to(widen(updates), np.broadcast_shapes(*(w.shape for w in where))).astype(out.dtype)
    mode = str(mode)
    if mode == "update":
        flat = np.ravel_multi_index(where, out.shape) if out.ndim else np.zeros(1, np.int64)
        if np.unique(flat).size != flat.size:
            raise Unsupported(f"{what} mode 'update' with repeated indices (which update wins is unspecified)")
        out[where] = upd
        return out
    if mode == "div":
        if is_int(out):
            raise Unsupported(f"{what} mode 'div' on int32")
        np.divide.at(out, where, upd)
        return out
    if mode not in _UFUNCS:
        raise Unsupported(f"{what} mode {mode!r}")
    _UFUNCS[mode].at(out, where, upd)
    return out


@op(opset=True)
def scatter(
    data: Any,
    indices: Any,
    updates: Any,
    *,
    axis: Any = 0,
    mode: Any = "update",
    validate_indices: Any = False,
    opset: int = 15,
) -> np.ndarray:
    """updates has shape data.shape[:axis] + indices.shape + data.shape[axis+1:] (a 1-D `indices`
    in the docstring; Apple's own tests pass N-D ones, as tf.compat.v1.scatter_* do): each index
    addresses one slice along axis, so indices are flattened with the matching updates dims."""
    data = np.asarray(data)
    axis = axis_of(axis, data.ndim)
    raw = np.asarray(indices)
    idx = checked(raw, data.shape[axis], opset, what="scatter").reshape(-1)
    upd = np.asarray(updates)
    want = data.shape[:axis] + raw.shape + data.shape[axis + 1 :]
    if upd.shape != want:
        raise Unsupported(f"scatter updates {list(upd.shape)} for data {list(data.shape)}, indices {list(raw.shape)}")
    upd = upd.reshape(data.shape[:axis] + (idx.size,) + data.shape[axis + 1 :])
    grid = np.broadcast_arrays(*np.ix_(*[idx if d == axis else np.arange(n) for d, n in enumerate(data.shape)]))
    return _apply(data, tuple(grid), upd, mode=mode, what="scatter")


@op(opset=True)
def scatter_along_axis(
    data: Any,
    indices: Any,
    updates: Any,
    *,
    axis: Any = 0,
    mode: Any = "add",
    validate_indices: Any = False,
    opset: int = 15,
) -> np.ndarray:
    """output[..., indices[..., i, ...], ...] (mode)= updates[..., i, ...] along `axis`."""
    data = np.asarray(data)
    axis = axis_of(axis, data.ndim)
    idx = checked(indices, data.shape[axis], opset, what="scatter_along_axis")
    if idx.ndim != data.ndim:
        raise Unsupported(f"scatter_along_axis indices rank {idx.ndim} != data rank {data.ndim}")
    where = tuple(
        idx if d == axis else np.arange(n).reshape([-1 if j == d else 1 for j in range(idx.ndim)])
        for d, n in enumerate(idx.shape)
    )
    return _apply(data, tuple(np.broadcast_arrays(*where)), updates, mode=mode, what="scatter_along_axis")


@op(opset=True)
def scatter_nd(
    data: Any, indices: Any, updates: Any, *, mode: Any = "add", validate_indices: Any = False, opset: int = 15
) -> np.ndarray:
    """output[indices[i_0, ..., i_{K-2}]] (mode)= updates[i_0, ..., i_{K-2}]."""
    data = np.asarray(data)
    idx = np.asarray(indices)
    k = idx.shape[-1]
    if k > data.ndim:
        raise Unsupported(f"scatter_nd indices {list(idx.shape)} for data {list(data.shape)}")
    idx = checked(idx, np.asarray(data.shape[:k]), opset, what="scatter_nd").reshape(-1, k)
    rest = data.shape[k:]
    lead = tuple(idx[:, j].reshape((-1,) + (1,) * len(rest)) for j in range(k))
    tail = tuple(
        np.arange(n).reshape((1,) + tuple(-1 if j == i else 1 for j in range(len(rest)))) for i, n in enumerate(rest)
    )
    where = np.broadcast_arrays(*lead, *tail)
    upd = np.asarray(updates).reshape((idx.shape[0], *rest))
    return _apply(data, tuple(where), upd, mode=mode, what="scatter_nd")

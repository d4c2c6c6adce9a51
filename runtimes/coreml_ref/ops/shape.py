"""Ops that change a tensor's shape, not its values: shape, reshape, squeeze, expand_dims, transpose."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, ints, op


@op()
def shape(x: Any) -> np.ndarray:
    return np.asarray(np.shape(x), dtype=np.int32)


@op(moves=True, opset=True)
def reshape(x: Any, shape: Any, *, opset: int = 15) -> np.ndarray:
    """A 0 in `shape` copies a dim of x: iOS15/16 the same index (ranks must match); iOS17 "counting
    from the rightmost element", and 1 where x has no such dim (iOS17 docstring)."""
    x = np.asarray(x)
    target = list(ints(shape))
    if 0 in target:
        if opset < 17:
            if len(target) != x.ndim:
                raise Unsupported(f"reshape with 0 in shape {target} for rank {x.ndim}")
            target = [x.shape[i] if s == 0 else s for i, s in enumerate(target)]
        else:
            k = len(target)
            target = [
                s if s != 0 else (x.shape[x.ndim - k + i] if x.ndim - k + i >= 0 else 1) for i, s in enumerate(target)
            ]
    return x.reshape(target)


@op(moves=True)
def reshape_like(x: Any, ref_tensors: Any, begins: Any, *, ends: Any, end_masks: Any) -> np.ndarray:
    """Output shape: ref_tensors[i].shape[begins[i]:ends[i]] (or [begins[i]:] with end_masks[i]), concatenated."""
    shape: list[int] = []
    for ref, b, e, m in zip(ref_tensors, ints(begins), ints(ends), np.asarray(end_masks).reshape(-1), strict=True):
        dims = np.shape(ref)
        shape += dims[b:] if bool(m) else dims[b:e]
    return np.asarray(x).reshape(shape)


@op(moves=True)
def flatten2d(x: Any, axis: Any = 1) -> np.ndarray:
    """[prod(x.shape[:axis]), prod(x.shape[axis:])]; axis may be rank(x) or negative."""
    x = np.asarray(x)
    a = int(axis)
    a = a + x.ndim if a < 0 else a
    if not 0 <= a <= x.ndim:
        raise Unsupported(f"flatten2d axis {axis} for rank {x.ndim}")
    return x.reshape(math.prod(x.shape[:a]), math.prod(x.shape[a:]))


@op(moves=True)
def squeeze(x: Any, axes: Any = None) -> np.ndarray:
    x = np.asarray(x)
    if axes is None:
        return np.squeeze(x)
    keep = tuple(a % x.ndim for a in ints(axes) if x.shape[a] == 1)  # PyTorch: ignore non-1 dims
    return np.squeeze(x, axis=keep)


@op(moves=True)
def expand_dims(x: Any, axes: Any) -> np.ndarray:
    x = np.asarray(x)
    out_rank = x.ndim + len(ints(axes))
    return np.expand_dims(x, tuple(sorted(a % out_rank for a in ints(axes))))


@op(moves=True)
def transpose(x: Any, perm: Any) -> np.ndarray:
    return np.transpose(x, ints(perm))

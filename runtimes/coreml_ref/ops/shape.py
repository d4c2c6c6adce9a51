"""Ops that change a tensor's shape, not its values: shape, reshape, squeeze, expand_dims, transpose."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, ints, op


@op()
def shape(x: Any) -> np.ndarray:
    return np.asarray(np.shape(x), dtype=np.int32)


@op(moves=True)
def reshape(x: Any, shape: Any) -> np.ndarray:
    x = np.asarray(x)
    target = list(ints(shape))
    if 0 in target:  # 0 copies that dimension of x (only when the ranks match)
        if len(target) != x.ndim:
            raise Unsupported(f"reshape with 0 in shape {target} for rank {x.ndim}")
        target = [x.shape[i] if s == 0 else s for i, s in enumerate(target)]
    return x.reshape(target)


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

"""gather and its relatives: index-driven reads."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, op


@op(opset=True, moves=True)
def gather(
    x: Any, indices: Any, axis: Any = 0, batch_dims: Any = 0, validate_indices: Any = False, *, opset: int = 15
) -> np.ndarray:
    """iOS15/16: indices in [-D, D) with negatives wrapping. iOS17+: only [0, D); a negative or
    too-large index is a runtime error (validate_indices) or undefined, so it is refused."""
    x, indices = np.asarray(x), np.asarray(indices)
    axis = int(axis) % x.ndim
    if int(batch_dims) != 0:
        raise Unsupported("gather with batch_dims != 0")
    d = x.shape[axis]
    lo = -d if opset < 17 else 0
    if indices.size and (indices.min() < lo or indices.max() >= d):
        bad = int(indices.min()) if indices.min() < lo else int(indices.max())
        raise Unsupported(f"gather index {bad} outside [{lo}, {d}) on axis {axis} (iOS{opset} semantics)")
    return np.take(x, indices, axis=axis)

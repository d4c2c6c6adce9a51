"""argsort and topk. Where equal values make the order (or the chosen k) unspecified, refuse."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, axis_of, op, widen


def _order(x: np.ndarray, axis: int, ascending: bool, *, keep: int, what: str) -> np.ndarray:
    """Indices sorting x along axis; refused if a tie (or NaN) falls within the first `keep` + 1
    (keep = 0: ties do not matter)."""
    if x.dtype.kind == "f" and np.any(np.isnan(x)):
        raise Unsupported(f"{what} of NaN")
    order = np.argsort(x if ascending else -x.astype(np.float64), axis=axis, kind="stable")
    ranked = np.take_along_axis(x, order, axis=axis)
    head = np.moveaxis(ranked, axis, -1)[..., : keep + 1]
    if keep and np.any(head[..., 1:] == head[..., :-1]):
        raise Unsupported(f"{what} with equal values (the spec does not order ties)")
    return order


@op()
def argsort(x: Any, axis: Any = -1, ascending: Any = False) -> np.ndarray:
    x = widen(x)
    a = axis_of(axis, x.ndim)
    return _order(x, a, bool(ascending), keep=x.shape[a], what="argsort").astype(np.int32)


@op()
def topk(
    x: Any,
    k: Any = 1,
    axis: Any = -1,
    *,
    ascending: Any = False,
    sort: Any = True,
    return_indices: Any = True,
    output_indices_dtype: Any = "int32",
) -> Any:
    """The k largest (smallest if ascending) along axis, sorted; k = -1 selects all (iOS17)."""
    x = widen(x)
    a = axis_of(axis, x.ndim)
    k = int(k)
    k = x.shape[a] if k == -1 else k
    if not bool(sort):
        raise Unsupported("topk sort=False (the output order is unspecified)")
    # ties matter only for the indices (which of the equal values) and at the k-th place
    keep = k if bool(return_indices) else 0
    order = np.take(_order(x, a, bool(ascending), keep=keep, what="topk"), np.arange(k), axis=a)
    values = np.take_along_axis(x, order, axis=a)
    return (values, order.astype(np.int32)) if bool(return_indices) else values

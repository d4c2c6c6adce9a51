"""reduce_*: float sums accumulate in float32 and round once (see the package docstring).

Each is the formula its iOS15 docstring names (value inference in numpy): l1 = sum |x|,
l2 = sqrt(sum x^2), log_sum = log(sum x), log_sum_exp = max + log(sum exp(x - max)),
sum_square = sum x^2. int32 inputs: sums and products wrap (two's complement); results the spec
leaves unrounded (mean, norms, logs of ints) are refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, axis_of, ints, is_int, op, widen


def _axes(x: np.ndarray, axes: Any) -> tuple[int, ...] | None:
    return None if axes is None else tuple(axis_of(a, x.ndim) for a in ints(axes))


def _float_only(x: Any, name: str) -> np.ndarray:
    if is_int(x):
        raise Unsupported(f"{name} on int32 (the spec does not say how the result is rounded)")
    return widen(x).astype(np.float32, copy=False)


@op()
def reduce_max(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = widen(x)
    return np.max(x, axis=_axes(x, axes), keepdims=bool(keep_dims))


@op()
def reduce_min(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = widen(x)
    return np.min(x, axis=_axes(x, axes), keepdims=bool(keep_dims))


@op()
def reduce_sum(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = widen(x)
    return np.sum(x, axis=_axes(x, axes), keepdims=bool(keep_dims), dtype=x.dtype)


@op()
def reduce_prod(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = widen(x)
    return np.prod(x, axis=_axes(x, axes), keepdims=bool(keep_dims), dtype=x.dtype)


@op()
def reduce_mean(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = _float_only(x, "reduce_mean")
    return np.mean(x, axis=_axes(x, axes), keepdims=bool(keep_dims), dtype=np.float32)


@op()
def reduce_l1_norm(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = widen(x)
    return np.sum(np.abs(x), axis=_axes(x, axes), keepdims=bool(keep_dims), dtype=x.dtype)


@op()
def reduce_sum_square(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = widen(x)
    return np.sum(x * x, axis=_axes(x, axes), keepdims=bool(keep_dims), dtype=x.dtype)


@op()
def reduce_l2_norm(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = _float_only(x, "reduce_l2_norm")
    return np.sqrt(np.sum(x * x, axis=_axes(x, axes), keepdims=bool(keep_dims)))


@op()
def reduce_log_sum(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = _float_only(x, "reduce_log_sum")
    return np.log(np.sum(x, axis=_axes(x, axes), keepdims=bool(keep_dims)))


@op()
def reduce_log_sum_exp(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = _float_only(x, "reduce_log_sum_exp")
    ax = _axes(x, axes)
    m = np.max(x, axis=ax, keepdims=True)
    m = np.where(np.isfinite(m), m, np.float32(0))  # all -inf (or an inf): exp(x - 0) says it
    out = np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True)) + m
    return out if bool(keep_dims) else np.squeeze(out, axis=ax)


def _arg(x: Any, axis: Any, keep_dims: Any, *, pick: Any, name: str) -> np.ndarray:
    """ "In case of ties, the identity of the return value is not guaranteed" (iOS15 docstring):
    a tie for the extreme value along the axis (or a NaN) is refused."""
    x = widen(x)
    a = axis_of(axis, x.ndim)
    best = (np.max if pick is np.argmax else np.min)(x, axis=a, keepdims=True)
    if np.any(np.sum(x == best, axis=a) > 1) or np.any(np.isnan(x)):
        raise Unsupported(f"{name} with a tie (or NaN) along axis {a}: the spec does not say which index")
    out = pick(x, axis=a).astype(np.int32)
    return np.expand_dims(out, a) if bool(keep_dims) else out


@op()
def reduce_argmax(x: Any, axis: Any = -1, keep_dims: Any = False, *, output_dtype: Any = "int32") -> np.ndarray:
    return _arg(x, axis, keep_dims, pick=np.argmax, name="reduce_argmax")


@op()
def reduce_argmin(x: Any, axis: Any = -1, keep_dims: Any = False, *, output_dtype: Any = "int32") -> np.ndarray:
    return _arg(x, axis, keep_dims, pick=np.argmin, name="reduce_argmin")


@op()
def cumsum(x: Any, axis: Any = 0, exclusive: Any = False, *, reverse: Any = False) -> np.ndarray:
    """Inclusive running sum along axis; `exclusive` shifts it by one (first element 0), `reverse`
    sums from the end. float32 running sums, rounded once per element; int32 wraps."""
    x = widen(x)
    a = axis_of(axis, x.ndim)
    y = np.flip(x, a) if bool(reverse) else x
    out = np.cumsum(y, axis=a, dtype=x.dtype)
    if bool(exclusive):
        out = np.concatenate([np.zeros_like(np.take(out, [0], axis=a)), np.delete(out, -1, axis=a)], axis=a)
    return np.flip(out, a) if bool(reverse) else out

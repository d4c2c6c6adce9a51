"""cast: the one op that changes a tensor's dtype on purpose."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, op

CAST_DTYPES: dict[str, Any] = {
    "fp16": np.float16,
    "fp32": np.float32,
    "bool": np.bool_,
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
}


@op()
def cast(x: Any, dtype: str) -> np.ndarray:
    """Float -> float rounds to nearest even; int -> float rounds; float -> int truncates toward
    zero (coremltools' own value inference is numpy's astype). A float that is NaN or outside
    the integer type's range has no defined result, so it is refused."""
    target = CAST_DTYPES.get(str(dtype))
    if target is None:
        raise Unsupported(f"cast to dtype {dtype!r}")
    x = np.asarray(x)
    if np.issubdtype(target, np.integer) and np.issubdtype(x.dtype, np.floating):
        info = np.iinfo(target)
        t = np.trunc(x.astype(np.float64))
        if not np.all(np.isfinite(t)) or t.min(initial=0) < info.min or t.max(initial=0) > info.max:
            raise Unsupported(f"cast of NaN/inf or out-of-range float to {dtype}")
        return t.astype(target)
    if np.issubdtype(target, np.integer) and np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(target)
        if x.size and (x.min() < info.min or x.max() > info.max):
            raise Unsupported(f"cast of out-of-range integer to {dtype}")
    return x.astype(target)


def _param(v: Any, x: np.ndarray, axis: Any) -> np.ndarray:
    """A scalar, or a vector along `axis` of x (the quantize / dequantize broadcasting rule)."""
    v = np.asarray(v)
    if v.ndim == 0:
        return v
    if axis is None or v.size != x.shape[int(axis)]:
        raise Unsupported(f"quantization parameter of {v.size} values for axis {axis} of {list(x.shape)}")
    return v.reshape([-1 if i == int(axis) % x.ndim else 1 for i in range(x.ndim)])


@op()
def quantize(input: Any, scale: Any, output_dtype: Any, *, zero_point: Any = None, axis: Any = None) -> np.ndarray:
    """clip(round(input / scale) + zero_point) to int8 / uint8 (iOS17). The docstring does not say
    how a quotient exactly halfway between integers rounds, so such a tie is refused."""
    target = {"int8": np.int8, "uint8": np.uint8}.get(str(output_dtype))
    if target is None:
        raise Unsupported(f"quantize to {output_dtype!r}")
    x = np.asarray(input, np.float32)
    q = x / _param(np.asarray(scale, np.float32), x, axis)
    if np.any(np.abs(q - np.floor(q) - 0.5) == 0):
        raise Unsupported("quantize of a value halfway between two steps (rounding unspecified)")
    zp = 0 if zero_point is None else _param(zero_point, x, axis).astype(np.float32)
    info = np.iinfo(target)
    return np.clip(np.rint(q) + zp, info.min, info.max).astype(target)


@op()
def dequantize(input: Any, scale: Any, zero_point: Any = None, *, axis: Any = None) -> np.ndarray:
    """scale * (input - zero_point), in float32."""
    x = np.asarray(input)
    zp = 0 if zero_point is None else _param(zero_point, x, axis).astype(np.float32)
    return _param(np.asarray(scale, np.float32), x, axis) * (x.astype(np.float32) - zp)

"""cast: the one op that changes a tensor's dtype on purpose."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, op

CAST_DTYPES: dict[str, Any] = {
    "fp16": np.float16, "fp32": np.float32, "bool": np.bool_,
    "int8": np.int8, "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16, "int32": np.int32,
}  # fmt: skip


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

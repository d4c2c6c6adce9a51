"""What conv and pooling share: MIL's padding rule and a strided view of every receptive field."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from runtimes.coreml_ref.ops.registry import Unsupported, ints


def pads_for(
    pad_type: str, pad: Any, spatial: tuple[int, ...], *, kernel: tuple[int, ...], strides: tuple[int, ...]
) -> list[tuple[int, int]]:
    """(before, after) per spatial dim. `same` puts an odd extra pad after (BOTTOM_RIGHT_HEAVY,
    as the NN backend maps it and as TF's SAME), `same_lower` before; `kernel` is dilated."""
    n = len(spatial)
    if pad_type == "valid":
        return [(0, 0)] * n
    if pad_type == "custom":
        p = ints(pad) if pad is not None else (0,) * (2 * n)
        return [(p[2 * i], p[2 * i + 1]) for i in range(n)]
    if pad_type in ("same", "same_lower"):
        out = []
        for i, k, s in zip(spatial, kernel, strides, strict=True):
            total = max(0, s * math.ceil(i / s) - i + k - s)
            small, big = total // 2, total - total // 2
            out.append((small, big) if pad_type == "same" else (big, small))
        return out
    raise Unsupported(f"pad_type {pad_type!r}")


def windows(
    x: np.ndarray, kernel: tuple[int, ...], strides: tuple[int, ...], *, dilations: tuple[int, ...]
) -> np.ndarray:
    """[N, C, *S] (already padded) -> [N, C, *out, *kernel]: a strided view of every receptive
    field (what sliding_window_view gives, built directly: that helper costs ~5x more per call)."""
    span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=True))
    if any(s > d for s, d in zip(span, x.shape[2:], strict=True)):
        raise Unsupported(f"window {list(span)} larger than the padded input {list(x.shape[2:])}")
    out = tuple((d - s) // st + 1 for d, s, st in zip(x.shape[2:], span, strides, strict=True))
    sp = x.strides[2:]
    view_strides = (
        x.strides[:2]
        + tuple(a * b for a, b in zip(sp, strides, strict=True))
        + tuple(a * b for a, b in zip(sp, dilations, strict=True))
    )
    return as_strided(x, x.shape[:2] + out + tuple(kernel), view_strides, writeable=False)

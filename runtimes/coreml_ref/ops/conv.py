"""Convolution: cross-correlation (no kernel flip), weight [C_out, C_in/groups, *K], 1-3 spatial dims."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, ints, op, widen
from runtimes.coreml_ref.ops.windows import pads_for, windows


@op()
def conv(
    x: Any,
    weight: Any,
    bias: Any = None,
    strides: Any = None,
    pad_type: Any = "valid",
    pad: Any = None,
    dilations: Any = None,
    groups: Any = 1,
) -> np.ndarray:
    """Every receptive field is a row of a strided window view, multiplied by the weights as one matmul."""
    x, w = widen(x).astype(np.float32, copy=False), widen(weight).astype(np.float32, copy=False)
    n_sp = x.ndim - 2
    kernel = tuple(w.shape[2:])
    strides_ = ints(strides) if strides is not None else (1,) * n_sp
    dil = ints(dilations) if dilations is not None else (1,) * n_sp
    span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dil, strict=True))
    pads = pads_for(str(pad_type), pad, x.shape[2:], span, strides_)
    if any(p for pair in pads for p in pair):
        x = np.pad(x, [(0, 0), (0, 0), *pads])
    win = windows(x, kernel, strides_, dil)  # [N, C, *out, *K]
    groups = int(groups)
    n, c = x.shape[:2]
    c_out = w.shape[0]
    if c % groups or c_out % groups or w.shape[1] != c // groups:
        raise Unsupported(f"conv weight {list(w.shape)} does not fit {c} input channels in {groups} groups")
    out_sp = win.shape[2 : 2 + n_sp]
    cg, og = c // groups, c_out // groups
    # [N, C, *out, *K] -> [N, *out, C, *K]: each output position's receptive field is one row
    order = (0, *range(2, 2 + n_sp), 1, *range(2 + n_sp, 2 + 2 * n_sp))
    parts = []
    for g in range(groups):
        rows = win[:, g * cg : (g + 1) * cg].transpose(order).reshape(n, *out_sp, -1)
        parts.append(rows @ w[g * og : (g + 1) * og].reshape(og, -1).T)
    out = parts[0] if groups == 1 else np.concatenate(parts, axis=-1)  # [N, *out, C_out]
    if bias is not None:
        out = out + widen(bias)
    return np.moveaxis(out, -1, 1)

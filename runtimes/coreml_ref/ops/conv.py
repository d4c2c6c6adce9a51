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
    *,
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
    pads = pads_for(str(pad_type), pad, x.shape[2:], kernel=span, strides=strides_)
    if any(p for pair in pads for p in pair):
        x = np.pad(x, [(0, 0), (0, 0), *pads])
    win = windows(x, kernel, strides_, dilations=dil)  # [N, C, *out, *K]
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


@op()
def conv_transpose(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    pad: Any = None,
    output_shape: Any = None,
    pad_type: Any = "valid",
    strides: Any = None,
    dilations: Any = None,
    groups: Any = 1,
) -> np.ndarray:
    """The adjoint of conv: every input element adds x * weight[c_in, c_out] at i * stride + k * dilation
    of the full output ("valid": (D - 1) * s + (K - 1) * d + 1 long), from which "custom" drops pad
    before and after. "same" and an output_shape other than that size are not pinned down by the
    docstring ("The output shape of conv_transpose is underdetermined in general"): refused."""
    x, w = widen(x).astype(np.float32, copy=False), widen(weight).astype(np.float32, copy=False)
    n_sp = x.ndim - 2
    kernel = tuple(w.shape[2:])
    s = ints(strides) if strides is not None else (1,) * n_sp
    d = ints(dilations) if dilations is not None else (1,) * n_sp
    g = int(groups)
    n, c_in = x.shape[:2]
    if c_in % g or w.shape[0] != c_in:
        raise Unsupported(f"conv_transpose weight {list(w.shape)} for {c_in} input channels in {g} groups")
    og = w.shape[1]
    full = tuple((i - 1) * st + (k - 1) * dl + 1 for i, st, k, dl in zip(x.shape[2:], s, kernel, d, strict=True))
    pad_type = str(pad_type)
    if pad_type == "valid":
        crop = [(0, 0)] * n_sp
    elif pad_type == "custom":
        p = ints(pad) if pad is not None else (0,) * (2 * n_sp)
        crop = [(p[2 * i], p[2 * i + 1]) for i in range(n_sp)]
    else:
        raise Unsupported(f"conv_transpose pad_type {pad_type!r} (its crop is not specified)")
    want = tuple(f - a - b for f, (a, b) in zip(full, crop, strict=True))
    if output_shape is not None and tuple(ints(output_shape))[2:] != want:
        raise Unsupported(
            f"conv_transpose output_shape {list(ints(output_shape))} other than the {list(want)} it computes"
        )
    out = np.zeros((n, og * g, *full), np.float32)
    cg = c_in // g
    flat = w.reshape(c_in, og, -1)
    for k in np.ndindex(*kernel):
        where = tuple(
            slice(kk * dl, kk * dl + (i - 1) * st + 1, st) for kk, dl, i, st in zip(k, d, x.shape[2:], s, strict=True)
        )
        for gi in range(g):
            xs = x[:, gi * cg : (gi + 1) * cg]  # [n, cg, *D]
            wk = flat[gi * cg : (gi + 1) * cg, :, int(np.ravel_multi_index(k, kernel))]  # [cg, og]
            out[(slice(None), slice(gi * og, (gi + 1) * og), *where)] += np.moveaxis(
                np.tensordot(xs, wk, axes=([1], [0])), -1, 1
            )
    out = out[(slice(None), slice(None), *(slice(a, f - b) for (a, b), f in zip(crop, full, strict=True)))]
    if bias is not None:
        out = out + widen(bias).reshape((1, -1) + (1,) * n_sp)
    return out

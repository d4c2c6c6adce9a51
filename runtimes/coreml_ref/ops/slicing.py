"""Ops that cut tensors up or join them: slice_by_index, slice_by_size, concat, stack, pad."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, bools, ints, op


@op(moves=True)
def concat(values: Any, axis: Any, interleave: Any = False) -> np.ndarray:
    values = [np.asarray(v) for v in values]
    axis = int(axis) % values[0].ndim
    if not bool(interleave):
        return np.concatenate(values, axis=axis)
    stacked = np.stack(values, axis=axis + 1)  # [.., d, k, ..] -> d0 of each input, then d1 ...
    shape = list(values[0].shape)
    shape[axis] *= len(values)
    return stacked.reshape(shape)


@op(moves=True)
def stack(values: Any, axis: Any) -> np.ndarray:
    return np.stack([np.asarray(v) for v in values], axis=int(axis))


@op(moves=True)
def pad(x: Any, pad: Any, mode: Any = "constant", constant_val: Any = 0.0) -> np.ndarray:
    """`pad` lists (before, after) for the last len(pad)/2 dims; `replicate` is numpy's `edge`.
    (TF lowers a dilated 'same' Conv1D to pad + space-to-batch reshapes + conv.)"""
    x = np.asarray(x)
    p = ints(pad)
    if len(p) % 2 or len(p) // 2 > x.ndim or min(p, default=0) < 0:
        raise Unsupported(f"pad {list(p)} for a rank-{x.ndim} tensor")
    widths = [(0, 0)] * (x.ndim - len(p) // 2) + [(p[i], p[i + 1]) for i in range(0, len(p), 2)]
    mode = str(mode)
    if mode == "constant":
        return np.pad(x, widths, constant_values=np.asarray(constant_val, x.dtype))
    if mode in ("reflect", "replicate"):
        if any(w != (0, 0) for w in widths[:-2]):
            # Core ML itself rejects these (webmachinelearning/webnn#739): refuse, do not invent
            raise Unsupported(f"{mode} pad {list(p)} on more than the last two dims")
        limit = 1 if mode == "reflect" else 0
        if any(max(w) > d - limit for w, d in zip(widths, x.shape, strict=True)):
            raise Unsupported(f"{mode} pad {list(p)} wider than the tensor {list(x.shape)} allows")
        return np.pad(x, widths, mode="reflect" if mode == "reflect" else "edge")
    raise Unsupported(f"pad mode {mode!r}")


@op(moves=True)
def slice_by_index(
    x: Any,
    begin: Any,
    end: Any,
    stride: Any = None,
    begin_mask: Any = None,
    end_mask: Any = None,
    squeeze_mask: Any = None,
) -> np.ndarray:
    x = np.asarray(x)
    rank = x.ndim
    begin, end = list(ints(begin)), list(ints(end))
    stride = list(ints(stride)) if stride is not None else [1] * rank
    bm, em, sm = bools(begin_mask, rank), bools(end_mask, rank), bools(squeeze_mask, rank)
    index: list[Any] = []
    for i in range(rank):
        if sm[i]:
            index.append(0 if bm[i] else begin[i])  # a pure index at begin; end ignored
            continue
        index.append(slice(None if bm[i] else begin[i], None if em[i] else end[i], stride[i]))
    return np.asarray(x[tuple(index)])


@op(moves=True)
def slice_by_size(x: Any, begin: Any, size: Any) -> np.ndarray:
    x = np.asarray(x)
    index = []
    for i, (b, s) in enumerate(zip(ints(begin), ints(size), strict=True)):
        b = b + x.shape[i] if b < 0 else b
        index.append(slice(b, None) if s < 0 else slice(b, b + s))
    return x[tuple(index)]

"""MIL operations in numpy: one small function per op, registered by its MIL name.

Semantics follow coremltools' op definitions (coremltools/converters/mil/mil/ops/defs/iOS15..18),
parameter names and defaults included, so an op's keyword arguments are the MIL op's inputs.

Precision convention (the evaluator applies the last step, not the op):
- Float inputs are widened to float32 and the op computes in float32; the evaluator then rounds
  the result once to the output's declared dtype (float16 in the fp16 program). For add, sub,
  mul and real_div this equals IEEE float16 arithmetic exactly: float32 has 24 significand bits
  >= 2 * 11 + 2, so rounding twice cannot differ from rounding once.
- Sums inside conv, linear, matmul, softmax and the reductions accumulate in float32 and round
  once at the end. Core ML does not document its accumulator width per device (CPU, GPU, Neural
  Engine); float32 is the assumption here, and the fp16 tolerance policy absorbs the difference.
- erf (numpy has none) is computed in float64 with `math.erf`, then rounded.
- Integer ops compute in int32 with two's-complement wrap-around.
An op given something this module cannot compute exactly as specified raises `Unsupported`
(the evaluator turns it into a HarnessError naming the op and the model) rather than guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

OpFn = Callable[..., Any]
OPS: dict[str, OpFn] = {}
WANTS_OPSET: set[str] = set()  # ops whose meaning changed between opsets get `opset=<iOS major>`

# Ops that only move or select values: their result has x's dtype without any arithmetic.
DATA_MOVEMENT = {
    "gather", "select", "concat", "stack", "reshape", "transpose", "squeeze", "expand_dims",
    "slice_by_index", "slice_by_size", "pad", "identity",
}  # fmt: skip


class Unsupported(Exception):
    """The op, or this use of it, is not implemented; never approximated."""


def op(*names: str, opset: bool = False) -> Callable[[OpFn], OpFn]:
    def register(fn: OpFn) -> OpFn:
        for name in names or (fn.__name__.rstrip("_"),):
            OPS[name] = fn
            if opset:
                WANTS_OPSET.add(name)
        return fn

    return register


def _f(x: Any) -> np.ndarray:
    """Float tensors widened to float32 (exact for float16); integer and bool tensors as given."""
    x = np.asarray(x)
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _ints(v: Any) -> tuple[int, ...]:
    return tuple(int(i) for i in np.asarray(v).reshape(-1))


def _is_int(*xs: Any) -> bool:
    return all(np.issubdtype(np.asarray(x).dtype, np.integer) for x in xs)


# --- elementwise binary (numpy broadcasting, as the MIL spec) -------------------------------


@op()
def add(x: Any, y: Any) -> np.ndarray:
    return np.add(_f(x), _f(y))


@op()
def sub(x: Any, y: Any) -> np.ndarray:
    return np.subtract(_f(x), _f(y))


@op()
def mul(x: Any, y: Any) -> np.ndarray:
    return np.multiply(_f(x), _f(y))


@op()
def real_div(x: Any, y: Any) -> np.ndarray:
    if _is_int(x, y):
        raise Unsupported("real_div on int32 tensors (the spec does not say how the quotient is rounded)")
    return np.divide(_f(x), _f(y))


@op()
def maximum(x: Any, y: Any) -> np.ndarray:
    return np.maximum(_f(x), _f(y))


@op()
def minimum(x: Any, y: Any) -> np.ndarray:
    return np.minimum(_f(x), _f(y))


@op()
def pow_(x: Any, y: Any) -> np.ndarray:
    if _is_int(x, y):
        raise Unsupported("pow on int32 tensors")
    return np.power(_f(x), _f(y))


@op()
def less(x: Any, y: Any) -> np.ndarray:
    return np.less(x, y)


@op()
def less_equal(x: Any, y: Any) -> np.ndarray:
    return np.less_equal(x, y)


@op()
def greater(x: Any, y: Any) -> np.ndarray:
    return np.greater(x, y)


@op()
def greater_equal(x: Any, y: Any) -> np.ndarray:
    return np.greater_equal(x, y)


@op()
def equal(x: Any, y: Any) -> np.ndarray:
    return np.equal(x, y)


@op()
def not_equal(x: Any, y: Any) -> np.ndarray:
    return np.not_equal(x, y)


@op()
def logical_and(x: Any, y: Any) -> np.ndarray:
    return np.logical_and(x, y)


@op()
def logical_or(x: Any, y: Any) -> np.ndarray:
    return np.logical_or(x, y)


@op()
def logical_not(x: Any) -> np.ndarray:
    return np.logical_not(x)


# --- elementwise unary and activations ---------------------------------------------------------


@op()
def identity(x: Any) -> np.ndarray:
    return np.asarray(x)


@op()
def relu(x: Any) -> np.ndarray:
    return np.maximum(_f(x), np.float32(0))


@op()
def sigmoid(x: Any) -> np.ndarray:
    x = _f(x)
    return np.float32(1) / (np.float32(1) + np.exp(-x))


@op()
def tanh(x: Any) -> np.ndarray:
    return np.tanh(_f(x))


@op()
def exp(x: Any) -> np.ndarray:
    return np.exp(_f(x))


@op()
def sqrt(x: Any) -> np.ndarray:
    return np.sqrt(_f(x))


@op()
def abs_(x: Any) -> np.ndarray:
    return np.abs(_f(x))


_erf = np.frompyfunc(math.erf, 1, 1)


def erf64(x: np.ndarray) -> np.ndarray:
    return _erf(np.asarray(x, dtype=np.float64)).astype(np.float64)


@op()
def erf(x: Any) -> np.ndarray:
    return erf64(x)


@op()
def gelu(x: Any, mode: str = "EXACT") -> np.ndarray:
    x = _f(x)
    if mode == "EXACT":
        x64 = x.astype(np.float64)
        return 0.5 * x64 * (1.0 + erf64(x64 / math.sqrt(2.0)))
    if mode == "TANH_APPROXIMATION":
        inner = np.float32(math.sqrt(2.0 / math.pi)) * (x + np.float32(0.044715) * x * x * x)
        return np.float32(0.5) * x * (np.float32(1) + np.tanh(inner))
    if mode == "SIGMOID_APPROXIMATION":
        return x * sigmoid(np.float32(1.702) * x)
    raise Unsupported(f"gelu mode {mode!r}")


@op()
def silu(x: Any) -> np.ndarray:
    x = _f(x)
    return x * sigmoid(x)


@op()
def leaky_relu(x: Any, alpha: Any = 0.01) -> np.ndarray:
    x = _f(x)
    return np.where(x >= 0, x, np.float32(alpha) * x)


@op()
def clip(x: Any, alpha: Any, beta: Any) -> np.ndarray:
    return np.minimum(np.maximum(_f(x), np.float32(alpha)), np.float32(beta))


@op()
def softmax(x: Any, axis: Any = -1) -> np.ndarray:
    x = _f(x)
    e = np.exp(x - np.max(x, axis=int(axis), keepdims=True))
    return e / np.sum(e, axis=int(axis), keepdims=True)


# --- casts and selection -----------------------------------------------------------------------

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


@op()
def select(cond: Any, a: Any, b: Any) -> np.ndarray:
    return np.where(np.asarray(cond, dtype=bool), a, b)


@op(opset=True)
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


# --- linear algebra ----------------------------------------------------------------------------


@op()
def linear(x: Any, weight: Any, bias: Any = None) -> np.ndarray:
    if _is_int(x, weight):
        acc = np.asarray(x, np.int64) @ np.asarray(weight, np.int64).T
        return (acc if bias is None else acc + np.asarray(bias, np.int64)).astype(np.int32)
    out = _f(x).astype(np.float32, copy=False) @ _f(weight).astype(np.float32, copy=False).T
    return out if bias is None else out + _f(bias)


@op()
def matmul(x: Any, y: Any, transpose_x: Any = False, transpose_y: Any = False) -> np.ndarray:
    x, y = _f(x), _f(y)
    if bool(transpose_x) and x.ndim >= 2:
        x = np.swapaxes(x, -1, -2)
    if bool(transpose_y) and y.ndim >= 2:
        y = np.swapaxes(y, -1, -2)
    if _is_int(x, y):
        return np.matmul(x.astype(np.int64), y.astype(np.int64)).astype(np.int32)
    return np.matmul(x.astype(np.float32, copy=False), y.astype(np.float32, copy=False))


# --- reductions --------------------------------------------------------------------------------


def _axes(axes: Any) -> tuple[int, ...] | None:
    return None if axes is None else _ints(axes)


@op()
def reduce_max(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    return np.max(_f(x), axis=_axes(axes), keepdims=bool(keep_dims))


@op()
def reduce_min(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    return np.min(_f(x), axis=_axes(axes), keepdims=bool(keep_dims))


@op()
def reduce_sum(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    x = _f(x)
    return np.sum(x, axis=_axes(axes), keepdims=bool(keep_dims), dtype=x.dtype)


@op()
def reduce_mean(x: Any, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
    if _is_int(x):
        raise Unsupported("reduce_mean on int32 (the spec does not say how the mean is rounded)")
    return np.mean(_f(x), axis=_axes(axes), keepdims=bool(keep_dims), dtype=np.float32)


# --- shapes and slicing ------------------------------------------------------------------------


@op()
def shape(x: Any) -> np.ndarray:
    return np.asarray(np.shape(x), dtype=np.int32)


@op()
def reshape(x: Any, shape: Any) -> np.ndarray:
    x = np.asarray(x)
    target = list(_ints(shape))
    if 0 in target:  # 0 copies that dimension of x (only when the ranks match)
        if len(target) != x.ndim:
            raise Unsupported(f"reshape with 0 in shape {target} for rank {x.ndim}")
        target = [x.shape[i] if s == 0 else s for i, s in enumerate(target)]
    return x.reshape(target)


@op()
def squeeze(x: Any, axes: Any = None) -> np.ndarray:
    x = np.asarray(x)
    if axes is None:
        return np.squeeze(x)
    keep = tuple(a % x.ndim for a in _ints(axes) if x.shape[a] == 1)  # PyTorch: ignore non-1 dims
    return np.squeeze(x, axis=keep)


@op()
def expand_dims(x: Any, axes: Any) -> np.ndarray:
    x = np.asarray(x)
    out_rank = x.ndim + len(_ints(axes))
    return np.expand_dims(x, tuple(sorted(a % out_rank for a in _ints(axes))))


@op()
def transpose(x: Any, perm: Any) -> np.ndarray:
    return np.transpose(x, _ints(perm))


@op()
def concat(values: Any, axis: Any, interleave: Any = False) -> np.ndarray:
    values = [np.asarray(v) for v in values]
    axis = int(axis) % values[0].ndim
    if not bool(interleave):
        return np.concatenate(values, axis=axis)
    stacked = np.stack(values, axis=axis + 1)  # [.., d, k, ..] -> d0 of each input, then d1 ...
    shape = list(values[0].shape)
    shape[axis] *= len(values)
    return stacked.reshape(shape)


@op()
def stack(values: Any, axis: Any) -> np.ndarray:
    return np.stack([np.asarray(v) for v in values], axis=int(axis))


@op()
def pad(x: Any, pad: Any, mode: Any = "constant", constant_val: Any = 0.0) -> np.ndarray:
    """`pad` lists (before, after) for the last len(pad)/2 dims; `replicate` is numpy's `edge`.
    (TF lowers a dilated 'same' Conv1D to pad + space-to-batch reshapes + conv.)"""
    x = np.asarray(x)
    p = _ints(pad)
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


@op()
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
    begin, end = list(_ints(begin)), list(_ints(end))
    stride = list(_ints(stride)) if stride is not None else [1] * rank
    bm = [bool(b) for b in np.asarray(begin_mask).reshape(-1)] if begin_mask is not None else [False] * rank
    em = [bool(b) for b in np.asarray(end_mask).reshape(-1)] if end_mask is not None else [False] * rank
    sm = [bool(b) for b in np.asarray(squeeze_mask).reshape(-1)] if squeeze_mask is not None else [False] * rank
    index: list[Any] = []
    for i in range(rank):
        if sm[i]:
            index.append(0 if bm[i] else begin[i])  # a pure index at begin; end ignored
            continue
        index.append(slice(None if bm[i] else begin[i], None if em[i] else end[i], stride[i]))
    return np.asarray(x[tuple(index)])


@op()
def slice_by_size(x: Any, begin: Any, size: Any) -> np.ndarray:
    x = np.asarray(x)
    index = []
    for i, (b, s) in enumerate(zip(_ints(begin), _ints(size), strict=True)):
        b = b + x.shape[i] if b < 0 else b
        index.append(slice(b, None) if s < 0 else slice(b, b + s))
    return x[tuple(index)]


# --- convolution and pooling -------------------------------------------------------------------


def _pads(
    pad_type: str, pad: Any, spatial: tuple[int, ...], kernel: tuple[int, ...], strides: tuple[int, ...]
) -> list[tuple[int, int]]:
    """(before, after) per spatial dim. `same` puts an odd extra pad after (BOTTOM_RIGHT_HEAVY,
    as the NN backend maps it and as TF's SAME), `same_lower` before; `kernel` is dilated."""
    n = len(spatial)
    if pad_type == "valid":
        return [(0, 0)] * n
    if pad_type == "custom":
        p = _ints(pad) if pad is not None else (0,) * (2 * n)
        return [(p[2 * i], p[2 * i + 1]) for i in range(n)]
    if pad_type in ("same", "same_lower"):
        out = []
        for i, k, s in zip(spatial, kernel, strides, strict=True):
            total = max(0, s * math.ceil(i / s) - i + k - s)
            small, big = total // 2, total - total // 2
            out.append((small, big) if pad_type == "same" else (big, small))
        return out
    raise Unsupported(f"pad_type {pad_type!r}")


def _windows(
    x: np.ndarray, kernel: tuple[int, ...], strides: tuple[int, ...], dilations: tuple[int, ...]
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
    """Cross-correlation (no kernel flip), weight [C_out, C_in/groups, *K], 1-3 spatial dims:
    every receptive field is a row of a strided window view, multiplied by the weights as one matmul."""
    x, w = _f(x).astype(np.float32, copy=False), _f(weight).astype(np.float32, copy=False)
    n_sp = x.ndim - 2
    kernel = tuple(w.shape[2:])
    strides_ = _ints(strides) if strides is not None else (1,) * n_sp
    dil = _ints(dilations) if dilations is not None else (1,) * n_sp
    span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dil, strict=True))
    pads = _pads(str(pad_type), pad, x.shape[2:], span, strides_)
    if any(p for pair in pads for p in pair):
        x = np.pad(x, [(0, 0), (0, 0), *pads])
    win = _windows(x, kernel, strides_, dil)  # [N, C, *out, *K]
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
        out = out + _f(bias)
    return np.moveaxis(out, -1, 1)


def _pool(
    x: Any, kernel_sizes: Any, strides: Any, pad_type: Any, pad: Any, ceil_mode: Any, fill: float
) -> tuple[np.ndarray, list[tuple[int, int]], tuple[int, ...], tuple[int, ...]]:
    if bool(ceil_mode):
        raise Unsupported("pooling with ceil_mode=True")
    x = _f(x).astype(np.float32, copy=False)
    kernel = _ints(kernel_sizes)
    strides_ = _ints(strides) if strides is not None else (1,) * len(kernel)
    pads = _pads(str(pad_type), pad, x.shape[2:], kernel, strides_)
    if any(p for pair in pads for p in pair):
        x = np.pad(x, [(0, 0), (0, 0), *pads], constant_values=fill)
    return x, pads, kernel, strides_


@op()
def max_pool(
    x: Any, kernel_sizes: Any, strides: Any = None, pad_type: Any = "valid", pad: Any = None, ceil_mode: Any = False
) -> np.ndarray:
    xp, _, kernel, strides_ = _pool(x, kernel_sizes, strides, pad_type, pad, ceil_mode, -np.inf)
    win = _windows(xp, kernel, strides_, (1,) * len(kernel))
    return win.max(axis=tuple(range(-len(kernel), 0)))


@op()
def avg_pool(
    x: Any,
    kernel_sizes: Any,
    strides: Any = None,
    pad_type: Any = "valid",
    pad: Any = None,
    exclude_padding_from_average: Any = False,
    ceil_mode: Any = False,
) -> np.ndarray:
    """Padding counts as zeros in the average unless exclude_padding_from_average."""
    xp, pads, kernel, strides_ = _pool(x, kernel_sizes, strides, pad_type, pad, ceil_mode, 0.0)
    axes = tuple(range(-len(kernel), 0))
    total = _windows(xp, kernel, strides_, (1,) * len(kernel)).sum(axis=axes, dtype=np.float32)
    if not bool(exclude_padding_from_average):
        return total / np.float32(math.prod(kernel))
    ones = np.pad(np.ones((1, 1, *np.shape(x)[2:]), np.float32), [(0, 0), (0, 0), *pads])
    count = _windows(ones, kernel, strides_, (1,) * len(kernel)).sum(axis=axes, dtype=np.float32)
    return total / count

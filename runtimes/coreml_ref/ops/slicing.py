"""Ops that cut tensors up or join them: slice_by_index, slice_by_size, concat, stack, pad."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, axis_of, bools, ints, op


@op(moves=True)
def concat(values: Any, axis: Any, interleave: Any = False) -> np.ndarray:
    """Rank-0 values, which TF's Pack of scalars becomes (the batch size and the unit count of an
    RNN's zero state), are joined too: concat's type inference counts a rank-0 value as length 1
    along the axis and returns rank 1, and skips the axis bound check."""
    values = [np.asarray(v) for v in values]
    if values and all(v.ndim == 0 for v in values):
        return np.stack(values)  # interleaving single values changes nothing
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
def pad(x: Any, pad: Any, mode: Any = "constant", *, constant_val: Any = 0.0) -> np.ndarray:
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


def _index(
    x: np.ndarray, begin: Any, end: Any, *, stride: Any, begin_mask: Any, end_mask: Any, squeeze_mask: Any
) -> tuple[Any, ...]:
    """numpy's x[begin:end:stride, ...]: a masked begin/end is None (numpy's default for the stride's
    sign, as coremltools' value inference), a squeezed dim the pure index begin (0 if masked)."""
    rank = x.ndim
    begin, end = list(ints(begin)), list(ints(end))
    stride = list(ints(stride)) if stride is not None else [1] * rank
    bm, em, sm = bools(begin_mask, rank), bools(end_mask, rank), bools(squeeze_mask, rank)
    if 0 in stride:
        raise Unsupported("slice with stride 0")
    index: list[Any] = []
    for i in range(rank):
        if sm[i]:
            b = 0 if bm[i] else begin[i]
            if not -x.shape[i] <= b < x.shape[i]:
                raise Unsupported(f"squeezed slice index {b} outside a dim of {x.shape[i]}")
            index.append(b)
            continue
        index.append(slice(None if bm[i] else begin[i], None if em[i] else end[i], stride[i]))
    return tuple(index)


@op(moves=True)
def slice_by_index(
    x: Any,
    begin: Any,
    end: Any,
    *,
    stride: Any = None,
    begin_mask: Any = None,
    end_mask: Any = None,
    squeeze_mask: Any = None,
) -> np.ndarray:
    x = np.asarray(x)
    return np.asarray(
        x[_index(x, begin, end, stride=stride, begin_mask=begin_mask, end_mask=end_mask, squeeze_mask=squeeze_mask)]
    )


@op(moves=True)
def slice_update(
    x: Any,
    update: Any,
    begin: Any,
    *,
    end: Any,
    stride: Any = None,
    begin_mask: Any = None,
    end_mask: Any = None,
    squeeze_mask: Any = None,
) -> np.ndarray:
    """x with x[slice] = update, the slice as slice_by_index's (iOS18 docstring)."""
    x = np.array(x, copy=True)
    index = _index(x, begin, end, stride=stride, begin_mask=begin_mask, end_mask=end_mask, squeeze_mask=squeeze_mask)
    if x[index].shape != np.shape(update):
        raise Unsupported(f"slice_update of {list(np.shape(update))} into a slice of {list(x[index].shape)}")
    x[index] = update
    return x


@op(moves=True)
def slice_by_size(x: Any, begin: Any, size: Any) -> np.ndarray:
    x = np.asarray(x)
    index = []
    for i, (b, s) in enumerate(zip(ints(begin), ints(size), strict=True)):
        b = b + x.shape[i] if b < 0 else b
        index.append(slice(b, None) if s < 0 else slice(b, b + s))
    return x[tuple(index)]


@op(moves=True)
def split(x: Any, axis: Any, num_splits: Any = None, *, split_sizes: Any = None) -> Any:
    """Even pieces from num_splits alone, else the given split_sizes (which must sum to the axis,
    and number num_splits when both are given). One piece is returned as a tensor, not a tuple."""
    x = np.asarray(x)
    a = axis_of(axis, x.ndim)
    if split_sizes is not None:
        sizes = list(ints(split_sizes))
        if num_splits is not None and int(num_splits) != len(sizes):
            raise Unsupported(f"split_sizes {sizes} with num_splits {num_splits}")
    elif num_splits is not None:
        n = int(num_splits)
        if n < 1 or x.shape[a] % n:
            raise Unsupported(f"split of {x.shape[a]} into {num_splits} equal parts")
        sizes = [x.shape[a] // n] * n
    else:
        raise Unsupported("split without num_splits or split_sizes")
    if sum(sizes) != x.shape[a] or min(sizes, default=0) < 0:
        raise Unsupported(f"split sizes {sizes} for a dim of {x.shape[a]}")
    pieces = tuple(np.split(x, np.cumsum(sizes)[:-1], axis=a))
    return pieces[0] if len(pieces) == 1 else pieces


@op(moves=True)
def tile(x: Any, reps: Any) -> np.ndarray:
    """Dimension i repeated reps[i] times; len(reps) == rank(x) >= 1 and every rep > 0 (tile's type
    inference raises otherwise). A masked RNN's unrolled graph tiles each step's [b, 1] mask."""
    x = np.asarray(x)
    r = ints(reps)
    if len(r) != x.ndim or x.ndim == 0 or min(r) <= 0:
        raise Unsupported(f"tile reps {list(r)} for a rank-{x.ndim} tensor")
    return np.tile(x, r)


@op(moves=True)
def reverse(x: Any, axes: Any = None) -> np.ndarray:
    x = np.asarray(x)
    return np.flip(x, axis=None if axes is None else tuple(axis_of(a, x.ndim) for a in ints(axes)))


@op(moves=True)
def reverse_sequence(x: Any, lengths: Any, seq_axis: Any = 0, *, batch_axis: Any = 0) -> np.ndarray:
    """For each batch entry b, the first lengths[b] elements along seq_axis reversed (tf.reverse_sequence)."""
    x = np.array(x, copy=True)
    s, b = axis_of(seq_axis, x.ndim), axis_of(batch_axis, x.ndim)
    lens = ints(lengths)
    if s == b or len(lens) != x.shape[b] or any(not 0 <= n <= x.shape[s] for n in lens):
        raise Unsupported(f"reverse_sequence lengths {list(lens)} for x {list(x.shape)}, axes {s}, {b}")
    for i, n in enumerate(lens):
        where: list[Any] = [slice(None)] * x.ndim
        where[b], where[s] = i, slice(0, n)
        x[tuple(where)] = np.flip(x[tuple(where)], axis=s - (b < s))
    return x


@op(moves=True)
def sliding_windows(x: Any, axis: Any, size: Any, *, stride: Any = 1) -> np.ndarray:
    """[*d0, (d_axis - size) // stride + 1, size, *dn]: window i holds elements i*stride ... + size - 1."""
    x = np.asarray(x)
    a, k, st = axis_of(axis, x.ndim), int(size), int(stride)
    if k < 1 or st < 1 or k > x.shape[a]:
        raise Unsupported(f"sliding_windows size {k}, stride {st} along a dim of {x.shape[a]}")
    count = (x.shape[a] - k) // st + 1
    idx = np.arange(count)[:, None] * st + np.arange(k)[None, :]
    return np.take(x, idx, axis=a)

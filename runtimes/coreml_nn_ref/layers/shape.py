"""Layers that read, make or rearrange shapes: no arithmetic, values copied exactly.

The TF frontend builds TensorList bookkeeping out of these (getShape, sliceStatic, concatND,
fillDynamic), so shapes are data here: getShape's result is a float32 vector, and a layer that
takes a shape as input (fillDynamic, reshapeDynamic) reads it back as integers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_nn_ref.layers.registry import Run, UnsupportedLayer, Weights, axis_of, f32, index, layer


@layer()
def getShape(p: Any, w: Weights) -> Run:
    return lambda xs: f32(xs[0].shape)


@layer()
def loadConstantND(p: Any, w: Weights) -> Run:
    value = w(p.data, tuple(int(d) for d in p.shape), "loadConstantND")
    return lambda xs: value


@layer()
def fillDynamic(p: Any, w: Weights) -> Run:
    """Input: a rank-1 shape; output: that shape filled with `value`."""
    return lambda xs: np.full(tuple(index(xs[0], "fillDynamic shape").reshape(-1)), p.value, dtype=np.float32)


@layer()
def sliceStatic(p: Any, w: Weights) -> Run:
    """SliceStaticLayerParams: per axis begin/end/stride; a set begin (end) mask takes the whole
    extent from the start (to the end) whatever the stride's sign, and a squeeze mask keeps only
    index `begin` and drops the axis, as in TF's strided_slice, which this layer carries."""
    begins, ends, strides = list(p.beginIds), list(p.endIds), list(p.strides)
    bmask, emask, squeeze = list(p.beginMasks), list(p.endMasks), list(p.squeezeMasks)

    def run(xs: list[np.ndarray]) -> np.ndarray:
        x = xs[0]
        if len(begins) != x.ndim:
            raise UnsupportedLayer(f"sliceStatic: {len(begins)} begin ids for a rank-{x.ndim} tensor")
        keys: list[Any] = []
        drop = []
        for a in range(x.ndim):
            if squeeze and squeeze[a]:
                keys.append(slice(begins[a], begins[a] + 1 if begins[a] != -1 else None, 1))
                drop.append(a)
                continue
            start = None if bmask and bmask[a] else begins[a]
            stop = None if emask and emask[a] else ends[a]
            keys.append(slice(start, stop, strides[a] if strides else 1))
        out = x[tuple(keys)]
        return np.squeeze(out, axis=tuple(drop)) if drop else out

    return run


@layer()
def expandDims(p: Any, w: Weights) -> Run:
    """ExpandDimsLayerParams: negative axes count in the output's rank."""

    def run(xs: list[np.ndarray]) -> np.ndarray:
        rank = xs[0].ndim + len(p.axes)
        return np.expand_dims(xs[0], tuple(axis_of(a, rank) for a in p.axes))

    return run


@layer()
def squeeze(p: Any, w: Weights) -> Run:
    def run(xs: list[np.ndarray]) -> np.ndarray:
        x = xs[0]
        if p.squeezeAll:
            return np.squeeze(x)
        axes = tuple(axis_of(a, x.ndim) for a in p.axes)
        if any(x.shape[a] != 1 for a in axes):
            raise UnsupportedLayer(f"squeeze of axes {list(p.axes)} in shape {list(x.shape)}")
        return np.squeeze(x, axis=axes)

    return run


@layer()
def transpose(p: Any, w: Weights) -> Run:
    return lambda xs: np.ascontiguousarray(np.transpose(xs[0], tuple(int(a) for a in p.axes)))


@layer()
def concatND(p: Any, w: Weights) -> Run:
    if p.interleave:
        raise UnsupportedLayer("concatND with interleave is not implemented")
    return lambda xs: np.concatenate(xs, axis=axis_of(int(p.axis), xs[0].ndim))


@layer()
def splitND(p: Any, w: Weights) -> Run:
    """SplitNDLayerParams: `splitSizes` when given, else `numSplits` equal parts."""

    def run(xs: list[np.ndarray]) -> list[np.ndarray]:
        x = xs[0]
        a = axis_of(int(p.axis), x.ndim)
        if len(p.splitSizes):
            cuts = np.cumsum([int(s) for s in p.splitSizes])[:-1]
            return list(np.split(x, cuts, axis=a))
        if x.shape[a] % p.numSplits:
            raise UnsupportedLayer(f"splitND: axis of {x.shape[a]} in {p.numSplits} equal parts")
        return list(np.split(x, int(p.numSplits), axis=a))

    return run


@layer()
def reshapeStatic(p: Any, w: Weights) -> Run:
    return lambda xs: xs[0].reshape(tuple(int(d) for d in p.targetShape))


@layer()
def reshapeDynamic(p: Any, w: Weights) -> Run:
    return lambda xs: xs[0].reshape(tuple(index(xs[1], "reshapeDynamic shape").reshape(-1)))


@layer()
def stack(p: Any, w: Weights) -> Run:
    return lambda xs: np.stack(xs, axis=axis_of(int(p.axis), xs[0].ndim + 1))


@layer()
def reverse(p: Any, w: Weights) -> Run:
    """ReverseLayerParams: flip every axis whose `reverseDim` is set (one flag per axis)."""

    def run(xs: list[np.ndarray]) -> np.ndarray:
        flags = list(p.reverseDim)
        if len(flags) != xs[0].ndim:
            raise UnsupportedLayer(f"reverse: {len(flags)} flags for a rank-{xs[0].ndim} tensor")
        return np.ascontiguousarray(np.flip(xs[0], axis=tuple(a for a, f in enumerate(flags) if f)))

    return run


@layer()
def slice_(p: Any, w: Weights) -> Run:
    """SliceLayerParams (the older slice): [startIndex, endIndex) by a positive stride on axis
    CHANNEL = -3, HEIGHT = -2 or WIDTH = -1, negative indices counting from the end. The
    converter writes it only with explicit bounds (backend/nn/op_mapping.py, slice_by_index)."""
    axis = {0: -3, 1: -2, 2: -1}[int(p.axis)]
    stride = int(p.stride) or 1

    def run(xs: list[np.ndarray]) -> np.ndarray:
        x = xs[0]
        keys: list[Any] = [slice(None)] * x.ndim
        keys[axis] = slice(int(p.startIndex), int(p.endIndex), stride)
        return x[tuple(keys)]

    return run


@layer()
def tile(p: Any, w: Weights) -> Run:
    """TileLayerParams: `reps` (or the second input) prepended with 1s to the input's rank."""

    def run(xs: list[np.ndarray]) -> np.ndarray:
        reps = tuple(index(xs[1], "tile reps").reshape(-1)) if len(xs) > 1 else tuple(int(r) for r in p.reps)
        if len(reps) > xs[0].ndim:
            raise UnsupportedLayer(f"tile: {len(reps)} reps for a rank-{xs[0].ndim} tensor")
        return np.tile(xs[0], (1,) * (xs[0].ndim - len(reps)) + reps)

    return run

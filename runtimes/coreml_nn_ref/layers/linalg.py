"""Layers with weight matrices: embeddingND, innerProduct, batchedMatmul.

Each multiplies in float32 (numpy's matmul; its summation order is not Apple's, which moves a
result by a few float32 ulps, far inside the float32 policy). Layouts per NeuralNetwork.proto:
embeddingND stores [embeddingSize, vocabSize]; innerProduct [C_out, C_in]; a one-input
batchedMatmul stores its [X1, X2] matrix "in column major order", i.e. as X2 rows of X1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_nn_ref.layers.registry import Run, UnsupportedLayer, Weights, f32, index, layer


def _bias(p: Any, w: Weights, n: int, *, what: str) -> np.ndarray | None:
    return w(p.bias, (n,), f"{what} bias") if p.hasBias else None


@layer()
def embeddingND(p: Any, w: Weights) -> Run:
    """Input [..., 1] of ids in [0, vocabSize): the proto requires the range and defines nothing
    outside it, so an id outside is refused (the harness never feeds one; a graph computing one is wrong)."""
    vocab, size = int(p.vocabSize), int(p.embeddingSize)
    table = np.ascontiguousarray(w(p.weights, (size, vocab), "embeddingND weights").T)
    bias = _bias(p, w, size, what="embeddingND")

    def run(xs: list[np.ndarray]) -> np.ndarray:
        x = xs[0]
        if x.ndim < 2 or x.shape[-1] != 1:
            raise UnsupportedLayer(f"embeddingND input of shape {list(x.shape)}; the last dimension must be 1")
        ids = index(x[..., 0], "embeddingND")
        if ids.size and (ids.min() < 0 or ids.max() >= vocab):
            raise UnsupportedLayer(f"embeddingND id outside [0, {vocab}), which the format leaves undefined")
        out = table[ids]
        return out + bias if bias is not None else out

    return run


@layer()
def innerProduct(p: Any, w: Weights) -> Run:
    """Rank 1-3 inputs multiply their last axis; ranks 4 and 5 (the legacy [.., C, H, W] layout)
    flatten C*H*W and return [.., C_out, 1, 1], as the proto's table says."""
    if p.int8DynamicQuantize:
        raise UnsupportedLayer("innerProduct with int8DynamicQuantize is not implemented")
    c_in, c_out = int(p.inputChannels), int(p.outputChannels)
    matrix = np.ascontiguousarray(w(p.weights, (c_out, c_in), "innerProduct weights").T)
    bias = _bias(p, w, c_out, what="innerProduct")

    def run(xs: list[np.ndarray]) -> np.ndarray:
        x = xs[0]
        tail: tuple[int, ...] = ()
        if x.ndim <= 3:
            flat = x
        elif x.ndim in (4, 5):
            lead = x.shape[: x.ndim - 3]
            flat, tail = x.reshape(lead + (-1,)), (1, 1)
        else:
            raise UnsupportedLayer(f"innerProduct of a rank-{x.ndim} tensor")
        if flat.shape[-1] != c_in:
            raise UnsupportedLayer(f"innerProduct input {list(x.shape)} for {c_in} input channels")
        out = flat @ matrix
        if bias is not None:
            out = out + bias
        return f32(out.reshape(out.shape + tail))

    return run


@layer()
def batchedMatmul(p: Any, w: Weights) -> Run:
    """Two inputs: matmul with numpy's broadcasting of the leading axes (rank-1 operands promoted
    as the proto says). One input: the stored [X1, X2] weight (and bias) on the last axis."""
    if p.int8DynamicQuantize:
        raise UnsupportedLayer("batchedMatmul with int8DynamicQuantize is not implemented")
    x1, x2 = int(p.weightMatrixFirstDimension), int(p.weightMatrixSecondDimension)
    matrix = bias = None
    if p.HasField("weights"):
        matrix = np.ascontiguousarray(w(p.weights, (x2, x1), "batchedMatmul weights").T)
        bias = _bias(p, w, x2, what="batchedMatmul")

    def run(xs: list[np.ndarray]) -> np.ndarray:
        if len(xs) == 2:
            a, b = xs
            a = np.swapaxes(a, -1, -2) if p.transposeA and a.ndim > 1 else a
            b = np.swapaxes(b, -1, -2) if p.transposeB and b.ndim > 1 else b
            return f32(np.matmul(a, b))
        if matrix is None:
            raise UnsupportedLayer("one-input batchedMatmul without weights")
        if xs[0].shape[-1] != x1:
            raise UnsupportedLayer(f"batchedMatmul input {list(xs[0].shape)} for a [{x1}, {x2}] weight")
        out = xs[0] @ matrix
        return f32(out + bias if bias is not None else out)

    return run

"""Ops that move elements between the channel, spatial and batch dims of an [n, C, H, W] tensor.

depth_to_space, space_to_depth, space_to_batch and batch_to_space have TensorFlow's meaning in
NCHW layout: coremltools' TF frontend maps tf.nn.depth_to_space (and the others) straight onto
them between NHWC <-> NCHW transposes (frontend/tensorflow/ops.py), so Core ML must order the
blocks as TF does. pixel_shuffle / pixel_unshuffle are "equivalent to PyTorch's" (docstrings).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, ints, op


def _nchw(x: Any, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4:
        raise Unsupported(f"{what} of a rank-{x.ndim} tensor (needs [n, C, H, W])")
    return x


def _divides(f: int, *dims: int, what: str) -> None:
    if f < 1 or any(d % f for d in dims):
        raise Unsupported(f"{what} factor {f} does not divide {list(dims)}")


@op(moves=True)
def depth_to_space(x: Any, block_size: Any) -> np.ndarray:
    """out[n, c, h*b + i, w*b + j] = x[n, (i*b + j) * C_out + c, h, w] (TF's DCR order)."""
    x = _nchw(x, "depth_to_space")
    b = int(block_size)
    n, c, h, w = x.shape
    _divides(b * b, c, what="depth_to_space")
    return x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2).reshape(n, c // (b * b), h * b, w * b)


@op(moves=True)
def space_to_depth(x: Any, block_size: Any) -> np.ndarray:
    """The inverse of depth_to_space: out[n, (i*b + j) * C + c, h, w] = x[n, c, h*b + i, w*b + j]."""
    x = _nchw(x, "space_to_depth")
    b = int(block_size)
    n, c, h, w = x.shape
    _divides(b, h, w, what="space_to_depth")
    return x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4).reshape(n, b * b * c, h // b, w // b)


@op(moves=True)
def pixel_shuffle(x: Any, upscale_factor: Any) -> np.ndarray:
    """out[n, c, h*f + i, w*f + j] = x[n, c*f*f + i*f + j, h, w] (PyTorch's order)."""
    x = _nchw(x, "pixel_shuffle")
    f = int(upscale_factor)
    n, c, h, w = x.shape
    _divides(f * f, c, what="pixel_shuffle")
    return x.reshape(n, c // (f * f), f, f, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c // (f * f), h * f, w * f)


@op(moves=True)
def pixel_unshuffle(x: Any, downscale_factor: Any) -> np.ndarray:
    x = _nchw(x, "pixel_unshuffle")
    f = int(downscale_factor)
    n, c, h, w = x.shape
    _divides(f, h, w, what="pixel_unshuffle")
    return x.reshape(n, c, h // f, f, w // f, f).transpose(0, 1, 3, 5, 2, 4).reshape(n, c * f * f, h // f, w // f)


def _block(block_shape: Any, pairs: Any, what: str) -> tuple[int, int, list[int]]:
    b = ints(block_shape)
    p = ints(pairs)
    if len(b) != 2 or len(p) != 4 or min(b) < 1 or min(p) < 0:
        raise Unsupported(f"{what} block_shape {list(b)}, paddings/crops {list(p)}")
    return b[0], b[1], list(p)


@op(moves=True)
def space_to_batch(x: Any, block_shape: Any, paddings: Any) -> np.ndarray:
    """TF's: pad H and W, then block offset (i, j) of every block goes to batch (i*b1 + j)*n + n0."""
    x = _nchw(x, "space_to_batch")
    b0, b1, p = _block(block_shape, paddings, "space_to_batch")
    x = np.pad(x, [(0, 0), (0, 0), (p[0], p[1]), (p[2], p[3])])
    n, c, h, w = x.shape
    _divides(b0, h, what="space_to_batch")
    _divides(b1, w, what="space_to_batch")
    y = x.reshape(n, c, h // b0, b0, w // b1, b1).transpose(3, 5, 0, 1, 2, 4)
    return y.reshape(b0 * b1 * n, c, h // b0, w // b1)


@op(moves=True)
def batch_to_space(x: Any, block_shape: Any, crops: Any) -> np.ndarray:
    """The inverse of space_to_batch, then crop H and W."""
    x = _nchw(x, "batch_to_space")
    b0, b1, p = _block(block_shape, crops, "batch_to_space")
    nb, c, h, w = x.shape
    _divides(b0 * b1, nb, what="batch_to_space")
    n = nb // (b0 * b1)
    y = x.reshape(b0, b1, n, c, h, w).transpose(2, 3, 4, 0, 5, 1).reshape(n, c, h * b0, w * b1)
    if p[0] + p[1] > h * b0 or p[2] + p[3] > w * b1:
        raise Unsupported(f"batch_to_space crops {p} larger than the output")
    return y[:, :, p[0] : h * b0 - p[1], p[2] : w * b1 - p[3]]

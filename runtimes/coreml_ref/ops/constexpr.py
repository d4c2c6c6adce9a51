"""constexpr_*: weights stored compressed in the program (quantized, palettized, sparse), expanded
exactly as their docstrings (iOS16 constexpr_ops, iOS18 compression) define.

iOS16 packs LUT indices and sparse masks into bytes "starting with the least significant bit";
iOS18 stores them as sub-byte tensors (uint1..uint6) that coremltools' loader already unpacks
into uint8 arrays. Dequantization computes in float32 (the integers and their differences are
exact there) and the evaluator rounds the product once to the declared dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, axis_of, ints, op, widen


def _along(v: Any, data: np.ndarray, axis: Any) -> np.ndarray:
    """A scalar, or a vector of data.shape[axis] values shaped to broadcast along `axis`."""
    v = np.asarray(v)
    if v.ndim == 0 or v.size == 1:
        return v.reshape(())
    a = axis_of(axis, data.ndim)
    if v.size != data.shape[a]:
        raise Unsupported(f"{v.size} quantization parameters for axis {a} of {list(data.shape)}")
    return v.reshape([-1 if i == a else 1 for i in range(data.ndim)])


@op()
def constexpr_affine_dequantize(quantized_data: Any, zero_point: Any, scale: Any, *, axis: Any) -> np.ndarray:
    """scale * (quantized_data - zero_point), scale and zero_point per `axis` when vectors."""
    q = np.asarray(quantized_data)
    zp = _along(zero_point, q, axis).astype(np.float32)
    return (q.astype(np.float32) - zp) * _along(widen(scale), q, axis).astype(np.float32)


@op()
def constexpr_cast(source_val: Any, output_dtype: Any) -> np.ndarray:
    if str(output_dtype) != "fp32":
        raise Unsupported(f"constexpr_cast to {output_dtype!r}")
    return np.asarray(source_val).astype(np.float32)  # fp16 -> fp32 is exact


def _bits(packed: Any, n: int, nbits: int) -> np.ndarray:
    """n unsigned nbits-wide fields packed LSB first (iOS16 docstrings), as int64."""
    bits = np.unpackbits(np.asarray(packed, np.uint8).reshape(-1), bitorder="little")
    if bits.size < n * nbits:
        raise Unsupported(f"{bits.size} packed bits for {n} fields of {nbits} bits")
    return bits[: n * nbits].reshape(n, nbits).astype(np.int64) @ (1 << np.arange(nbits, dtype=np.int64))


def _lut_iOS18(indices: Any, lut: Any, vector_axis: Any) -> np.ndarray:
    """lut [*G, NUM_PALETTES, VECTOR_SIZE]: element p reads palette p // (indices.shape / G); a
    vector entry fills VECTOR_SIZE consecutive positions along vector_axis (iOS18 docstring)."""
    idx = np.asarray(indices).astype(np.int64)
    lut = np.asarray(lut)
    k = idx.ndim
    if lut.ndim != k + 2 or any(n % g for n, g in zip(idx.shape, lut.shape[:k], strict=True)):
        raise Unsupported(f"lut {list(lut.shape)} for indices {list(idx.shape)}")
    if np.any(idx >= lut.shape[k]):
        raise Unsupported(f"lut index outside {lut.shape[k]} palettes")
    groups = tuple(
        (np.arange(n) // (n // g)).reshape([-1 if j == i else 1 for j in range(k)])
        for i, (n, g) in enumerate(zip(idx.shape, lut.shape[:k], strict=True))
    )
    vals = lut[(*groups, idx)]  # [*indices.shape, VECTOR_SIZE]
    vs = lut.shape[-1]
    if vs == 1:
        return vals[..., 0]
    if vector_axis is None:
        raise Unsupported("vector palettization without vector_axis")
    va = axis_of(vector_axis, k)
    shape = list(idx.shape)
    shape[va] *= vs
    return np.moveaxis(vals, -1, va + 1).reshape(shape)


@op(opset=True)
def constexpr_lut_to_dense(
    indices: Any, lut: Any, shape: Any = None, *, vector_axis: Any = None, opset: int = 16
) -> np.ndarray:
    if opset >= 18:
        return _lut_iOS18(indices, lut, vector_axis)
    lut = np.asarray(lut)
    nbits = int(round(math.log2(lut.size)))
    if 1 << nbits != lut.size:
        raise Unsupported(f"lut of {lut.size} entries (not a power of two)")
    out_shape = ints(shape)
    return lut[_bits(indices, math.prod(out_shape), nbits)].reshape(out_shape)


def _scatter_nonzero(nonzero_data: Any, mask: np.ndarray) -> np.ndarray:
    data = np.asarray(nonzero_data).reshape(-1)
    if int(np.count_nonzero(mask)) != data.size:
        raise Unsupported(f"mask with {int(np.count_nonzero(mask))} set bits for {data.size} values")
    out = np.zeros(mask.shape, data.dtype)
    out[mask != 0] = data  # row-major order of the set bits
    return out


@op(opset=True)
def constexpr_sparse_to_dense(nonzero_data: Any, mask: Any, shape: Any = None, *, opset: int = 16) -> np.ndarray:
    if opset >= 18:
        return _scatter_nonzero(nonzero_data, np.asarray(mask))
    out_shape = ints(shape)
    return _scatter_nonzero(nonzero_data, _bits(mask, math.prod(out_shape), 1).reshape(out_shape))


def _shift_scale(data: np.ndarray, scale: Any, offset: Any) -> np.ndarray:
    """scale * (data - offset), scale and offset repeated over blocks of data.shape / scale.shape."""
    s = widen(scale).astype(np.float32)
    if s.ndim != data.ndim or any(n % m for n, m in zip(data.shape, s.shape, strict=True)):
        raise Unsupported(f"scale {list(s.shape)} for data {list(data.shape)}")
    blocks = [n // m for n, m in zip(data.shape, s.shape, strict=True)]

    def spread(v: np.ndarray) -> np.ndarray:
        for a, b in enumerate(blocks):
            v = np.repeat(v, b, axis=a)
        return v

    d = data.astype(np.float32)
    if offset is not None:
        d = d - spread(widen(offset).astype(np.float32))
    return spread(s) * d


@op()
def constexpr_blockwise_shift_scale(data: Any, scale: Any, offset: Any = None) -> np.ndarray:
    return _shift_scale(np.asarray(data), scale, offset)


@op()
def constexpr_lut_to_sparse(
    indices_mask: Any, indices_nonzero_data: Any, lut: Any, *, vector_axis: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """(mask, values): the mask repeated VECTOR_SIZE times along vector_axis, and the palettized
    values at its set bits in row-major order."""
    mask = np.asarray(indices_mask)
    dense = _lut_iOS18(_scatter_nonzero(indices_nonzero_data, mask), lut, vector_axis)
    vs = np.asarray(lut).shape[-1]
    out_mask = np.repeat(mask, vs, axis=axis_of(vector_axis, mask.ndim)) if vs > 1 else mask
    return out_mask, dense[out_mask != 0].reshape(-1)


@op()
def constexpr_sparse_blockwise_shift_scale(
    data_mask: Any, nonzero_data: Any, scale: Any, *, offset: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    mask = np.asarray(data_mask)
    dense = _shift_scale(_scatter_nonzero(nonzero_data, mask), scale, offset)
    return mask, dense[mask != 0].reshape(-1)

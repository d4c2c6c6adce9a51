"""coreml-ref's constexpr_* ops (compressed weights) against the examples in their docstrings."""

from __future__ import annotations

import numpy as np
import pytest

from runtimes.coreml_ref import ops
from runtimes.coreml_ref.evaluator import apply

pytestmark = pytest.mark.coreml

F16, F32 = np.float16, np.float32


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_array_equal(a, b)


def test_ios16_lut_indices_are_packed_lsb_first():
    """The docstring's n_bits = 2, shape (5,) example: byte 0 holds i3 i2 i1 i0 from MSB to LSB."""
    lut = np.array([10, 11, 12, 13], F32)
    packed = np.array([0b01_10_11_00, 0b11], np.uint8)  # i0=0 i1=3 i2=2 i3=1 | i4=3
    got = apply("constexpr_lut_to_dense", F32, opset=16, indices=packed, lut=lut, shape=np.array([5], np.uint32))
    same(got, [10, 13, 12, 11, 13])


def test_ios16_sparse_mask_and_affine_dequantize():
    mask = np.array([0b01100], np.uint8)  # the docstring's: i2 and i3 set
    got = apply("constexpr_sparse_to_dense", F32, opset=16, nonzero_data=np.array([7, 8], F32), mask=mask,
                shape=np.array([5], np.uint32))  # fmt: skip
    same(got, [0, 0, 7, 8, 0])
    q = np.array([[0, 255], [128, 3]], np.uint8)
    got = apply("constexpr_affine_dequantize", F32, quantized_data=q, zero_point=np.uint8(128),
                scale=np.array([0.5, 2.0], F32), axis=np.int32(1))  # fmt: skip
    same(got, (q.astype(np.float64) - 128) * [0.5, 2.0])
    same(apply("constexpr_cast", F32, source_val=np.array([1.5, 65504], F16), output_dtype="fp32"), [1.5, 65504])


def test_ios18_lut_per_group_scalar_case_1():
    idx = np.array([2, 3, 3, 0, 1, 0, 3, 0, 2, 1, 0, 3], np.uint8).reshape(6, 2)
    lut = np.array([1, 5, 9, 13, 2, 10, 18, 26], F16).reshape(2, 1, 4, 1)
    got = apply("constexpr_lut_to_dense", F16, opset=18, indices=idx, lut=lut)
    same(got, np.array([[9, 13], [13, 1], [5, 1], [26, 2], [18, 10], [2, 26]], F16))


@pytest.mark.parametrize("axis", [1, 2])
def test_ios18_lut_vector_case_2(axis):
    idx = np.array([[[0, 0], [1, 0]], [[1, 1], [0, 0]]], np.uint8)
    a, b = [1, 2, 3], [4, 5, 6]
    lut = np.array([a, b], F32).reshape(1, 1, 1, 2, 3)
    got = apply("constexpr_lut_to_dense", F32, opset=18, indices=idx, lut=lut, vector_axis=np.int32(axis))
    vec = {0: np.array(a), 1: np.array(b)}
    want = np.concatenate([np.stack([vec[i] for i in row], -1) for row in idx.reshape(-1, 2)], 0).reshape(2, 6, 2)
    if axis == 2:  # the docstring's Case 2.2: vectors along the last axis
        want = np.stack([np.concatenate([vec[i] for i in row]) for row in idx.reshape(-1, 2)]).reshape(2, 2, 6)
    same(got, want)


def test_ios18_sparse_ops_docstring_examples():
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [1, 1, 0, 0]], np.uint8)
    data = np.array([10, 11, 3, 4, 5, 6, 7, 8, 9], F32)
    dense = apply("constexpr_sparse_to_dense", F32, opset=18, nonzero_data=data, mask=mask)
    same(dense[mask != 0], data)
    out_mask, values = ops.OPS["constexpr_sparse_blockwise_shift_scale"](
        data_mask=mask, nonzero_data=data, scale=np.array([[0.1, 0.2, 0.3, 0.4]], F32),
        offset=np.array([[1, 2, 3, 4]], F32),
    )  # fmt: skip
    same(out_mask, mask)
    np.testing.assert_allclose(values, [0.9, 1.8, 0.2, 0.4, 0.6, 0.9, 1.2, 0.7, 1.4], rtol=1e-6)
    imask = np.array([[1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 1], [0, 1, 1, 0, 1, 0], [0, 0, 0, 1, 0, 0]], np.uint8)
    inz = np.array([0, 1, 1, 0, 1, 1, 0, 0, 1], np.uint8)
    m, v = ops.OPS["constexpr_lut_to_sparse"](indices_mask=imask, indices_nonzero_data=inz,
                                              lut=np.array([2, 3], F16).reshape(1, 1, 2, 1))  # fmt: skip
    same(m, imask)
    same(v, np.array([2, 3, 3, 2, 3, 3, 2, 2, 3], F16))
    m, v = ops.OPS["constexpr_lut_to_sparse"](indices_mask=imask, indices_nonzero_data=inz,
                                              lut=np.array([[2, 2], [3, 3]], F16).reshape(1, 1, 2, 2),
                                              vector_axis=np.int32(0))  # fmt: skip
    same(m, np.repeat(imask, 2, axis=0))
    same(
        v, np.array([2, 3, 2, 3, 3, 2, 3, 3, 2, 3, 3, 2, 2, 3, 2, 2, 3, 3], F16)
    )  # the docstring's dense layout, row by row


def test_blockwise_shift_scale_repeats_scales_over_blocks():
    data = np.arange(8, dtype=np.int8).reshape(2, 4)
    scale = np.array([[1.0, 10.0]], F32)  # blocks of 2 columns
    offset = np.array([[1, 2]], np.int8)
    got = apply("constexpr_blockwise_shift_scale", F32, data=data, scale=scale, offset=offset)
    same(got, np.array([[-1, 0, 0, 10], [3, 4, 40, 50]], F32))
    with pytest.raises(ops.Unsupported, match="scale"):
        apply("constexpr_blockwise_shift_scale", F32, data=data, scale=np.ones((1, 3), F32))


def test_quantize_dequantize_and_their_tie_refusal():
    x = np.array([[-1.0, 0.26, 3.0], [100.0, -100.0, 0.74]], F32)
    got = apply("quantize", np.int8, input=x, scale=np.array([0.5, 0.25], F32), zero_point=np.array([1, -2], np.int8),
                output_dtype="int8", axis=np.int32(0))  # fmt: skip
    want = np.clip(np.rint(x / np.array([[0.5], [0.25]])) + np.array([[1], [-2]]), -128, 127).astype(np.int8)
    same(got, want)
    with pytest.raises(ops.Unsupported, match="halfway"):
        apply("quantize", np.uint8, input=np.array([0.5], F32), scale=F32(1), output_dtype="uint8")
    q = np.array([0, 128, 255], np.uint8)
    same(apply("dequantize", F32, input=q, scale=F32(0.5), zero_point=np.uint8(128)), [-64, 0, 63.5])

"""coreml-ref's MIL ops, one at a time, against numpy references computed in float64.

Each op runs as the evaluator runs it (`evaluator.apply`: compute, then round to the declared
dtype), so the float16 cases check the rounding too: overflow to inf, subnormals, ties to even.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from runtimes.coreml_ref import ops
from runtimes.coreml_ref.evaluator import apply

pytestmark = pytest.mark.coreml

F16, F32 = np.float16, np.float32
RNG = np.random.default_rng(1234)
TINY = 2.0**-24  # smallest float16 subnormal


def fp16_values(n: int) -> np.ndarray:
    """Random finite float16 values over the whole range: normals, subnormals, zeros."""
    bits = RNG.integers(0, 1 << 16, size=n, dtype=np.uint16).view(F16)
    return bits[np.isfinite(bits)]


def exact_then_round(fn, *xs, dtype=F16):
    """The correctly rounded answer: float64 (exact for these ops on float16 values), rounded once."""
    with np.errstate(all="ignore"):
        return fn(*(np.asarray(x, np.float64) for x in xs)).astype(dtype)


def same(a, b):
    """Equal including NaN positions and the sign of infinities."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


# --- elementwise binary ------------------------------------------------------------------


@pytest.mark.parametrize(
    "op_type, fn",
    [("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("real_div", np.divide),
     ("maximum", np.maximum), ("minimum", np.minimum)],
)  # fmt: skip
def test_fp16_binary_ops_are_correctly_rounded(op_type, fn):
    """fp32 compute + one rounding equals exact arithmetic rounded once, over random float16
    bit patterns (subnormals, huge values, overflow to inf, division by zero included)."""
    x, y = fp16_values(40000), fp16_values(40000)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    same(apply(op_type, F16, x=x, y=y), exact_then_round(fn, x, y))


@pytest.mark.parametrize("op_type, fn", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply)])
def test_binary_ops_broadcast_like_numpy(op_type, fn):
    x = RNG.standard_normal((2, 1, 4)).astype(F32)
    y = RNG.standard_normal((3, 1)).astype(F32)
    out = apply(op_type, F32, x=x, y=y)
    assert out.shape == (2, 3, 4)
    np.testing.assert_allclose(out, fn(x.astype(np.float64), y), rtol=1e-6)


def test_fp16_overflow_and_subnormals():
    assert apply("add", F16, x=F16(65504), y=F16(16)) == np.inf  # 65520 is a tie: rounds to even (inf)
    assert apply("add", F16, x=F16(65504), y=F16(8)) == F16(65504)
    assert apply("mul", F16, x=F16(300), y=F16(-300)) == -np.inf
    assert apply("real_div", F16, x=F16(1), y=F16(TINY)) == np.inf
    assert apply("real_div", F16, x=F16(-1), y=F16(0)) == -np.inf
    assert apply("mul", F16, x=F16(2.0**-14), y=F16(0.5)) == F16(2.0**-15)  # normal -> subnormal, exact
    assert apply("mul", F16, x=F16(TINY), y=F16(0.5)) == 0  # half the smallest subnormal: tie to even (0)
    assert apply("mul", F16, x=F16(3 * TINY), y=F16(0.5)) == F16(2 * TINY)  # 1.5 ulp: tie to even (2)
    assert apply("exp", F16, x=F16(12)) == np.inf  # 162755 > 65504
    assert apply("exp", F16, x=F16(-17)) == F16(TINY)  # 4.1e-8 rounds up to the smallest subnormal
    assert apply("sub", F16, x=F16(2.0**-14), y=F16(2.0**-14 - TINY)) == F16(TINY)


def test_integer_arithmetic_wraps_and_int_division_is_refused():
    big = np.array([2**31 - 1], np.int32)
    same(apply("add", np.int32, x=big, y=np.int32(1)), np.array([-(2**31)], np.int32))
    same(apply("add", np.int32, x=np.array([-3, 5], np.int32), y=np.int32(8930)), np.array([8927, 8935], np.int32))
    with pytest.raises(ops.Unsupported, match="real_div on int32"):
        apply("real_div", np.int32, x=np.array([7], np.int32), y=np.array([2], np.int32))


@pytest.mark.parametrize(
    "op_type, fn",
    [("less", np.less), ("less_equal", np.less_equal), ("greater", np.greater),
     ("greater_equal", np.greater_equal), ("equal", np.equal), ("not_equal", np.not_equal)],
)  # fmt: skip
def test_comparisons(op_type, fn):
    x = np.array([[-1, 0, 1], [2**31 - 1, -(2**31), 7]], np.int32)
    same(apply(op_type, np.bool_, x=x, y=np.int32(0)), fn(x, 0))
    f = np.array([-np.inf, -0.0, 0.0, np.nan, TINY, 65504], F16)
    same(apply(op_type, np.bool_, x=f, y=F16(0)), fn(f, F16(0)))


def test_logical_ops():
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    same(apply("logical_and", np.bool_, x=a, y=b), a & b)
    same(apply("logical_or", np.bool_, x=a, y=b), a | b)
    same(apply("logical_not", np.bool_, x=a), ~a)


# --- activations ---------------------------------------------------------------------------


def _sigmoid64(x):
    return 1 / (1 + np.exp(-x))


def _gelu64(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _gelu_tanh64(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


EDGES = np.array([-1e4, -100, -20, -1, -1e-3, -TINY, 0, TINY, 1e-3, 0.5, 1, 3, 20, 100, 6e4], np.float64)


@pytest.mark.parametrize(
    "op_type, ref, kw",
    [("relu", lambda x: np.maximum(x, 0), {}), ("sigmoid", _sigmoid64, {}), ("tanh", np.tanh, {}),
     ("gelu", _gelu64, {"mode": "EXACT"}), ("gelu", _gelu_tanh64, {"mode": "TANH_APPROXIMATION"}),
     ("gelu", lambda x: x * _sigmoid64(1.702 * x), {"mode": "SIGMOID_APPROXIMATION"}),
     ("silu", lambda x: x * _sigmoid64(x), {}), ("exp", np.exp, {}), ("sqrt", np.sqrt, {}), ("abs", np.abs, {}),
     ("erf", np.vectorize(math.erf), {})],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [F32, F16])
def test_unary_ops_against_float64(op_type, ref, kw, dtype):
    x = np.concatenate([EDGES, RNG.standard_normal(500) * 4]).astype(dtype)
    if op_type == "sqrt":
        x = np.abs(x)
    got = apply(op_type, dtype, x=x, **kw)
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64))
    assert got.dtype == dtype and not np.isnan(got).any()
    # two units in the last place of the output type, plus an absolute floor for the float32
    # computation itself: 1 + tanh(u) cancels near u = -4 (error ~ eps32 ~ 1.2e-7, which is
    # several float16 subnormal steps of 6e-8)
    tol = np.abs(want) * np.finfo(dtype).eps * 2 + 4e-7
    finite = np.isfinite(want) & (np.abs(want) < np.finfo(dtype).max)
    assert np.all(np.abs(got[finite].astype(np.float64) - want[finite]) <= tol[finite])
    with np.errstate(over="ignore"):
        assert np.all(got[~finite] == want[~finite].astype(dtype))


def test_sigmoid_saturates_without_nan_in_both_precisions():
    for dtype in (F32, F16):
        out = apply("sigmoid", dtype, x=np.array([-1e4, -200, 200, 1e4], dtype))
        same(out, np.array([0, 0, 1, 1], dtype))


def test_softmax_is_stable_and_sums_to_one():
    x = np.array([[1000, 1000, -1000], [0, 1, 2], [-5, -5, -5]], F32)
    out = apply("softmax", F32, x=x, axis=np.int32(-1))
    np.testing.assert_allclose(
        out, np.array([[0.5, 0.5, 0], [0.09003057, 0.24472847, 0.66524096], [1 / 3] * 3]), rtol=1e-6
    )
    col = apply("softmax", F16, x=x.astype(F16), axis=np.int32(0))
    np.testing.assert_allclose(col.astype(np.float64).sum(axis=0), 1, atol=2e-3)
    assert col.dtype == F16


def test_clip_and_leaky_relu():
    x = np.array([-3, -1, 0, 2, 9], F32)
    same(apply("clip", F32, x=x, alpha=F32(-1), beta=F32(2)), np.array([-1, -1, 0, 2, 2], F32))
    same(apply("leaky_relu", F32, x=x, alpha=F32(0.5)), np.array([-1.5, -0.5, 0, 2, 9], F32))


# --- casts, select, gather -------------------------------------------------------------------


def test_cast_float_to_int_truncates_toward_zero():
    x = np.array([-2.9, -1.5, -0.5, 0, 0.5, 1.5, 2.9, 65504], F32)
    same(apply("cast", np.int32, x=x, dtype="int32"), np.array([-2, -1, 0, 0, 0, 1, 2, 65504], np.int32))
    for bad in (np.nan, np.inf, 3e9):
        with pytest.raises(ops.Unsupported, match="cast of NaN/inf or out-of-range"):
            apply("cast", np.int32, x=np.array([bad], F32), dtype="int32")


def test_cast_to_fp16_rounds_to_nearest_even_and_overflows():
    x = np.array([65519, 65520, -65520, 2049, 2051, 1e-8, 4e-8, 2.0**-25 * 3], F32)
    want = np.array([65504, np.inf, -np.inf, 2048, 2052, 0, TINY, 2 * TINY], F16)
    same(apply("cast", F16, x=x, dtype="fp16"), want)
    same(apply("cast", F16, x=np.array([2049, 70000], np.int32), dtype="fp16"), np.array([2048, np.inf], F16))
    same(apply("cast", F32, x=np.array([TINY, 65504], F16), dtype="fp32"), np.array([TINY, 65504], F32))


def test_cast_bool_and_narrow_ints():
    same(apply("cast", np.bool_, x=np.array([0, -0.0, 2, np.nan], F32), dtype="bool"), np.array([0, 0, 1, 1], bool))
    same(apply("cast", F32, x=np.array([True, False]), dtype="fp32"), np.array([1, 0], F32))
    same(apply("cast", np.uint8, x=np.array([0, 255], np.int32), dtype="uint8"), np.array([0, 255], np.uint8))
    with pytest.raises(ops.Unsupported, match="out-of-range integer"):
        apply("cast", np.uint8, x=np.array([256], np.int32), dtype="uint8")
    with pytest.raises(ops.Unsupported, match="dtype 'fp64'"):
        apply("cast", F32, x=np.zeros(1, F32), dtype="fp64")


def test_select_broadcasts():
    cond = np.array([[True], [False]])
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    same(apply("select", np.int32, cond=cond, a=a, b=np.int32(-1)), np.array([[0, 1, 2], [-1, -1, -1]], np.int32))


def test_gather_axes_and_negative_wrap_ios15():
    x = np.arange(24, dtype=F32).reshape(4, 6)
    idx = np.array([[0, -1], [3, -4]], np.int32)
    same(apply("gather", F32, x=x, indices=idx, axis=np.int32(0)), x[np.array([[0, 3], [3, 0]])])
    same(apply("gather", F32, x=x, indices=np.array([5, -6], np.int32), axis=np.int32(-1)), x[:, [5, 0]])
    same(apply("gather", F32, x=x, indices=np.int32(2), axis=np.int32(1)), x[:, 2])


@pytest.mark.parametrize("opset, index", [(15, 4), (15, -5), (16, 9), (17, -1), (18, 4)])
def test_gather_out_of_range_is_refused(opset, index):
    x = np.zeros((4, 2), F16)
    with pytest.raises(ops.Unsupported, match=f"gather index {index} outside"):
        apply("gather", F16, opset=opset, x=x, indices=np.array([0, index], np.int32), validate_indices=False)


def test_gather_embedding_lookup_like_the_reference_model():
    """less + add + select + gather: the converter's negative-index wrap before the lookup."""
    table = RNG.standard_normal((10, 3)).astype(F16)
    ids = np.array([[0, 9, 3]], np.int32)
    neg = apply("less", np.bool_, x=ids, y=np.int32(0))
    wrapped = apply("select", np.int32, cond=neg, a=apply("add", np.int32, x=ids, y=np.int32(10)), b=ids)
    same(apply("gather", F16, x=table, indices=wrapped, axis=np.int32(0)), table[ids])


# --- linear algebra ----------------------------------------------------------------------------


def test_linear_matches_float64_and_rounds_once():
    x = RNG.standard_normal((5, 64)).astype(F16)
    w = RNG.standard_normal((3, 64)).astype(F16)
    b = RNG.standard_normal(3).astype(F16)
    want = x.astype(np.float64) @ w.astype(np.float64).T + b
    got = apply("linear", F16, x=x, weight=w, bias=b)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=2e-3, atol=1e-2)
    got32 = apply("linear", F32, x=x.astype(F32), weight=w.astype(F32))
    np.testing.assert_allclose(got32, want - b, rtol=1e-5, atol=1e-5)
    # a 1-D input and fp16 overflow of the result
    same(apply("linear", F16, x=np.full(4, 200, F16), weight=np.full((1, 4), 100, F16)), np.array([np.inf], F16))


@pytest.mark.parametrize(
    "xs, ys, tx, ty",
    [((3,), (3,), False, False), ((4,), (2, 4, 3), False, False), ((2, 3, 4), (4,), False, False),
     ((2, 1, 3, 4), (5, 4, 2), False, False), ((4, 3), (2, 4), True, True), ((3,), (3, 2), True, False)],
)  # fmt: skip
def test_matmul_shapes_and_transposes(xs, ys, tx, ty):
    x, y = RNG.standard_normal(xs).astype(F32), RNG.standard_normal(ys).astype(F32)
    xr = np.swapaxes(x, -1, -2) if tx and x.ndim >= 2 else x
    yr = np.swapaxes(y, -1, -2) if ty and y.ndim >= 2 else y
    want = np.matmul(xr.astype(np.float64), yr)
    got = apply("matmul", F32, x=x, y=y, transpose_x=tx, transpose_y=ty)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# --- reductions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op_type, fn", [("reduce_max", np.max), ("reduce_min", np.min), ("reduce_sum", np.sum), ("reduce_mean", np.mean)]
)
@pytest.mark.parametrize("axes, keep", [(None, False), ([1], False), ([-1, 0], True), ([2], True)])
def test_reductions(op_type, fn, axes, keep):
    x = RNG.standard_normal((2, 3, 4)).astype(F32)
    kw = {} if axes is None else {"axes": np.array(axes, np.int32)}
    got = apply(op_type, F32, x=x, keep_dims=keep, **kw)
    want = fn(x.astype(np.float64), axis=None if axes is None else tuple(axes), keepdims=keep)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_fp16_reductions_accumulate_in_fp32_and_round_once():
    x = np.array([[60000, 60000, -60000, -59008]], F16)
    assert apply("reduce_sum", F16, x=x, axes=np.array([1], np.int32)) == F16(992)  # no inf on the way
    assert apply("reduce_mean", F16, x=np.full((1, 4), 60000, F16), axes=np.array([1], np.int32)) == F16(60000)
    assert apply("reduce_sum", F16, x=np.full((1, 3), 30000, F16)) == np.inf
    assert apply("reduce_max", F16, x=np.array([-np.inf, TINY, 0], F16)) == F16(TINY)
    with pytest.raises(ops.Unsupported, match="reduce_mean on int32"):
        apply("reduce_mean", np.int32, x=np.ones(3, np.int32))
    assert apply("reduce_sum", np.int32, x=np.array([2**31 - 1, 1], np.int32)) == -(2**31)


# --- shapes and slicing ------------------------------------------------------------------------


def test_reshape_with_minus_one_and_zero():
    x = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    assert apply("reshape", np.int32, x=x, shape=np.array([-1, 4], np.int32)).shape == (6, 4)
    assert apply("reshape", np.int32, x=x, shape=np.array([0, -1, 2], np.int32)).shape == (2, 6, 2)
    with pytest.raises(ops.Unsupported):
        apply("reshape", np.int32, x=x, shape=np.array([0, -1], np.int32))


def test_squeeze_ignores_non_unit_axes_like_pytorch():
    x = np.zeros((1, 3, 1, 2), F32)
    assert apply("squeeze", F32, x=x).shape == (3, 2)
    assert apply("squeeze", F32, x=x, axes=np.array([0, 1], np.int32)).shape == (3, 1, 2)
    assert apply("squeeze", F32, x=x, axes=np.array([-2], np.int32)).shape == (1, 3, 2)


def test_expand_dims_counts_negative_axes_on_the_output_rank():
    x = np.zeros((3, 4), F32)
    assert apply("expand_dims", F32, x=x, axes=np.array([0], np.int32)).shape == (1, 3, 4)
    assert apply("expand_dims", F32, x=x, axes=np.array([-1], np.int32)).shape == (3, 4, 1)
    assert apply("expand_dims", F32, x=x, axes=np.array([0, -1], np.int32)).shape == (1, 3, 4, 1)
    assert apply("expand_dims", F32, x=x, axes=np.array([1, 2], np.int32)).shape == (3, 1, 1, 4)


def test_transpose_stack_shape():
    x = np.arange(24, dtype=F32).reshape(2, 3, 4)
    same(apply("transpose", F32, x=x, perm=np.array([2, 0, 1], np.int32)), x.transpose(2, 0, 1))
    same(apply("stack", F32, values=[x, x + 1], axis=np.int32(1)), np.stack([x, x + 1], axis=1))
    same(apply("shape", np.int32, x=x), np.array([2, 3, 4], np.int32))


def test_concat_plain_negative_axis_and_interleave():
    a = np.array([[1, 2], [3, 4], [5, 6]], np.int32)
    b = np.array([[7, 8], [9, 10], [11, 12]], np.int32)
    same(apply("concat", np.int32, values=[a, b], axis=np.int32(0)), np.concatenate([a, b]))
    same(apply("concat", np.int32, values=[a, b, a], axis=np.int32(-1)), np.concatenate([a, b, a], axis=1))
    want = np.array([[1, 2], [7, 8], [3, 4], [9, 10], [5, 6], [11, 12]], np.int32)  # the spec's example
    same(apply("concat", np.int32, values=[a, b], axis=np.int32(0), interleave=True), want)


def test_slice_by_index_masks_strides_and_squeeze():
    x = np.arange(60, dtype=F32).reshape(3, 4, 5)
    kw = dict(
        begin=np.array([1, -1, 0], np.int32), end=np.array([3, 0, 5], np.int32), stride=np.array([1, -2, 2], np.int32)
    )
    same(apply("slice_by_index", F32, x=x, **kw), x[1:3, -1:0:-2, 0:5:2])
    masked = apply(
        "slice_by_index", F32, x=x, begin=np.array([2, 1, 9], np.int32), end=np.array([0, 3, 9], np.int32),
        begin_mask=np.array([True, False, True]), end_mask=np.array([True, False, True]),
        squeeze_mask=np.array([False, False, False]),
    )  # fmt: skip
    same(masked, x[:, 1:3, :])
    squeezed = apply(
        "slice_by_index", F32, x=x, begin=np.array([0, 2, -1], np.int32), end=np.array([3, 0, 0], np.int32),
        squeeze_mask=np.array([False, True, True]),
    )  # fmt: skip
    same(squeezed, x[0:3, 2, -1])


def test_slice_by_size():
    x = np.arange(24, dtype=np.int32).reshape(4, 6)
    same(
        apply("slice_by_size", np.int32, x=x, begin=np.array([1, -4], np.int32), size=np.array([2, -1], np.int32)),
        x[1:3, 2:],
    )
    same(
        apply("slice_by_size", np.int32, x=x, begin=np.array([0, 0], np.int32), size=np.array([4, 0], np.int32)),
        x[:, :0],
    )


def test_pad_modes():
    x = np.arange(6, dtype=F16).reshape(2, 3)
    same(
        apply("pad", F16, x=x, pad=np.array([1, 2], np.int32), constant_val=F16(-1)),
        np.pad(x, [(0, 0), (1, 2)], constant_values=-1),
    )
    same(
        apply("pad", F16, x=x, pad=np.array([1, 0, 2, 2], np.int32), mode="reflect"),
        np.pad(x, [(1, 0), (2, 2)], mode="reflect"),
    )
    same(
        apply("pad", F16, x=x, pad=np.array([0, 3], np.int32), mode="replicate"),
        np.pad(x, [(0, 0), (0, 3)], mode="edge"),
    )
    with pytest.raises(ops.Unsupported, match="reflect pad"):
        apply("pad", F16, x=x, pad=np.array([3, 0], np.int32), mode="reflect")
    cube = np.zeros((3, 3, 3), F32)
    assert apply("pad", F32, x=cube, pad=np.array([1, 1, 1, 1], np.int32), mode="reflect").shape == (3, 5, 5)
    with pytest.raises(ops.Unsupported, match="more than the last two dims"):
        apply("pad", F32, x=cube, pad=np.array([1, 0, 0, 0, 0, 0], np.int32), mode="replicate")


# --- convolution and pooling -------------------------------------------------------------------


def naive_conv(x, w, b, strides, dilations, pads, groups):
    """Definition of MIL conv (cross-correlation), one output element at a time, in float64."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    n_sp = x.ndim - 2
    x = np.pad(x, [(0, 0), (0, 0), *pads])
    k = w.shape[2:]
    span = [(k[i] - 1) * dilations[i] + 1 for i in range(n_sp)]
    out_sp = [(x.shape[2 + i] - span[i]) // strides[i] + 1 for i in range(n_sp)]
    c_in, c_out = x.shape[1], w.shape[0]
    cg, og = c_in // groups, c_out // groups
    out = np.zeros((x.shape[0], c_out, *out_sp))
    for o in range(c_out):
        g = o // og
        for pos in itertools.product(*(range(s) for s in out_sp)):
            idx = tuple(slice(p * s, p * s + sp, d) for p, s, sp, d in zip(pos, strides, span, dilations, strict=True))
            field = x[(slice(None), slice(g * cg, (g + 1) * cg), *idx)]
            out[(slice(None), o, *pos)] = np.sum(field * w[o], axis=tuple(range(1, field.ndim)))
    return out if b is None else out + b.reshape(1, -1, *([1] * n_sp))


def same_pads(size, span, stride, lower=False):
    total = max(0, stride * math.ceil(size / stride) - size + span - stride)
    small, big = total // 2, total - total // 2
    return (big, small) if lower else (small, big)


def expected_pads(pad_type, pad, spatial, spans, strides):
    """(before, after) per spatial axis, from the MIL pad_type definition."""
    if pad_type == "custom":
        return [(pad[2 * i], pad[2 * i + 1]) for i in range(len(spatial))]
    if pad_type == "valid":
        return [(0, 0)] * len(spatial)
    return [same_pads(n, s, st, pad_type == "same_lower") for n, s, st in zip(spatial, spans, strides, strict=True)]


CONV_CASES = [
    # spatial, c_in, c_out, kernel, strides, dilations, pad_type, pad, groups
    ((48,), 32, 64, (3,), (1,), (1,), "valid", None, 1),  # the reference model's conv
    ((48,), 16, 8, (5,), (1,), (2,), "same", None, 1),  # the foreign model's conv (before TF's rewrite)
    ((10,), 4, 6, (4,), (2,), (1,), "same", None, 2),  # even kernel: the odd extra pad goes after
    ((10,), 4, 6, (4,), (2,), (1,), "same_lower", None, 2),
    ((7,), 3, 3, (3,), (3,), (2,), "custom", (2, 1), 3),  # depthwise, stride > kernel span
    ((1,), 2, 2, (3,), (1,), (1,), "same", None, 1),  # a single position
    ((5,), 2, 1, (5,), (1,), (1,), "valid", None, 1),  # kernel == input length
    ((6, 5), 4, 4, (3, 2), (2, 1), (1, 2), "same", None, 2),
    ((5, 5), 3, 2, (3, 3), (1, 1), (1, 1), "custom", (1, 0, 0, 2), 1),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[6]}-k{c[3]}-s{c[4]}-d{c[5]}-g{c[8]}-in{c[0]}")
@pytest.mark.parametrize("dtype", [F32, F16])
def test_conv_against_the_definition(case, dtype):
    spatial, c_in, c_out, kernel, strides, dilations, pad_type, pad, groups = case
    x = RNG.standard_normal((2, c_in, *spatial)).astype(dtype)
    w = (RNG.standard_normal((c_out, c_in // groups, *kernel)) / 3).astype(dtype)
    b = RNG.standard_normal(c_out).astype(dtype)
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=True)]
    pads = expected_pads(pad_type, pad, spatial, span, strides)
    got = apply(
        "conv", dtype, x=x, weight=w, bias=b, strides=np.array(strides, np.int32), pad_type=pad_type,
        pad=None if pad is None else np.array(pad, np.int32), dilations=np.array(dilations, np.int32), groups=np.int32(groups),
    )  # fmt: skip
    want = naive_conv(x, w, b, strides, dilations, pads, groups)
    assert got.dtype == dtype and got.shape == want.shape
    if dtype == F32:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    else:  # one rounding of the float32 sum: within an fp16 ulp of the exact value
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=2**-10, atol=2**-14)


def test_conv_same_padding_matches_tensorflow():
    """`same` = TF's SAME (extra pad after) for an even kernel with stride 2 and for dilation."""
    tf = pytest.importorskip("tensorflow")
    x = RNG.standard_normal((2, 4, 11)).astype(F32)
    for kernel, stride, dilation in ((4, 2, 1), (5, 1, 2), (2, 3, 1)):
        w = RNG.standard_normal((6, 4, kernel)).astype(F32)
        want = tf.nn.convolution(
            x.transpose(0, 2, 1), w.transpose(2, 1, 0), strides=stride, padding="SAME", dilations=dilation
        ).numpy().transpose(0, 2, 1)  # fmt: skip
        got = apply(
            "conv", F32, x=x, weight=w, strides=np.array([stride], np.int32), pad_type="same",
            dilations=np.array([dilation], np.int32),
        )  # fmt: skip
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv_groups_that_do_not_fit_are_refused():
    with pytest.raises(ops.Unsupported, match="does not fit"):
        apply("conv", F32, x=np.zeros((1, 4, 5), F32), weight=np.zeros((3, 2, 1), F32), groups=np.int32(2))


def naive_pool(x, kernel, strides, pads, kind, exclude_padding=False):
    x = x.astype(np.float64)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, [(0, 0), (0, 0), *pads], constant_values=fill)
    ones = np.pad(np.ones(x.shape[2:]), pads)
    out_sp = [(xp.shape[2 + i] - kernel[i]) // strides[i] + 1 for i in range(len(kernel))]
    out = np.zeros((*x.shape[:2], *out_sp))
    for pos in itertools.product(*(range(s) for s in out_sp)):
        idx = tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, strides, kernel, strict=True))
        field = xp[(slice(None), slice(None), *idx)].reshape(*x.shape[:2], -1)
        if kind == "max":
            out[(slice(None), slice(None), *pos)] = field.max(-1)
        else:
            count = ones[idx].sum() if exclude_padding else math.prod(kernel)
            out[(slice(None), slice(None), *pos)] = field.sum(-1) / count
    return out


POOL_CASES = [
    ((9,), (3,), (2,), "valid", None),
    ((9,), (4,), (2,), "same", None),
    ((9,), (2,), (1,), "same_lower", None),
    ((5,), (3,), (1,), "custom", (2, 1)),
    ((6, 7), (2, 3), (2, 2), "same", None),
    ((1,), (1,), (1,), "valid", None),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[3]}-k{c[1]}-s{c[2]}-in{c[0]}")
@pytest.mark.parametrize("kind, exclude", [("max", False), ("avg", False), ("avg", True)])
def test_pooling_against_the_definition(case, kind, exclude):
    spatial, kernel, strides, pad_type, pad = case
    x = RNG.standard_normal((2, 3, *spatial)).astype(F32) - 2  # mostly negative: padding must not win a max
    pads = expected_pads(pad_type, pad, spatial, kernel, strides)
    kw = dict(x=x, kernel_sizes=np.array(kernel, np.int32), strides=np.array(strides, np.int32), pad_type=pad_type,
              pad=None if pad is None else np.array(pad, np.int32))  # fmt: skip
    if kind == "avg":
        kw["exclude_padding_from_average"] = exclude
    got = apply(f"{kind}_pool", F32, **kw)
    want = naive_pool(x, kernel, strides, pads, kind, exclude)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_every_op_the_brief_lists_is_in_the_table():
    required = {
        "reshape", "squeeze", "expand_dims", "matmul", "linear", "add", "mul", "sub", "real_div", "maximum",
        "minimum", "softmax", "relu", "sigmoid", "tanh", "gelu", "max_pool", "avg_pool", "reduce_max",
        "reduce_mean", "reduce_sum", "concat", "slice_by_index", "slice_by_size", "gather", "select", "less",
        "greater", "equal", "not_equal", "less_equal", "greater_equal", "cast", "transpose", "conv",
        # issue 13: what attention, normalization and pooling classifiers become
        "einsum", "layer_norm", "square", "rsqrt", "erf", "split", "gather_along_axis", "gather_nd",
        "reshape_like", "l2_norm", "batch_norm", "instance_norm", "l2_pool", "tile", "range_1d", "fill",
        "one_hot", "argsort", "topk", "cumsum", "clamped_relu", "elu", "softplus", "softsign", "sigmoid_hard",
        "prelu", "reduce_prod", "reduce_l2_norm", "reduce_log_sum_exp", "scatter", "scatter_nd",
    }  # fmt: skip
    missing = sorted(required - set(ops.OPS))
    assert not missing
    assert not ops.DATA_MOVEMENT - set(ops.OPS)

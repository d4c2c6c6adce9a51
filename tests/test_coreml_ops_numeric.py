"""coreml-ref's numeric MIL ops beyond the reference model's: unary math, activations, reductions,
normalization, einsum and pooling, each against its docstring formula computed in float64.

As in test_coreml_ops.py, every op runs as the evaluator runs it (`evaluator.apply`: compute,
then round to the declared dtype); refusals are asserted where the spec leaves a result open.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from runtimes.coreml_ref import ops
from runtimes.coreml_ref.evaluator import apply

pytestmark = pytest.mark.coreml

F16, F32, I32 = np.float16, np.float32, np.int32
RNG = np.random.default_rng(2024)


def close(got, want, dtype=F32):
    """Within two output ulps of the float64 reference (plus a float32-sized absolute floor)."""
    got, want = np.asarray(got), np.asarray(want, np.float64)
    assert got.dtype == dtype and got.shape == want.shape
    tol = np.abs(want) * np.finfo(dtype).eps * 2 + (4e-7 if dtype == F32 else 2**-24)
    np.testing.assert_array_less(np.abs(got.astype(np.float64) - want), tol + 1e-300)


# --- unary and binary math -------------------------------------------------------------------


def test_epsilon_ops_add_epsilon_first():
    x = np.array([0.0, 1e-3, 4.0, 100.0], F32)
    close(apply("rsqrt", F32, x=x, epsilon=F32(1e-4)), 1 / np.sqrt(x.astype(np.float64) + 1e-4))
    close(apply("inverse", F32, x=x, epsilon=F32(0.5)), 1 / (x.astype(np.float64) + 0.5))
    close(apply("log", F32, x=x + 1, epsilon=F32(1e-45)), np.log(x.astype(np.float64) + 1))
    assert apply("rsqrt", F16, x=np.zeros(1, F16), epsilon=F16(1e-12))[0] == np.inf  # fp16(1e-12) is 0


def test_floor_div_and_mod_follow_python():
    x = np.array([7, -7, 7, -7], I32)
    y = np.array([2, 2, -2, -2], I32)
    np.testing.assert_array_equal(
        apply("floor_div", I32, x=x, y=y), [a // b for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    )
    np.testing.assert_array_equal(
        apply("mod", I32, x=x, y=y), [a % b for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    )
    np.testing.assert_array_equal(apply("mod", F32, x=x.astype(F32), y=y.astype(F32)), [1, 1, -1, -1])
    with pytest.raises(ops.Unsupported, match="by zero"):
        apply("floor_div", I32, x=x, y=np.int32(0))


def test_square_sign_abs_on_int32_wrap():
    big = np.array([46341, -3, 0], I32)  # 46341^2 > 2^31 - 1
    np.testing.assert_array_equal(apply("square", I32, x=big), (big.astype(np.int64) ** 2).astype(I32))
    np.testing.assert_array_equal(apply("sign", I32, x=big), [1, -1, 0])


def test_round_refuses_ties_the_spec_leaves_open():
    np.testing.assert_array_equal(apply("round", F32, x=np.array([-0.5, 0.5, 0.4, 2.6], F32)), [-0, 0, 0, 3])
    with pytest.raises(ops.Unsupported, match="tie"):
        apply("round", F32, x=np.array([1.5], F32))


@pytest.mark.parametrize("name, fn", [("sin", np.sin), ("cos", np.cos), ("atan", np.arctan), ("exp2", np.exp2),
                                      ("sinh", np.sinh), ("floor", np.floor), ("ceil", np.ceil)])  # fmt: skip
def test_float_unary_against_float64(name, fn):
    x = (RNG.standard_normal(300) * 3).astype(F32)
    close(apply(name, F32, x=x), fn(x.astype(np.float64)))
    with pytest.raises(ops.Unsupported, match="int32"):
        apply(name, I32, x=np.ones(2, I32))


def test_logical_xor_and_threshold():
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    np.testing.assert_array_equal(apply("logical_xor", np.bool_, x=a, y=b), a ^ b)
    np.testing.assert_array_equal(apply("threshold", F32, x=np.array([-2, 0, 3], F32), alpha=F32(1)), [1, 1, 3])


# --- activations -------------------------------------------------------------------------------

X = np.concatenate([[-80, -20, -1, -1e-3, 0, 1e-3, 1, 20, 80], RNG.standard_normal(200) * 4])


def _sp(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


@pytest.mark.parametrize(
    "name, kw, ref",
    [("relu6", {}, lambda x: np.clip(x, 0, 6)),
     ("elu", {"alpha": 0.7}, lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
     ("clamped_relu", {"alpha": 0.2, "beta": 3.0}, lambda x: np.minimum(3.0, np.where(x >= 0, x, 0.2 * x))),
     ("thresholded_relu", {"alpha": 0.5}, lambda x: np.where(x >= 0.5, x, 0)),
     ("linear_activation", {"alpha": 2.0, "beta": -1.0}, lambda x: 2 * x - 1),
     ("sigmoid_hard", {"alpha": 0.2, "beta": 0.5}, lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
     ("scaled_tanh", {"alpha": 1.5, "beta": 0.5}, lambda x: 1.5 * np.tanh(0.5 * x)),
     ("softplus", {}, _sp), ("softsign", {}, lambda x: x / (1 + np.abs(x)))],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [F32, F16])
def test_activation_formulas(name, kw, ref, dtype):
    x = X.astype(dtype)
    params = {k: dtype(v) for k, v in kw.items()}
    want = ref(x.astype(np.float64))
    got = apply(name, dtype, x=x, **params)
    # fp16: the parameters themselves are fp16-rounded (0.7 -> 0.7002), hence the relative slack
    tol = np.abs(want) * np.finfo(dtype).eps * 4 + (1e-6 if dtype == F32 else 2e-3 * (np.abs(want) + 1))
    assert np.all(np.abs(got.astype(np.float64) - want) <= tol)


def test_prelu_and_softplus_parametric_are_per_channel():
    x = RNG.standard_normal((2, 3, 4)).astype(F32)
    alpha = np.array([0.1, 0.5, 2.0], F32)
    a = alpha.reshape(1, 3, 1).astype(np.float64)
    close(apply("prelu", F32, x=x, alpha=alpha), np.where(x > 0, x, a * x))
    beta = np.array([1.0, 2.0, 0.5], F32)
    b = beta.reshape(1, 3, 1).astype(np.float64)
    close(apply("softplus_parametric", F32, x=x, alpha=alpha, beta=beta), a * _sp(b * x))
    with pytest.raises(ops.Unsupported, match="per-channel"):
        apply("prelu", F32, x=x, alpha=np.ones(4, F32))


# --- reductions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, ref",
    [("reduce_prod", np.prod), ("reduce_l1_norm", lambda x, **k: np.sum(np.abs(x), **k)),
     ("reduce_l2_norm", lambda x, **k: np.sqrt(np.sum(x * x, **k))),
     ("reduce_sum_square", lambda x, **k: np.sum(x * x, **k)),
     ("reduce_log_sum", lambda x, **k: np.log(np.sum(x, **k))),
     ("reduce_log_sum_exp", lambda x, **k: np.log(np.sum(np.exp(x), **k)))],
)  # fmt: skip
@pytest.mark.parametrize("axes, keep", [(None, False), ([1], False), ([-1, 0], True)])
def test_more_reductions(name, ref, axes, keep):
    x = RNG.uniform(0.5, 1.5, (2, 3, 4)).astype(F32)
    kw = {} if axes is None else {"axes": np.array(axes, I32)}
    want = ref(x.astype(np.float64), axis=None if axes is None else tuple(axes), keepdims=keep)
    got = apply(name, F32, x=x, keep_dims=keep, **kw)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=3e-6)


def test_log_sum_exp_is_stable_and_int_norms_are_refused():
    x = np.array([[1000, 1000], [-np.inf, -np.inf], [-1000, 0]], F32)
    got = apply("reduce_log_sum_exp", F32, x=x, axes=np.array([1], I32))
    np.testing.assert_allclose(got, [1000 + math.log(2), -np.inf, 0], rtol=1e-6)
    assert apply("reduce_prod", I32, x=np.array([65536, 65536], I32)) == 0  # 2^32 wraps to 0
    with pytest.raises(ops.Unsupported, match="reduce_l2_norm on int32"):
        apply("reduce_l2_norm", I32, x=np.ones(2, I32))


def test_argmax_argmin_and_their_tie_refusal():
    x = np.array([[1, 5, 3], [7, -1, 2]], F32)
    np.testing.assert_array_equal(apply("reduce_argmax", I32, x=x, axis=np.int32(1)), [1, 0])
    np.testing.assert_array_equal(apply("reduce_argmin", I32, x=x, axis=np.int32(0), keep_dims=True), [[0, 1, 1]])
    with pytest.raises(ops.Unsupported, match="tie"):
        apply("reduce_argmax", I32, x=np.array([[2, 2, 1]], F32))


@pytest.mark.parametrize("exclusive, reverse", list(itertools.product([False, True], [False, True])))
def test_cumsum_modes(exclusive, reverse):
    x = np.arange(1, 13, dtype=I32).reshape(3, 4)
    y = x[:, ::-1] if reverse else x
    want = np.cumsum(y, axis=1) - (y if exclusive else 0)
    want = want[:, ::-1] if reverse else want
    got = apply("cumsum", I32, x=x, axis=np.int32(-1), exclusive=exclusive, reverse=reverse)
    np.testing.assert_array_equal(got, want)


# --- normalization -----------------------------------------------------------------------------


def _norm64(x, axes, eps):
    m = x.mean(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(axis=axes, keepdims=True) + eps)


def test_layer_norm_axes_gamma_beta():
    x = RNG.standard_normal((2, 3, 4, 5)).astype(F32)
    gamma, beta = RNG.standard_normal((3, 5)).astype(F32), RNG.standard_normal((3, 5)).astype(F32)
    got = apply("layer_norm", F32, x=x, axes=np.array([-1, 1], I32), gamma=gamma, beta=beta, epsilon=F32(1e-3))
    want = _norm64(x.astype(np.float64), (1, 3), 1e-3) * gamma.reshape(1, 3, 1, 5) + beta.reshape(1, 3, 1, 5)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(apply("layer_norm", F32, x=x), _norm64(x.astype(np.float64), None, 1e-5), atol=1e-5)


def test_batch_instance_and_l2_norm():
    x = RNG.standard_normal((2, 3, 4, 2)).astype(F32)
    mean, var = RNG.standard_normal(3).astype(F32), RNG.uniform(0.5, 2, 3).astype(F32)
    c = (1, 3, 1, 1)
    want = (x - mean.reshape(c).astype(np.float64)) / np.sqrt(var.reshape(c) + 1e-5)
    np.testing.assert_allclose(apply("batch_norm", F32, x=x, mean=mean, variance=var), want, rtol=1e-5, atol=1e-6)
    gamma = RNG.standard_normal(3).astype(F32)
    got = apply("instance_norm", F32, x=x, gamma=gamma, epsilon=F32(1e-3))
    np.testing.assert_allclose(
        got, _norm64(x.astype(np.float64), (2, 3), 1e-3) * gamma.reshape(c), rtol=1e-5, atol=1e-5
    )
    x64 = x.astype(np.float64)
    want = x64 / np.sqrt((x64**2).sum(axis=(1, 2, 3), keepdims=True) + 1e-6)
    np.testing.assert_allclose(apply("l2_norm", F32, x=x), want, rtol=1e-6)
    with pytest.raises(ops.Unsupported, match="rank"):
        apply("l2_norm", F32, x=np.ones((2, 3), F32))


def test_local_response_norm_is_not_guessed():
    assert "local_response_norm" not in ops.OPS  # the docstring does not say which neighbours


# --- einsum ------------------------------------------------------------------------------------


def test_einsum_the_two_supported_forms_with_broadcast():
    a, b = RNG.standard_normal((2, 3, 1, 4)).astype(F32), RNG.standard_normal((1, 4, 5, 6)).astype(F32)
    want = np.einsum("nchw,nwhu->nchu", np.broadcast_to(a, (2, 3, 5, 4)), np.broadcast_to(b, (2, 4, 5, 6)))
    np.testing.assert_allclose(
        apply("einsum", F32, values=[a, b], equation="abcd,adce->abce"), want, rtol=1e-5, atol=1e-5
    )
    c, d = RNG.standard_normal((3, 5, 4)).astype(F32), RNG.standard_normal((4, 5, 2)).astype(F32)
    np.testing.assert_allclose(
        apply("einsum", F32, values=[c, d], equation="chw,whr->chr"),
        np.einsum("chw,whr->chr", c, d),
        rtol=1e-5,
        atol=1e-5,
    )
    with pytest.raises(ops.Unsupported, match="einsum equation"):
        apply("einsum", F32, values=[c, d], equation="chw,whr->crh")


# --- pooling -----------------------------------------------------------------------------------


def torch_pool_1d(x, k, s, pad, kind, exclude):
    """torch.nn.{Max,Avg}Pool1d(ceil_mode=True, padding=pad) by its definition, in float64."""
    n = x.shape[-1]
    out = (n + 2 * pad - k + s - 1) // s + 1
    if (out - 1) * s >= n + pad:
        out -= 1
    res = []
    for i in range(out):
        lo, hi = i * s - pad, min(i * s - pad + k, n + pad)
        real = x[..., max(lo, 0) : min(hi, n)]
        if kind == "max":
            res.append(real.max(-1))
        else:
            count = (min(hi, n) - max(lo, 0)) if exclude else hi - lo
            res.append(real.sum(-1) / count)
    return np.stack(res, -1)


@pytest.mark.parametrize("n, k, s, pad", [(5, 2, 2, 0), (6, 3, 2, 1), (7, 3, 3, 1), (4, 2, 3, 0)])
@pytest.mark.parametrize("kind, exclude", [("max", False), ("avg", False), ("avg", True)])
def test_pooling_ceil_mode_is_pytorchs(n, k, s, pad, kind, exclude):
    x = RNG.standard_normal((1, 2, n)).astype(F32)
    kw = dict(x=x, kernel_sizes=np.array([k], I32), strides=np.array([s], I32), ceil_mode=True,
              pad_type="custom" if pad else "valid", pad=np.array([pad, pad], I32))  # fmt: skip
    if kind == "avg":
        kw["exclude_padding_from_average"] = exclude
    got = apply(f"{kind}_pool", F32, **kw)
    np.testing.assert_allclose(got, torch_pool_1d(x.astype(np.float64), k, s, pad, kind, exclude), rtol=1e-6)


def test_pooling_ceil_mode_outside_its_definition_is_refused():
    with pytest.raises(ops.Unsupported, match="ceil_mode with pad_type 'same'"):
        apply("max_pool", F32, x=np.zeros((1, 1, 5), F32), kernel_sizes=np.array([2], I32),
              strides=np.array([2], I32), pad_type="same", ceil_mode=True)  # fmt: skip
    with pytest.raises(ops.Unsupported, match="asymmetric"):
        apply("avg_pool", F32, x=np.zeros((1, 1, 5), F32), kernel_sizes=np.array([2], I32),
              strides=np.array([2], I32), pad_type="custom", pad=np.array([1, 0], I32), ceil_mode=True)  # fmt: skip


def test_l2_pool():
    x = RNG.standard_normal((1, 2, 6)).astype(F32)
    got = apply("l2_pool", F32, x=x, kernel_sizes=np.array([3], I32), strides=np.array([3], I32), pad_type="valid")
    want = np.sqrt((x.astype(np.float64).reshape(1, 2, 2, 3) ** 2).sum(-1))
    np.testing.assert_allclose(got, want, rtol=1e-6)


# --- conv_transpose ----------------------------------------------------------------------------


def naive_conv_transpose(x, w, b, strides, dilations, crop, groups):
    """out[n, g*og + o, i*s + k*d] += x[n, g*cg + c, i] * w[g*cg + c, o, k], then crop; float64."""
    n, c_in = x.shape[:2]
    og, kernel = w.shape[1], w.shape[2:]
    cg = c_in // groups
    full = [(i - 1) * s + (k - 1) * d + 1 for i, s, k, d in zip(x.shape[2:], strides, kernel, dilations, strict=True)]
    out = np.zeros((n, og * groups, *full))
    for c in range(c_in):
        g = c // cg
        for pos in np.ndindex(*x.shape[2:]):
            for k in np.ndindex(*kernel):
                at = tuple(p * s + kk * d for p, s, kk, d in zip(pos, strides, k, dilations, strict=True))
                for o in range(og):
                    out[(slice(None), g * og + o, *at)] += x[(slice(None), c, *pos)] * w[(c, o, *k)]
    out = out[(slice(None), slice(None), *(slice(a, f - e) for (a, e), f in zip(crop, full, strict=True)))]
    return out if b is None else out + b.reshape(1, -1, *([1] * len(kernel)))


@pytest.mark.parametrize(
    "spatial, c_in, og, kernel, strides, dilations, pad, groups",
    [((5,), 2, 3, (3,), (2,), (1,), None, 1), ((4,), 4, 1, (2,), (3,), (2,), (1, 2), 2),
     ((3, 4), 2, 2, (2, 3), (2, 1), (1, 2), (0, 1, 1, 0), 1)],
)  # fmt: skip
def test_conv_transpose_against_the_definition(spatial, c_in, og, kernel, strides, dilations, pad, groups):
    x = RNG.standard_normal((2, c_in, *spatial)).astype(F32)
    w = RNG.standard_normal((c_in, og, *kernel)).astype(F32)
    b = RNG.standard_normal(og * groups).astype(F32)
    crop = [(0, 0)] * len(spatial) if pad is None else [(pad[2 * i], pad[2 * i + 1]) for i in range(len(spatial))]
    got = apply(
        "conv_transpose", F32, x=x, weight=w, bias=b, strides=np.array(strides, I32), dilations=np.array(dilations, I32),
        pad_type="valid" if pad is None else "custom", pad=None if pad is None else np.array(pad, I32),
        groups=np.int32(groups),
    )  # fmt: skip
    want = naive_conv_transpose(x.astype(np.float64), w.astype(np.float64), b, strides, dilations, crop, groups)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    with pytest.raises(ops.Unsupported, match="pad_type 'same'"):
        apply("conv_transpose", F32, x=x, weight=w, pad_type="same", groups=np.int32(groups))


# --- resizing ----------------------------------------------------------------------------------

GRIDS = {  # resize_bilinear's docstring: Xin = 2, the input [0, 1] sampled at these points
    ("UNALIGN_CORNERS", 5): [0, 0.1, 0.5, 0.9, 1], ("STRICT_ALIGN_CORNERS", 5): [0, 0.25, 0.5, 0.75, 1],
    ("ALIGN_CORNERS", 5): [0, 0.25, 0.5, 0.75, 1], ("DEFAULT", 5): [0, 0.4, 0.8, 1, 1],
    ("OFFSET_CORNERS", 5): [0.1, 0.3, 0.5, 0.7, 0.9], ("UNALIGN_CORNERS", 6): [0, 0, 1 / 3, 2 / 3, 1, 1],
    ("ALIGN_CORNERS", 6): [0, 0.2, 0.4, 0.6, 0.8, 1], ("DEFAULT", 6): [0, 1 / 3, 2 / 3, 1, 1, 1],
}  # fmt: skip


@pytest.mark.parametrize("mode, n", list(GRIDS))
def test_resize_bilinear_samples_the_docstrings_grid(mode, n):
    x = np.array([0, 1], F32).reshape(1, 1, 1, 2)
    got = apply("resize_bilinear", F32, x=x, target_size_height=np.int32(1), target_size_width=np.int32(n),
                sampling_mode=mode)  # fmt: skip
    np.testing.assert_allclose(got.reshape(-1), GRIDS[mode, n], rtol=1e-6, atol=1e-7)


def test_bilinear_interpolates_both_axes_and_upsample_uses_align_corners():
    x = RNG.standard_normal((1, 2, 3, 4)).astype(F32)
    got = apply("upsample_bilinear", F32, x=x, scale_factor_height=F32(2), scale_factor_width=F32(1.5),
                align_corners=True)  # fmt: skip
    assert got.shape == (1, 2, 6, 6)
    gh, gw = np.linspace(0, 2, 6), np.linspace(0, 3, 6)
    for i, j in np.ndindex(6, 6):
        h0, w0 = min(int(gh[i]), 1), min(int(gw[j]), 2)
        a, b = gh[i] - h0, gw[j] - w0
        q = x[0, :, h0 : h0 + 2, w0 : w0 + 2].astype(np.float64)
        want = q[:, 0, 0] * (1 - a) * (1 - b) + q[:, 0, 1] * (1 - a) * b + q[:, 1, 0] * a * (1 - b) + q[:, 1, 1] * a * b
        np.testing.assert_allclose(got[0, :, i, j], want, rtol=1e-5, atol=1e-6)


def test_nearest_neighbour_only_by_whole_factors_and_crop():
    x = np.arange(6, dtype=F32).reshape(1, 2, 3)
    got = apply("upsample_nearest_neighbor", F32, x=x, scale_factor_height=np.int32(2), scale_factor_width=np.int32(1))
    np.testing.assert_array_equal(got, np.repeat(x, 2, axis=-2))
    with pytest.raises(ops.Unsupported, match="fractional"):
        apply("upsample_nearest_neighbor", F32, x=x, scale_factor_height=F32(1.5), scale_factor_width=F32(1))
    got = apply("resize_nearest_neighbor", F32, x=x, target_size_height=np.int32(2), target_size_width=np.int32(6))
    np.testing.assert_array_equal(got, np.repeat(x, 2, axis=-1))
    np.testing.assert_array_equal(
        apply("crop", F32, x=x, crop_height=np.array([1, 0], I32), crop_width=np.array([0, 2], I32)), x[:, 1:, :1]
    )

"""coreml-ref's data-movement MIL ops beyond the reference model's: shapes, slicing, creation,
block rearrangement, gather / scatter and sorting, against their docstring examples, numpy or
TensorFlow (whose semantics coremltools' TF frontend maps onto them).
"""

from __future__ import annotations

import numpy as np
import pytest

from runtimes.coreml_ref import ops
from runtimes.coreml_ref.evaluator import apply

pytestmark = pytest.mark.coreml

F32, I32 = np.float32, np.int32
RNG = np.random.default_rng(77)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_array_equal(a, b)


def i32(*v):
    return np.array(v, I32)


# --- shapes ------------------------------------------------------------------------------------


def test_reshape_zero_counts_from_the_right_from_ios17():
    x = np.zeros((2, 50), F32)
    assert apply("reshape", F32, opset=17, x=x, shape=i32(1, 0, -1, 0)).shape == (1, 1, 2, 50)  # the docstring's
    with pytest.raises(ops.Unsupported, match="0 in shape"):
        apply("reshape", F32, opset=16, x=x, shape=i32(1, 0, -1, 0))
    assert apply("reshape", F32, opset=17, x=np.zeros((2, 3, 4), F32), shape=i32(0, -1)).shape == (
        3,
        8,
    )  # 0 -> x.shape[1]


def test_reshape_like_docstring_example_and_flatten2d():
    refs = [np.zeros((2, 3, 4), F32), np.zeros((1, 5, 6), F32)]
    out = apply("reshape_like", F32, x=np.arange(180, dtype=F32), ref_tensors=refs, begins=[0, 1], ends=[2, 0],
                end_masks=[False, True])  # fmt: skip
    assert out.shape == (2, 3, 5, 6)
    for shape, axis, want in [((3,), -1, (1, 3)), ((3,), 1, (3, 1)), ((4, 3), -1, (4, 3)), ((2, 3, 2), -1, (6, 2)),
                              ((5, 5, 2), 1, (5, 10))]:  # fmt: skip
        assert apply("flatten2d", F32, x=np.zeros(shape, F32), axis=np.int32(axis)).shape == want


# --- slicing and joining -----------------------------------------------------------------------


def test_slice_by_index_negative_stride_with_masks_is_numpys():
    x = np.arange(24, dtype=I32).reshape(4, 6)
    got = apply("slice_by_index", I32, x=x, begin=i32(0, 0), end=i32(0, 0), stride=i32(-1, -2),
                begin_mask=np.array([True, True]), end_mask=np.array([True, True]))  # fmt: skip
    same(got, x[::-1, ::-2])
    same(apply("slice_by_index", I32, x=x, begin=i32(9, -100), end=i32(20, 100)), x[9:20, -100:100])  # clamped
    with pytest.raises(ops.Unsupported, match="squeezed slice index"):
        apply("slice_by_index", I32, x=x, begin=i32(4, 0), end=i32(5, 6), squeeze_mask=np.array([True, False]))


def test_slice_update():
    x = np.zeros((3, 4), I32)
    got = apply("slice_update", I32, x=x, update=np.ones((2, 2), I32), begin=i32(1, 0), end=i32(3, 4), stride=i32(1, 2))
    want = x.copy()
    want[1:3, 0:4:2] = 1
    same(got, want)
    with pytest.raises(ops.Unsupported, match="slice_update"):
        apply("slice_update", I32, x=x, update=np.ones((3, 3), I32), begin=i32(0, 0), end=i32(3, 4))


def test_split_tile_reverse():
    x = np.arange(20, dtype=I32).reshape(4, 5)
    parts = ops.OPS["split"](x=x, axis=np.int32(1), split_sizes=i32(1, 4))
    same(parts[0], x[:, :1])
    same(parts[1], x[:, 1:])
    assert [p.shape for p in ops.OPS["split"](x=x, axis=np.int32(0), num_splits=np.int32(2))] == [(2, 5), (2, 5)]
    with pytest.raises(ops.Unsupported, match="equal parts"):
        ops.OPS["split"](x=x, axis=np.int32(1), num_splits=np.int32(2))
    same(apply("tile", I32, x=x, reps=i32(2, 1)), np.tile(x, (2, 1)))
    same(apply("reverse", I32, x=x, axes=i32(-1)), x[:, ::-1])
    same(apply("reverse", I32, x=x), x[::-1, ::-1])


def test_reverse_sequence_like_tensorflow():
    x = np.arange(24, dtype=I32).reshape(2, 4, 3)  # batch_axis 0, seq_axis 1
    got = apply("reverse_sequence", I32, x=x, lengths=i32(3, 1), seq_axis=np.int32(1), batch_axis=np.int32(0))
    want = x.copy()
    want[0, :3] = x[0, 2::-1]
    same(got, want)
    got_t = apply("reverse_sequence", I32, x=x.transpose(1, 0, 2), lengths=i32(3, 1), seq_axis=np.int32(0),
                  batch_axis=np.int32(1))  # fmt: skip
    same(got_t, want.transpose(1, 0, 2))


def test_sliding_windows():
    x = np.arange(14, dtype=I32).reshape(2, 7)
    got = apply("sliding_windows", I32, x=x, axis=np.int32(1), size=np.int32(3), stride=np.int32(2))
    same(got, np.stack([x[:, i : i + 3] for i in (0, 2, 4)], axis=1))


# --- creation ----------------------------------------------------------------------------------


def test_fill_range_one_hot_non_zero_band_part():
    same(apply("fill", F32, shape=i32(2, 3), value=F32(1.5)), np.full((2, 3), 1.5, F32))
    same(apply("fill_like", I32, ref_tensor=np.zeros((4,), F32), value=np.int32(7)), np.full(4, 7, I32))
    same(apply("range_1d", I32, start=np.int32(5), end=np.int32(-3), step=np.int32(-3)), np.arange(5, -3, -3))
    # start + i * step in float32 (0.9 comes out as 3 * float32(0.3) = 0.90000004)
    same(apply("range_1d", F32, start=F32(0), end=F32(1), step=F32(0.3)), np.arange(4, dtype=F32) * F32(0.3))
    got = apply("one_hot", F32, indices=i32(2, 0), one_hot_vector_size=np.int32(3), axis=np.int32(0),
                on_value=F32(5), off_value=F32(-1))  # fmt: skip
    same(got, np.array([[-1, 5], [-1, -1], [5, -1]], F32))
    with pytest.raises(ops.Unsupported, match="one_hot index"):
        apply("one_hot", F32, indices=i32(3), one_hot_vector_size=np.int32(3))
    same(apply("non_zero", I32, x=np.array([[0, 2], [3, 0]], F32)), np.array([[0, 1], [1, 0]], I32))
    x = np.ones((4, 4), I32)
    same(apply("band_part", I32, x=x, lower=np.int32(0), upper=np.int32(-1)), np.triu(x))
    same(apply("band_part", I32, x=x, lower=np.int32(-1), upper=np.int32(0)), np.tril(x))
    same(apply("band_part", I32, x=x, lower=np.int32(1), upper=np.int32(0)), np.tril(x) - np.tril(x, -2))


# --- depth / space / batch ---------------------------------------------------------------------


def test_block_rearrangements_match_tensorflow():
    tf = pytest.importorskip("tensorflow")
    x = RNG.standard_normal((2, 8, 3, 4)).astype(F32)  # NCHW, C = 2 * 2^2
    nhwc = x.transpose(0, 2, 3, 1)
    want = tf.nn.depth_to_space(nhwc, 2).numpy().transpose(0, 3, 1, 2)
    same(apply("depth_to_space", F32, x=x, block_size=np.int32(2)), want)
    same(apply("space_to_depth", F32, x=want, block_size=np.int32(2)), x)
    pads = np.array([[1, 0], [2, 2]], I32)
    want = tf.space_to_batch_nd(nhwc, [2, 4], pads).numpy().transpose(0, 3, 1, 2)
    same(apply("space_to_batch", F32, x=x, block_shape=i32(2, 4), paddings=pads), want)
    back = apply("batch_to_space", F32, x=want, block_shape=i32(2, 4), crops=pads)
    same(back, x)


def test_pixel_shuffle_is_pytorchs():
    x = RNG.standard_normal((1, 8, 2, 3)).astype(F32)
    got = apply("pixel_shuffle", F32, x=x, upscale_factor=np.int32(2))
    for c, h, w in np.ndindex(2, 4, 6):  # out[n, c, h, w] = x[n, c*f*f + (h % f)*f + w % f, h // f, w // f]
        assert got[0, c, h, w] == x[0, c * 4 + (h % 2) * 2 + w % 2, h // 2, w // 2]
    same(apply("pixel_unshuffle", F32, x=got, downscale_factor=np.int32(2)), x)


# --- gather and scatter ------------------------------------------------------------------------


def test_gather_batch_dims_and_gather_nd_match_tensorflow():
    tf = pytest.importorskip("tensorflow")
    x = RNG.standard_normal((2, 3, 5, 4)).astype(F32)
    idx = RNG.integers(0, 5, (2, 3, 6)).astype(I32)
    want = tf.gather(x, idx, axis=2, batch_dims=2).numpy()
    same(apply("gather", F32, opset=16, x=x, indices=idx, axis=np.int32(2), batch_dims=np.int32(2)), want)
    nd = np.stack([RNG.integers(0, 3, (2, 4)), RNG.integers(0, 5, (2, 4))], -1).astype(I32)  # [2, 4, 2]
    want = tf.gather_nd(x, nd, batch_dims=1).numpy()
    same(apply("gather_nd", F32, opset=16, x=x, indices=nd, batch_dims=np.int32(1)), want)


def test_gather_along_axis_and_index_range_by_opset():
    x = np.arange(12, dtype=I32).reshape(3, 4)
    idx = np.array([[0, -1, 2, 1]], I32)
    same(apply("gather_along_axis", I32, opset=16, x=x, indices=idx, axis=np.int32(0)), [[0, 9, 10, 7]])
    with pytest.raises(ops.Unsupported, match="gather_along_axis index -1"):
        apply("gather_along_axis", I32, opset=17, x=x, indices=idx, axis=np.int32(0))
    with pytest.raises(ops.Unsupported, match="gather_nd index 3"):
        apply("gather_nd", I32, opset=15, x=x, indices=np.array([[3, 0]], I32))


def _scatter_loop(data, indices, updates, mode):
    out = data.astype(np.float64)
    fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "max": np.maximum,
          "min": np.minimum, "update": lambda a, b: b}[mode]  # fmt: skip
    for i, row in enumerate(indices):
        out[row] = fn(out[row], updates[i])
    return out


@pytest.mark.parametrize("mode", ["add", "sub", "mul", "div", "max", "min", "update"])
def test_scatter_modes(mode):
    data = RNG.uniform(1, 2, (5, 3)).astype(F32)
    indices = i32(4, 0, 2) if mode == "update" else i32(4, 0, 4)  # repeats combine in arithmetic modes
    updates = RNG.uniform(1, 2, (3, 3)).astype(F32)
    got = apply("scatter", F32, data=data, indices=indices, updates=updates, mode=mode)
    np.testing.assert_allclose(got, _scatter_loop(data, indices, updates, mode), rtol=1e-6)


def test_scatter_update_with_repeats_is_refused_and_nd_along_axis():
    data = np.zeros((4, 2), F32)
    with pytest.raises(ops.Unsupported, match="repeated indices"):
        apply("scatter", F32, data=data, indices=i32(1, 1), updates=np.ones((2, 2), F32), mode="update")
    got = apply("scatter_nd", F32, data=data, indices=np.array([[3], [0], [3]], I32), updates=np.ones((3, 2), F32))
    same(got, np.array([[1, 1], [0, 0], [0, 0], [2, 2]], F32))
    got = apply("scatter_along_axis", F32, data=data, indices=np.array([[1, 0]], I32), updates=np.array([[5, 6]], F32),
                axis=np.int32(0), mode="update")  # fmt: skip
    same(got, np.array([[0, 6], [5, 0], [0, 0], [0, 0]], F32))


# --- sorting -----------------------------------------------------------------------------------


def test_argsort_and_topk_refuse_ties_that_change_the_answer():
    x = np.array([[3, 1, 2, 9], [0, 5, -1, 4]], F32)
    same(apply("argsort", I32, x=x, axis=np.int32(-1)), np.argsort(-x, axis=-1))
    same(apply("argsort", I32, x=x, axis=np.int32(0), ascending=True), np.argsort(x, axis=0))
    values, idx = ops.OPS["topk"](x=x, k=np.int32(2))
    same(values, [[9, 3], [5, 4]])
    same(idx, [[3, 0], [1, 3]])
    with pytest.raises(ops.Unsupported, match="equal values"):
        ops.OPS["topk"](x=np.array([[1, 2, 2, 0]], F32), k=np.int32(1))
    same(ops.OPS["topk"](x=np.array([[1, 2, 2, 0]], F32), k=np.int32(1), return_indices=False), [[2]])  # values only
    with pytest.raises(ops.Unsupported, match="sort=False"):
        ops.OPS["topk"](x=x, k=np.int32(2), sort=False)


def test_scatter_with_nd_indices_is_tf_scatter():
    tf = pytest.importorskip("tensorflow")
    data = RNG.uniform(1, 2, (4, 3)).astype(F32)
    idx = np.array([[0, 3, 3], [1, 0, 2]], I32)
    upd = RNG.uniform(1, 2, (2, 3, 3)).astype(F32)
    var = tf.Variable(data)
    tf.compat.v1.scatter_mul(var, idx, upd)
    np.testing.assert_allclose(
        apply("scatter", F32, data=data, indices=idx, updates=upd, mode="mul"), var.numpy(), rtol=1e-6
    )

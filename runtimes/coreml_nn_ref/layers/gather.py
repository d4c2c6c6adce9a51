"""gather and scatter along one axis (Gather/ScatterLayerParams in NeuralNetwork.proto).

Indices arrive as float32 and may be negative ("negative indexing is supported": -1 is the last
entry). An index outside [-D, D) is refused: the proto does not say what Core ML does with it.
The TF frontend writes TensorList reads and writes as these two on axis 0 (a list of per-step
tensors), so a recurrent model's time steps pass through them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from runtimes.coreml_nn_ref.layers.registry import Run, UnsupportedLayer, Weights, axis_of, f32, index, layer


def _wrapped(indices: np.ndarray, extent: int, what: str) -> np.ndarray:
    ids = index(indices, what)
    if ids.size and (ids.min() < -extent or ids.max() >= extent):
        raise UnsupportedLayer(f"{what} index outside [-{extent}, {extent})")
    return np.where(ids < 0, ids + extent, ids)


@layer()
def gather(p: Any, w: Weights) -> Run:
    """output = data[.., indices, ..] at `axis`: output rank is data.rank - 1 + indices.rank."""

    def run(xs: list[np.ndarray]) -> np.ndarray:
        data, indices = xs
        a = axis_of(int(p.axis), data.ndim)
        return np.take(data, _wrapped(indices, data.shape[a], "gather"), axis=a)

    return run


_MODES: dict[int, Callable[..., Any]] = {
    0: lambda old, new: new,  # SCATTER_UPDATE
    1: np.add,
    2: np.subtract,
    3: np.multiply,
    4: np.divide,
    5: np.maximum,
    6: np.minimum,
}


@layer()
def scatter(p: Any, w: Weights) -> Run:
    """Inputs (container, indices, updates); updates has container's shape with the `axis`
    dimension replaced by indices' shape. Entries apply in index order, so a repeated index in
    SCATTER_UPDATE keeps the last update (the proto leaves the order unsaid; the TF frontend
    never repeats an index)."""
    mode = int(p.mode)
    if mode not in _MODES:
        raise UnsupportedLayer(f"scatter mode {mode}")
    combine = _MODES[mode]

    def run(xs: list[np.ndarray]) -> np.ndarray:
        container, indices, updates = xs
        a = axis_of(int(p.axis), container.ndim)
        ids = _wrapped(indices, container.shape[a], "scatter").reshape(-1)
        k = np.asarray(indices).ndim
        out = np.moveaxis(f32(container).copy(), a, 0)
        want = container.shape[:a] + np.asarray(indices).shape + container.shape[a + 1 :]
        if updates.shape != want:
            raise UnsupportedLayer(f"scatter updates of shape {list(updates.shape)}; expected {list(want)}")
        upd = np.moveaxis(updates, tuple(range(a, a + k)), tuple(range(k))).reshape((len(ids),) + out.shape[1:])
        for i, j in enumerate(ids):
            out[j] = combine(out[j], upd[i])
        return np.ascontiguousarray(np.moveaxis(out, 0, a))

    return run

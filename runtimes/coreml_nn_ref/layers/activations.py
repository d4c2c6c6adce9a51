"""`activation` (ActivationParams in NeuralNetwork.proto), computed in float32.

sigmoid is 1 / (1 + exp(-x)) evaluated so that a large |x| neither overflows nor loses the
small tail (exp of a non-positive number only); tanh is numpy's. Non-linearities with per-channel
parameters (PReLU, parametricSoftplus) are refused: their channel axis depends on the rank
mapping, which the converter does not emit for these models.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_nn_ref.layers.registry import Run, UnsupportedLayer, Weights, f32, layer


def sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return f32(np.where(x >= 0, 1 / (1 + e), e / (1 + e)))


def nonlinearity(kind: str, q: Any) -> Any:
    """The function an ActivationParams `kind` names, with its parameters `q`; unknown kinds refused."""
    fns = {
        "linear": lambda x: q.alpha * x + q.beta,
        "ReLU": lambda x: np.maximum(x, 0),
        "leakyReLU": lambda x: np.where(x >= 0, x, q.alpha * x),
        "thresholdedReLU": lambda x: np.where(x > q.alpha, x, 0),
        "tanh": np.tanh,
        "scaledTanh": lambda x: q.alpha * np.tanh(q.beta * x),
        "sigmoid": sigmoid,
        "sigmoidHard": lambda x: np.clip(q.alpha * x + q.beta, 0, 1),
        "ELU": lambda x: np.where(x >= 0, x, q.alpha * np.expm1(np.minimum(x, 0))),
        "softsign": lambda x: x / (1 + np.abs(x)),
        "softplus": lambda x: np.logaddexp(0, x),
    }
    if kind not in fns:
        raise UnsupportedLayer(f"activation {kind!r} is not implemented")
    return fns[kind]


@layer()
def activation(p: Any, w: Weights) -> Run:
    kind = p.WhichOneof("NonlinearityType")
    fn = nonlinearity(kind, getattr(p, kind))
    return lambda xs: f32(fn(np.asarray(xs[0], dtype=np.float32)))

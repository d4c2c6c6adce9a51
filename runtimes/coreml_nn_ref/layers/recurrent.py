"""`uniDirectionalLSTM` (UniDirectionalLSTMLayerParams): the fused LSTM the converter emits for
MIL's `lstm` (a Keras 3 LSTM traced as BlockLSTMV2, harness/export/recurrent.py).

Per NeuralNetwork.proto (LSTMParams' equations): gates i, f, o = f(clip(W x_t + R y_{t-1} +
b)), block input z = g(clip(W_z x_t + R_z y_{t-1} + b_z)), c_t = f_t * c_{t-1} + i_t * z_t,
y_t = h(c_t) * o_t; matrices W [out, in] and R [out, out], row-major; `clip` bounds a
pre-activation to [-50, 50] ("a function that constrains values between [-50.0, 50.0]"), and
`cellClipThreshold` bounds c_t (0 means 50; the converter writes 500). Keras clips neither: a
cell past the bound is a real divergence and shows as one. `forgetBias` adds 1 to b_f.
Input [Seq, Batch, inputVectorSize, 1, 1] and optional y_0, c_0 [1, Batch, out, 1, 1];
outputs y (all steps when `sequenceOutput`, else the last), y_T and c_T, same rank.
Peepholes and coupled input/forget gates are refused (the converter does not emit them here).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_nn_ref.layers.activations import nonlinearity
from runtimes.coreml_nn_ref.layers.registry import Run, UnsupportedLayer, Weights, f32, layer

GATES = (("inputGate", "i"), ("forgetGate", "f"), ("blockInput", "z"), ("outputGate", "o"))
PRE_ACTIVATION_CLIP = 50.0


@layer()
def uniDirectionalLSTM(p: Any, w: Weights) -> Run:
    q, wp = p.params, p.weightParams
    if q.hasPeepholeVectors or q.coupledInputAndForgetGate:
        raise UnsupportedLayer("LSTM peepholes / coupled input-forget gates are not implemented")
    n_in, n_out = int(p.inputVectorSize), int(p.outputVectorSize)
    if len(p.activations) != 3:
        raise UnsupportedLayer(f"{len(p.activations)} LSTM activations; expected 3 (f, g, h)")
    f_act, g_act, h_act = (nonlinearity(a.WhichOneof("NonlinearityType"), a) for a in p.activations)
    # one [in, 4*out] and one [out, 4*out] matrix, gates in (i, f, z, o) order: two matmuls per step
    kernel = np.concatenate([w(getattr(wp, f"{g}WeightMatrix"), (n_out, n_in), f"LSTM W_{s}").T for g, s in GATES], 1)
    recur = np.concatenate(
        [w(getattr(wp, f"{g}RecursionMatrix"), (n_out, n_out), f"LSTM R_{s}").T for g, s in GATES], 1
    )
    bias = np.zeros(4 * n_out, dtype=np.float32)
    if q.hasBiasVectors:
        bias = np.concatenate([w(getattr(wp, f"{g}BiasVector"), (n_out,), f"LSTM b_{s}") for g, s in GATES])
    if q.forgetBias:
        bias[n_out : 2 * n_out] += 1
    cell_clip = float(q.cellClipThreshold) or 50.0

    def gate(x: np.ndarray, act: Any) -> np.ndarray:
        return f32(act(np.clip(x, -PRE_ACTIVATION_CLIP, PRE_ACTIVATION_CLIP)))

    def run(xs: list[np.ndarray]) -> list[np.ndarray]:
        x = xs[0]
        if x.ndim < 3 or int(np.prod(x.shape[2:])) != n_in:
            raise UnsupportedLayer(f"LSTM input {list(x.shape)} for {n_in} input features")
        steps, batch, tail = x.shape[0], x.shape[1], (1,) * (x.ndim - 3)
        seq = x.reshape(steps, batch, n_in)
        h = xs[1].reshape(batch, n_out) if len(xs) > 1 else np.zeros((batch, n_out), np.float32)
        c = xs[2].reshape(batch, n_out) if len(xs) > 2 else np.zeros((batch, n_out), np.float32)
        order = range(steps - 1, -1, -1) if p.reverseInput else range(steps)
        outs = np.empty((steps, batch, n_out), np.float32)
        pre_in = seq.reshape(-1, n_in) @ kernel + bias  # the input half of every step at once
        pre_in = pre_in.reshape(steps, batch, 4 * n_out)
        for t in order:
            pre = pre_in[t] + h @ recur
            i, f, z, o = np.split(pre, 4, axis=1)
            c = np.clip(gate(f, f_act) * c + gate(i, f_act) * gate(z, g_act), -cell_clip, cell_clip)
            h = f32(h_act(c)) * gate(o, f_act)
            outs[t] = h
        y = outs if q.sequenceOutput else h[None]
        return [y.reshape(y.shape + tail), h.reshape((1, batch, n_out) + tail), c.reshape((1, batch, n_out) + tail)]

    return run

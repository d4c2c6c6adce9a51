"""`convolution` (ConvolutionLayerParams): 2-D, grouped, strided, dilated, valid or same padding.

Input [.., C_in, H, W] (leading axes beyond the fourth from the end are batch); weights
[C_out, C_in / nGroups, kH, kW]; padding per ValidPadding's `paddingAmounts` (explicit borders)
or SamePadding's asymmetry mode, with the output size the proto gives (ceil(H / stride)) and
the dilated kernel extent. A Keras Conv1D arrives as a [1, k] kernel on an expanded axis.
Deconvolution and a second (weights) input are refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_nn_ref.layers.registry import Run, UnsupportedLayer, Weights, f32, layer


def _same(size: int, stride: int, extent: int, *, top_left_heavy: bool) -> tuple[int, int]:
    out = -(-size // stride)
    total = max(0, (out - 1) * stride + extent - size)
    small = total // 2
    return (total - small, small) if top_left_heavy else (small, total - small)


@layer()
def convolution(p: Any, w: Weights) -> Run:
    if p.isDeconvolution:
        raise UnsupportedLayer("deconvolution is not implemented")
    groups = max(1, int(p.nGroups))
    kh, kw = (int(k) for k in (list(p.kernelSize) or [3, 3]))
    sh, sw = (int(s) for s in (list(p.stride) or [1, 1]))
    dh, dw = (int(d) for d in (list(p.dilationFactor) or [1, 1]))
    c_out, k_in = int(p.outputChannels), int(p.kernelChannels)
    kernel = w(p.weights, (c_out, k_in, kh, kw), "convolution weights")
    bias = w(p.bias, (c_out,), "convolution bias") if p.hasBias else None
    kind = p.WhichOneof("ConvolutionPaddingType")
    if kind == "valid":
        borders = [(int(b.startEdgeSize), int(b.endEdgeSize)) for b in p.valid.paddingAmounts.borderAmounts]
        borders = (borders + [(0, 0), (0, 0)])[:2]
    elif kind != "same":
        raise UnsupportedLayer(f"convolution padding {kind!r}")

    def run(xs: list[np.ndarray]) -> np.ndarray:
        if len(xs) != 1:
            raise UnsupportedLayer("convolution with a weights input is not implemented")
        x = xs[0]
        if x.ndim < 4 or x.shape[-3] != k_in * groups:
            raise UnsupportedLayer(f"convolution input {list(x.shape)} for {k_in * groups} channels")
        lead = x.shape[:-3]
        x = x.reshape((-1,) + x.shape[-3:])
        if kind == "same":
            heavy = p.same.asymmetryMode == 1  # TOP_LEFT_HEAVY
            pads = [
                _same(x.shape[2], sh, (kh - 1) * dh + 1, top_left_heavy=heavy),
                _same(x.shape[3], sw, (kw - 1) * dw + 1, top_left_heavy=heavy),
            ]
        else:
            pads = borders
        x = np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))
        h_out = (x.shape[2] - (kh - 1) * dh - 1) // sh + 1
        w_out = (x.shape[3] - (kw - 1) * dw - 1) // sw + 1
        if h_out < 1 or w_out < 1:
            raise UnsupportedLayer(f"convolution of a {list(x.shape[2:])} input by a {kh}x{kw} kernel leaves nothing")
        per = c_out // groups
        parts = []
        for g in range(groups):
            xg = x[:, g * k_in : (g + 1) * k_in]
            acc = np.zeros((per, x.shape[0], h_out, w_out), dtype=np.float32)  # [C_out, B, H, W]
            for i in range(kh):  # one BLAS matmul per kernel tap, over the input channels
                for j in range(kw):
                    patch = xg[
                        :, :, i * dh : i * dh + (h_out - 1) * sh + 1 : sh, j * dw : j * dw + (w_out - 1) * sw + 1 : sw
                    ]
                    acc += np.tensordot(kernel[g * per : (g + 1) * per, :, i, j], patch, axes=([1], [1]))
            parts.append(acc)
        out = np.concatenate(parts, axis=0) if groups > 1 else parts[0]
        out = out.transpose(1, 0, 2, 3)
        if bias is not None:
            out = out + bias[:, None, None]
        return f32(out.reshape(lead + out.shape[1:]))

    return run

"""max_pool, avg_pool and l2_pool over 1-3 spatial dims of [N, C, *S].

ceil_mode is "Same as PyTorch's ceil mode" (iOS15 docstring): the output length is
floor((D + pads - k + s - 1) / s) + 1, minus one when the last window would start inside the
right padding; a window that runs past the padded input sees only what is inside it (a max
ignores the rest; an average divides by the positions inside the padded input, or by the real
elements with exclude_padding_from_average), as torch.nn.{Max,Avg}Pool do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, ints, op, widen
from runtimes.coreml_ref.ops.windows import pads_for, windows


def _extra(size: int, pads: tuple[int, int], k: int, *, s: int, ceil_mode: bool) -> int:
    """How many positions past the padded input the last window reaches (0 without ceil_mode)."""
    total = size + pads[0] + pads[1]
    if not ceil_mode:
        return 0
    out = (total - k + s - 1) // s + 1
    if (out - 1) * s >= size + pads[0] and (pads[0] or pads[1]):
        out -= 1
    return max(0, (out - 1) * s + k - total)


def _pool(
    x: Any, kernel_sizes: Any, strides: Any, *, pad_type: Any, pad: Any, ceil_mode: Any, fill: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...], tuple[int, ...]]:
    """x padded with `fill` (and -inf past the end in ceil mode), plus two 0/1 masks the same
    shape: inside the padded input, and inside the real input."""
    x = widen(x).astype(np.float32, copy=False)
    kernel = ints(kernel_sizes)
    strides_ = ints(strides) if strides is not None else (1,) * len(kernel)
    pad_type, ceil = str(pad_type), bool(ceil_mode)
    if ceil and pad_type not in ("valid", "custom"):
        raise Unsupported(f"ceil_mode with pad_type {pad_type!r} (only valid or custom, per the docstring)")
    pads = pads_for(pad_type, pad, x.shape[2:], kernel=kernel, strides=strides_)
    if ceil and any(a != b for a, b in pads):
        raise Unsupported(f"ceil_mode with asymmetric pad {pads}")
    extra = [
        _extra(n, p, k, s=s, ceil_mode=ceil) for n, p, k, s in zip(x.shape[2:], pads, kernel, strides_, strict=True)
    ]
    spatial = x.shape[2:]
    full = [(0, 0), (0, 0)] + [(a, b + e) for (a, b), e in zip(pads, extra, strict=True)]
    real = np.pad(np.ones((1, 1, *spatial), np.float32), full)
    padded = np.pad(np.ones((1, 1, *spatial), np.float32), [(0, 0), (0, 0), *pads], constant_values=1.0)
    padded = np.pad(padded, [(0, 0), (0, 0)] + [(0, e) for e in extra])
    xp = np.pad(x, [(0, 0), (0, 0), *pads], constant_values=fill)
    xp = np.pad(xp, [(0, 0), (0, 0)] + [(0, e) for e in extra], constant_values=-np.inf if fill == -np.inf else 0.0)
    return xp, padded, real, kernel, strides_


def _sum(a: np.ndarray, kernel: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    return windows(a, kernel, strides, dilations=(1,) * len(kernel)).sum(
        axis=tuple(range(-len(kernel), 0)), dtype=np.float32
    )


@op()
def max_pool(
    x: Any, kernel_sizes: Any, strides: Any = None, *, pad_type: Any = "valid", pad: Any = None, ceil_mode: Any = False
) -> np.ndarray:
    xp, _, _, kernel, strides_ = _pool(
        x, kernel_sizes, strides, pad_type=pad_type, pad=pad, ceil_mode=ceil_mode, fill=-np.inf
    )
    win = windows(xp, kernel, strides_, dilations=(1,) * len(kernel))
    return win.max(axis=tuple(range(-len(kernel), 0)))


@op()
def avg_pool(
    x: Any,
    kernel_sizes: Any,
    strides: Any = None,
    *,
    pad_type: Any = "valid",
    pad: Any = None,
    exclude_padding_from_average: Any = False,
    ceil_mode: Any = False,
) -> np.ndarray:
    """Padding counts as zeros in the average unless exclude_padding_from_average."""
    xp, padded, real, kernel, strides_ = _pool(
        x, kernel_sizes, strides, pad_type=pad_type, pad=pad, ceil_mode=ceil_mode, fill=0.0
    )
    count = real if bool(exclude_padding_from_average) else padded
    return _sum(xp, kernel, strides_) / _sum(count, kernel, strides_)


@op()
def l2_pool(
    x: Any, kernel_sizes: Any, strides: Any = None, *, pad_type: Any = "valid", pad: Any = None, ceil_mode: Any = False
) -> np.ndarray:
    """sqrt(sum of squares) over each window; padding is zeros. l2_pool's docstring does not list
    ceil_mode (the Pooling base class has it), so only ceil_mode=False is computed."""
    if bool(ceil_mode):
        raise Unsupported("l2_pool with ceil_mode=True (not in its docstring)")
    xp, _, _, kernel, strides_ = _pool(x, kernel_sizes, strides, pad_type=pad_type, pad=pad, ceil_mode=False, fill=0.0)
    return np.sqrt(_sum(xp * xp, kernel, strides_))

"""linear and matmul: float sums accumulate in float32 and round once; int32 sums in int64, then wrap."""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, is_int, op, widen


@op()
def linear(x: Any, weight: Any, bias: Any = None) -> np.ndarray:
    if is_int(x, weight):
        acc = np.asarray(x, np.int64) @ np.asarray(weight, np.int64).T
        return (acc if bias is None else acc + np.asarray(bias, np.int64)).astype(np.int32)
    out = widen(x).astype(np.float32, copy=False) @ widen(weight).astype(np.float32, copy=False).T
    return out if bias is None else out + widen(bias)


@op()
def matmul(x: Any, y: Any, transpose_x: Any = False, *, transpose_y: Any = False) -> np.ndarray:
    x, y = widen(x), widen(y)
    if bool(transpose_x) and x.ndim >= 2:
        x = np.swapaxes(x, -1, -2)
    if bool(transpose_y) and y.ndim >= 2:
        y = np.swapaxes(y, -1, -2)
    if is_int(x, y):
        return np.matmul(x.astype(np.int64), y.astype(np.int64)).astype(np.int32)
    return np.matmul(x.astype(np.float32, copy=False), y.astype(np.float32, copy=False))


def _einsum_letters(equation: str) -> tuple[str, str, str]:
    """'nchw,nwhu->nchu' -> its three letter groups; refused unless a two-input explicit form."""
    eq = equation.replace(" ", "")
    if eq.count("->") != 1 or eq.split("->")[0].count(",") != 1 or "." in eq:
        raise Unsupported(f"einsum equation {equation!r} (only two inputs with an explicit output)")
    ins, out = eq.split("->")
    a, b = ins.split(",")
    return a, b, out


@op()
def einsum(values: Any, equation: Any) -> np.ndarray:
    """Only the two forms the iOS15 docstring supports, up to renaming the letters:
    "nchw,nwhu->nchu" (rank 4) and "chw,whr->chr" (rank 3): matrices on dims -1 and -3, the others
    batch, with dims "B" and "H" broadcast when 1 in one input (as its value inference does)."""
    a, b, out = _einsum_letters(str(equation))
    pattern = [a.index(ch) if ch in a else len(a) + b.index(ch) for ch in a + b + out]
    rank4 = (len(a), len(b), len(out)) == (4, 4, 4) and pattern == [0, 1, 2, 3, 0, 3, 2, 7, 0, 1, 2, 7]
    rank3 = (len(a), len(b), len(out)) == (3, 3, 3) and pattern == [0, 1, 2, 2, 1, 5, 0, 1, 5]
    if len(set(a)) != len(a) or len(set(b)) != len(b) or not (rank4 or rank3):
        raise Unsupported(f"einsum equation {equation!r} (only 'nchw,nwhu->nchu' and 'chw,whr->chr' forms)")
    x, y = (widen(v).astype(np.float32, copy=False) for v in values)
    if rank4:  # [B, C, H, W1] x [B, W1, H, W2] -> [B, C, H, W2]
        bsz, h = max(x.shape[0], y.shape[0]), max(x.shape[2], y.shape[2])
        x = np.broadcast_to(x, (bsz, x.shape[1], h, x.shape[3]))
        y = np.broadcast_to(y, (bsz, y.shape[1], h, y.shape[3]))
        return np.matmul(x.transpose(0, 2, 1, 3), y.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    h = max(x.shape[1], y.shape[1])  # [C, H, W1] x [W1, H, W2] -> [C, H, W2]
    x = np.broadcast_to(x, (x.shape[0], h, x.shape[2]))
    y = np.broadcast_to(y, (y.shape[0], h, y.shape[2]))
    return np.matmul(x.transpose(1, 0, 2), y.transpose(1, 0, 2)).transpose(1, 0, 2)

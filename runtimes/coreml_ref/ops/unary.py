"""Elementwise unary math: each computes in float32 (numpy's float32 kernels) and rounds once.

Exceptions, where float32 numpy is not enough: erf has no numpy kernel and is computed in
float64 with `math.erf`. Ops with an `epsilon` input add it first, as their docstrings say
(`rsqrt`: 1 / sqrt(x + epsilon)); the loader supplies the op's default when a program omits it,
and the defaults here repeat the iOS15 ones for tests that call an op directly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, is_int, op, widen


@op(moves=True)
def identity(x: Any) -> np.ndarray:
    return np.asarray(x)


def _float_op(name: str, fn: Any) -> None:
    def run(x: Any) -> np.ndarray:
        if is_int(x):
            raise Unsupported(f"{name} on an int32 tensor")
        return fn(widen(x))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = f"numpy's float32 {fn.__name__}."
    op(name)(run)


for _name, _fn in {
    "exp": np.exp,
    "exp2": np.exp2,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "atanh": np.arctanh,
    "floor": np.floor,
    "ceil": np.ceil,
}.items():
    _float_op(_name, _fn)


@op()
def abs_(x: Any) -> np.ndarray:
    return np.abs(widen(x))  # int32: abs(-2**31) wraps to itself, as two's complement does


@op()
def sign(x: Any) -> np.ndarray:
    return np.sign(widen(x))


@op()
def square(x: Any) -> np.ndarray:
    return np.square(widen(x))


@op()
def round_(x: Any) -> np.ndarray:
    """ "Round to nearest integer ... 0.5 is rounded to 0" (iOS15 docstring): ties are only
    specified at +-0.5, where half-to-even and half-toward-zero agree; any other tie is refused."""
    x = widen(x)
    a = np.abs(x)
    if np.any((a - np.floor(a) == 0.5) & (a > 1)):
        raise Unsupported("round of a tie other than +-0.5 (the spec does not say which way)")
    return np.round(x)


@op()
def rsqrt(x: Any, epsilon: Any = 1e-12) -> np.ndarray:
    return np.float32(1) / np.sqrt(widen(x) + widen(epsilon))


@op()
def inverse(x: Any, epsilon: Any = 1e-4) -> np.ndarray:
    return np.float32(1) / (widen(x) + widen(epsilon))


@op()
def log(x: Any, epsilon: Any = 1e-45) -> np.ndarray:
    return np.log(widen(x) + widen(epsilon))


@op()
def threshold(x: Any, alpha: Any) -> np.ndarray:
    """max(x, alpha) (iOS15 docstring: "Set a lower bound alpha to the values in the input x")."""
    return np.maximum(widen(x), widen(alpha))


@op()
def clip(x: Any, alpha: Any, beta: Any) -> np.ndarray:
    return np.minimum(np.maximum(widen(x), widen(alpha)), widen(beta))


_erf = np.frompyfunc(math.erf, 1, 1)


def erf64(x: np.ndarray) -> np.ndarray:
    return _erf(np.asarray(x, dtype=np.float64)).astype(np.float64)


@op()
def erf(x: Any) -> np.ndarray:
    return erf64(x)

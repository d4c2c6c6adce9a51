"""Elementwise binary ops (numpy broadcasting, as the MIL spec says), comparisons, logic, select.

Arithmetic on float inputs computes in float32 and the evaluator rounds once (see the package
docstring: for add, sub, mul and real_div that equals IEEE float16 arithmetic). Integer
arithmetic is int32 with two's-complement wrap-around; where the spec leaves an integer result
undefined (division by zero, negative powers), the op refuses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, is_int, op, widen


@op()
def add(x: Any, y: Any) -> np.ndarray:
    return np.add(widen(x), widen(y))


@op()
def sub(x: Any, y: Any) -> np.ndarray:
    return np.subtract(widen(x), widen(y))


@op()
def mul(x: Any, y: Any) -> np.ndarray:
    return np.multiply(widen(x), widen(y))


@op()
def real_div(x: Any, y: Any) -> np.ndarray:
    if is_int(x, y):
        raise Unsupported("real_div on int32 tensors (the spec does not say how the quotient is rounded)")
    return np.divide(widen(x), widen(y))


def _int_divisor(y: Any, name: str) -> None:
    if np.any(np.asarray(y) == 0):
        raise Unsupported(f"{name} of int32 by zero (undefined)")


@op()
def floor_div(x: Any, y: Any) -> np.ndarray:
    """ "x / y rounded towards negative infinity" (iOS15 docstring; value inference is Python's //)."""
    if is_int(x, y):
        _int_divisor(y, "floor_div")
        return np.floor_divide(np.asarray(x, np.int64), np.asarray(y, np.int64)).astype(np.int32)
    return np.floor_divide(widen(x), widen(y))  # the floor of the exact quotient, as Python's //


@op()
def mod(x: Any, y: Any) -> np.ndarray:
    """Python's `%` (value inference is operator.mod): the result takes the divisor's sign."""
    if is_int(x, y):
        _int_divisor(y, "mod")
        return np.mod(np.asarray(x, np.int64), np.asarray(y, np.int64)).astype(np.int32)
    return np.mod(widen(x), widen(y))


@op()
def maximum(x: Any, y: Any) -> np.ndarray:
    return np.maximum(widen(x), widen(y))


@op()
def minimum(x: Any, y: Any) -> np.ndarray:
    return np.minimum(widen(x), widen(y))


@op()
def pow_(x: Any, y: Any) -> np.ndarray:
    if is_int(x, y):
        raise Unsupported("pow on int32 tensors")
    return np.power(widen(x), widen(y))


@op()
def less(x: Any, y: Any) -> np.ndarray:
    return np.less(x, y)


@op()
def less_equal(x: Any, y: Any) -> np.ndarray:
    return np.less_equal(x, y)


@op()
def greater(x: Any, y: Any) -> np.ndarray:
    return np.greater(x, y)


@op()
def greater_equal(x: Any, y: Any) -> np.ndarray:
    return np.greater_equal(x, y)


@op()
def equal(x: Any, y: Any) -> np.ndarray:
    return np.equal(x, y)


@op()
def not_equal(x: Any, y: Any) -> np.ndarray:
    return np.not_equal(x, y)


@op()
def logical_and(x: Any, y: Any) -> np.ndarray:
    return np.logical_and(x, y)


@op()
def logical_or(x: Any, y: Any) -> np.ndarray:
    return np.logical_or(x, y)


@op()
def logical_xor(x: Any, y: Any) -> np.ndarray:
    return np.logical_xor(x, y)


@op()
def logical_not(x: Any) -> np.ndarray:
    return np.logical_not(x)


@op(moves=True)
def select(cond: Any, a: Any, b: Any) -> np.ndarray:
    return np.where(np.asarray(cond, dtype=bool), a, b)

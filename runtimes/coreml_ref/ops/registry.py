"""The op table and what every op module shares: registration, refusal, and input helpers.

Each op is a plain function whose keyword arguments are the MIL op's inputs (names and
defaults as in coremltools' op definitions); `@op()` files it under its MIL name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

OpFn = Callable[..., Any]
OPS: dict[str, OpFn] = {}
WANTS_OPSET: set[str] = set()  # ops whose meaning changed between opsets get `opset=<iOS major>`
# Ops that only move or select values: their result has x's dtype without any arithmetic, so the
# evaluator does not widen their float16 constants (a gathered fp16 table stays fp16).
DATA_MOVEMENT: set[str] = set()


class Unsupported(Exception):
    """The op, or this use of it, is not implemented; never approximated."""


def op(*names: str, opset: bool = False, moves: bool = False) -> Callable[[OpFn], OpFn]:
    """Register under `names` (default: the function name without a trailing `_`).
    `opset`: the op also gets `opset=<iOS major>`; `moves`: a data-movement op (see above)."""

    def register(fn: OpFn) -> OpFn:
        for name in names or (fn.__name__.rstrip("_"),):
            OPS[name] = fn
            if opset:
                WANTS_OPSET.add(name)
            if moves:
                DATA_MOVEMENT.add(name)
        return fn

    return register


def widen(x: Any) -> np.ndarray:
    """Float tensors widened to float32 (exact for float16); integer and bool tensors as given."""
    x = np.asarray(x)
    return x.astype(np.float32) if x.dtype == np.float16 else x


def ints(v: Any) -> tuple[int, ...]:
    """An int tensor (or scalar) as a flat tuple of Python ints."""
    return tuple(int(i) for i in np.asarray(v).reshape(-1))


def bools(v: Any, n: int) -> list[bool]:
    """A bool mask input, `n` False when absent."""
    return [bool(b) for b in np.asarray(v).reshape(-1)] if v is not None else [False] * n


def is_int(*xs: Any) -> bool:
    return all(np.issubdtype(np.asarray(x).dtype, np.integer) for x in xs)


def is_float(x: Any) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def axis_of(axis: Any, rank: int) -> int:
    """A (possibly negative) axis in [-rank, rank) as a non-negative one; refused outside."""
    a = int(axis)
    if not -rank <= a < max(rank, 1):
        raise Unsupported(f"axis {a} for a rank-{rank} tensor")
    return a % max(rank, 1)

"""The worker's wire format: one JSON object per line each way, arrays as base64 `.npy`.

Shared by both ends (standard library and numpy only). `.npy` keeps dtype and shape exactly,
so an int32 batch and the engine's float32 scores cross the pipe bit for bit.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any, BinaryIO

import numpy as np

ARRAY_KEY = "__npy__"


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(value), allow_pickle=False)
        return {ARRAY_KEY: base64.b64encode(buf.getvalue()).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {ARRAY_KEY}:
            return np.load(io.BytesIO(base64.b64decode(value[ARRAY_KEY])), allow_pickle=False)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    """One message, one line, flushed (the other end blocks on readline)."""
    stream.write(json.dumps(_encode(message), allow_nan=False).encode("utf-8") + b"\n")
    stream.flush()


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message, or None when the other end closed the pipe."""
    line = stream.readline()
    if not line:
        return None
    message = _decode(json.loads(line))
    if not isinstance(message, dict):
        raise ValueError(f"expected a JSON object per line, got {type(message).__name__}")
    return message

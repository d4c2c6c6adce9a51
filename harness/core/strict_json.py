"""JSON the harness writes is strict JSON: never NaN or Infinity.

Python's `json` writes `NaN` and `Infinity` by default, which jq, `JSON.parse` and most
parsers elsewhere refuse, so one non-finite figure would make a whole line or file unreadable.
A non-finite score is that runtime's failure upstream (runtimes/base.py); any other measured
number that is not finite (a diff of a failed comparison, a figure that could not be taken)
becomes `null` here, and `allow_nan=False` makes anything that slips past an error, not output.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(obj: Any) -> Any:
    """`obj` with every non-finite float (at any depth of dicts, lists and tuples) as None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """`json.dumps` of `obj` with non-finite floats as null; never writes NaN or Infinity."""
    return json.dumps(finite(obj), allow_nan=False, **kwargs)

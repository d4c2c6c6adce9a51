"""Token ids stored as float16: which survive, and what that explains.

TF.js's webgl backend keeps every tensor in textures; on a GPU that cannot render to float32
(many phones; `tfjs-webgl16` here) they are half-float textures, and that includes the int32
token ids. float16 holds every integer up to 2048 exactly and only every 2nd, 4th, 8th... one
above (11 significant bits), so an id above 2048 reaches the embedding lookup as a neighbour's
id: the model reads another word. No tolerance absorbs that; this module names it, from the ids
themselves, so a failing row says why instead of only how far off it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EXACT_MAX = 2048  # 2**11: the largest n such that every integer in [0, n] is exact in float16


def rounded(ids: np.ndarray) -> np.ndarray:
    """Per id: True where float16 storage turns it into another id."""
    ids = np.asarray(ids)
    return ids.astype(np.float16).astype(np.int64) != ids


def rows_with_rounded_ids(ids: np.ndarray) -> np.ndarray:
    """Per review ([N, L] ids): True where at least one of its ids is not what the lookup receives."""
    return rounded(ids).reshape(len(ids), -1).any(axis=1)


def vocabulary_warning(vocab_size: int) -> str:
    """The warning for a model that will ship on webgl, or "" when float16 storage cannot change its ids."""
    lost = int(rounded(np.arange(vocab_size)).sum())
    if lost == 0:
        return ""
    return (
        f"vocabulary of {vocab_size} ids: on webgl without float32 render targets (phones; tfjs-webgl16) the "
        f"ids are stored as float16, which rounds {lost} of them (every id above {EXACT_MAX} but the "
        "representable ones) to another id before the embedding lookup; ship it on wasm or cpu there, or keep "
        f"the vocabulary to {EXACT_MAX + 1} ids (docs/phones.md)"
    )


def explain(ids: np.ndarray, reference: np.ndarray, scores: np.ndarray, *, atol: float) -> dict[str, Any]:
    """How much of a runtime's disagreement the rounded ids account for: the reviews that hold one,
    and the largest |diff| with and without them (the cause is the ids when the reviews without
    any are within `atol` and some with one are not)."""
    affected = rows_with_rounded_ids(ids)
    diff = np.abs(np.asarray(scores, dtype=np.float64) - np.asarray(reference, dtype=np.float64))
    with_ids = float(diff[affected].max()) if affected.any() else 0.0
    without = float(diff[~affected].max()) if (~affected).any() else 0.0
    explained = bool(affected.any()) and with_ids > atol >= without
    out: dict[str, Any] = {
        "reviews": int(len(affected)),
        "reviews_with_rounded_ids": int(affected.sum()),
        "max_abs_diff_with_rounded_ids": round(with_ids, 7),
        "max_abs_diff_without": round(without, 7),
        "explained": explained,
    }
    out["cause"] = (
        f"ids above {EXACT_MAX} rounded before the lookup (float16 textures): {out['reviews_with_rounded_ids']} of "
        f"{out['reviews']} reviews hold one (max |diff| {with_ids:.3g}); the others are within {without:.2g}"
        if explained
        else ""
    )
    return out

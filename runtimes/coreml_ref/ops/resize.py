"""Spatial resizing of the last two dims: crop, nearest-neighbour by whole factors, bilinear.

Bilinear samples the grid points the docstrings give per sampling mode (resize_bilinear's
Notes; upsample_bilinear's align_corners) and interpolates linearly between the two nearest
input positions, one axis after the other. Nearest-neighbour never says which neighbour a
fractional position takes, so only whole-number factors (each input repeated) are computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, ints, op, widen


def _spatial(x: Any, what: str) -> np.ndarray:
    x = widen(x)
    if x.ndim < 3:
        raise Unsupported(f"{what} of a rank-{x.ndim} tensor (needs rank >= 3)")
    return x


@op(moves=True)
def crop(x: Any, crop_height: Any, crop_width: Any) -> np.ndarray:
    x = np.asarray(x)
    (t, b), (left, r) = ints(crop_height), ints(crop_width)
    h, w = x.shape[-2:]
    if min(t, b, left, r) < 0 or t + b > h or left + r > w:
        raise Unsupported(f"crop {[t, b]}, {[left, r]} of {[h, w]}")
    return x[..., t : h - b, left : w - r]


def _repeat(x: np.ndarray, fh: Any, fw: Any, *, what: str) -> np.ndarray:
    sh, sw = float(fh), float(fw)
    if sh != int(sh) or sw != int(sw) or sh < 1 or sw < 1:
        raise Unsupported(f"{what} by {sh} x {sw} (which neighbour a fractional position takes is unspecified)")
    return np.repeat(np.repeat(x, int(sh), axis=-2), int(sw), axis=-1)


@op(moves=True)
def upsample_nearest_neighbor(x: Any, scale_factor_height: Any = 1, scale_factor_width: Any = 1) -> np.ndarray:
    return _repeat(
        np.asarray(_spatial(x, "upsample_nearest_neighbor")),
        scale_factor_height,
        scale_factor_width,
        what="upsample_nearest_neighbor",
    )


@op(moves=True)
def resize_nearest_neighbor(x: Any, target_size_height: Any, target_size_width: Any) -> np.ndarray:
    x = np.asarray(_spatial(x, "resize_nearest_neighbor"))
    (h, w), th, tw = x.shape[-2:], int(target_size_height), int(target_size_width)
    if th % h or tw % w:
        raise Unsupported(f"resize_nearest_neighbor {[h, w]} -> {[th, tw]} (not whole factors)")
    return _repeat(x, th // h, tw // w, what="resize_nearest_neighbor")


def _grid(n_in: int, n_out: int, mode: str) -> np.ndarray:
    """Sample positions in input coordinates (resize_bilinear's Notes, clamped to [0, n_in - 1])."""
    i = np.arange(n_out, dtype=np.float64)
    if n_in == 1 and mode in ("STRICT_ALIGN_CORNERS", "ALIGN_CORNERS", "DEFAULT", "OFFSET_CORNERS", "UNALIGN_CORNERS"):
        return np.zeros(n_out)  # every mode clamps to the one input position
    if mode in ("STRICT_ALIGN_CORNERS", "ALIGN_CORNERS"):
        if n_out == 1:
            if mode == "STRICT_ALIGN_CORNERS":
                raise Unsupported("STRICT_ALIGN_CORNERS to a size of 1 (spacing (n - 1) / 0)")
            g = np.array([(n_in - 1) / 2])
        else:
            g = i * ((n_in - 1) / (n_out - 1))
    elif mode == "DEFAULT":
        g = i * ((n_in - n_in / n_out) / (n_out - 1)) if n_out > 1 else np.zeros(1)
    elif mode == "OFFSET_CORNERS":
        delta = max(1, n_in - 1) / n_out
        g = 0.5 * delta + i * delta
    elif mode == "UNALIGN_CORNERS":
        spacing = n_in / n_out
        g = i * spacing + 0.5 * spacing - 0.5
    else:
        raise Unsupported(f"sampling_mode {mode!r}")
    return np.clip(g, 0, n_in - 1)


def _lerp(x: np.ndarray, grid: np.ndarray, axis: int) -> np.ndarray:
    lo = np.floor(grid).astype(np.int64)
    hi = np.minimum(lo + 1, x.shape[axis] - 1)
    w = (grid - lo).reshape([-1 if a == axis % x.ndim else 1 for a in range(x.ndim)])
    return np.take(x, lo, axis=axis) * (1 - w) + np.take(x, hi, axis=axis) * w


def _bilinear(x: np.ndarray, th: int, tw: int, *, mode: str) -> np.ndarray:
    h, w = x.shape[-2:]
    y = _lerp(x.astype(np.float64), _grid(h, th, mode), -2)
    return _lerp(y, _grid(w, tw, mode), -1)


@op()
def resize_bilinear(
    x: Any, target_size_height: Any = 1, target_size_width: Any = 1, *, sampling_mode: Any = "DEFAULT"
) -> np.ndarray:
    x = _spatial(x, "resize_bilinear")
    return _bilinear(x, int(target_size_height), int(target_size_width), mode=str(sampling_mode))


@op()
def upsample_bilinear(
    x: Any,
    scale_factor_height: Any = 1,
    scale_factor_width: Any = 1,
    *,
    align_corners: Any = True,
    half_pixel_centers: Any = None,
) -> np.ndarray:
    """Output floor(H * scale) x floor(W * scale); align_corners is ALIGN_CORNERS' grid, else
    UNALIGN_CORNERS' (half-pixel centres); iOS16's half_pixel_centers only as its default."""
    x = _spatial(x, "upsample_bilinear")
    align = bool(align_corners)
    if half_pixel_centers is not None and bool(half_pixel_centers) == align:
        raise Unsupported(f"upsample_bilinear align_corners={align} with half_pixel_centers={bool(half_pixel_centers)}")
    h, w = x.shape[-2:]
    th, tw = int(np.floor(h * float(scale_factor_height))), int(np.floor(w * float(scale_factor_width)))
    mode = "STRICT_ALIGN_CORNERS" if align else "UNALIGN_CORNERS"
    return _bilinear(x, th, tw, mode=mode)

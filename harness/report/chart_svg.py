"""The drawing machinery every report chart shares: style, memo, figure, SVG clean-up.

A kept plotting library instead of a hand-written one: axes, log scales, ticks and layout
are matplotlib's. What the page needs on top is done once, in `inline_svg`: text stays text
(svg.fonttype "none", so it is searchable and tests can read it), ids are salted per chart
(svg.hashsalt) so output is byte-identical run to run and ids never collide across charts,
no metadata or date is written, and the XML prolog, namespaces (URLs) and auto-generated
group ids are dropped and coordinates rounded to 0.1 pt, so the page stays small and needs
nothing from anywhere. No pyplot and no Agg: each figure gets its own FigureCanvasSVG, so
nothing global (the backend, rcParams) changes for the rest of the process.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import pickle
import re
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
from markupsafe import Markup, escape
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#6b6b6b", "#8c564b", "#bcbd22", "#17becf")
BLUE, PASS, FAIL, MUTED, INK, SUB = PALETTE[0], "#1a7f37", "#cf222e", "#8c959f", "#24292f", "#57606a"
STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "svg.image_inline": True,
    "path.simplify": True,
    "text.parse_math": False,
    "font.family": ["DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.edgecolor": MUTED,
    "axes.linewidth": 0.8,
    "axes.labelcolor": SUB,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#eaeef2",
    "grid.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": SUB,
    "ytick.labelcolor": SUB,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
}
NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


_DRAWN: dict[bytes, Markup | None] = {}


def memo(chart: Callable[..., Markup | None]) -> Callable[..., Markup | None]:
    """Charts are pure and deterministic, so the same inputs give the same SVG: a process that
    renders one report twice (the test suite, a merge then its sign-off) draws each chart once."""

    @functools.wraps(chart)
    def drawn(*args: object, **kwargs: object) -> Markup | None:
        key = hashlib.blake2b(pickle.dumps((chart.__name__, args, kwargs)), digest_size=16).digest()
        if key not in _DRAWN:
            if len(_DRAWN) >= 64:
                _DRAWN.clear()
            _DRAWN[key] = chart(*args, **kwargs)
        return _DRAWN[key]

    return drawn


def forget() -> None:
    """Draw every chart again from now on (benchmarks, the no-Agg test)."""
    _DRAWN.clear()


def figure(
    width: float,
    height: float,
    *,
    left: float = 1.3,
    right: float = 3.0,
    top: float = 0.1,
    bottom: float = 0.4,
    **grid: float,
) -> Figure:
    """A figure with fixed margins in inches (labels left, notes right): a layout engine would
    measure every text several times, which tripled the render time."""
    fig = Figure(figsize=(width, height))
    FigureCanvasSVG(fig)  # text is measured by the SVG canvas: no Agg renderer anywhere
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height, **grid
    )
    return fig


_GEOMETRY = re.compile(r'\b(d|x|y|x1|x2|y1|y2|width|height|points|transform)="([^"]*)"')
_NUMBER = re.compile(r"-?\d+\.\d+")


def _round(attr: re.Match[str]) -> str:
    """Geometry to 0.1 pt; path data in its short form ("M1 2h0" for a dot, no space after a command)."""
    name, value = attr.group(1), _NUMBER.sub(lambda n: f"{float(n.group()):.1f}".rstrip("0").rstrip("."), attr.group(2))
    value = " ".join(value.split())
    if name == "d":
        value = _DOT.sub(r"M\1 \2h0", value)
        value = re.sub(r" ?([MLCQ]) ", r"\1", value).replace(" z", "z").replace("h0 M", "h0M")
    return f'{name}="{value}"'


_DOT = re.compile(r"M (\S+) (\S+) L \1 \2(?= M|$)")


def inline_svg(fig: Figure, key: str, label: str) -> Markup:
    """The figure as inline SVG: deterministic, small, no URL, no prolog, no metadata."""
    out = io.StringIO()
    with mpl.rc_context({**STYLE, "svg.hashsalt": f"harness-report-{key}"}):
        fig.savefig(out, format="svg", metadata=NO_METADATA)
    text = out.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r'\s(?:xmlns(?::xlink)?|version)="[^"]*"', "", text, count=3)
    text = text.replace("<svg ", f'<svg class="chart" role="img" aria-label="{escape(label)}" ', 1)
    text = re.sub(r'<g id="[^"]*"', "<g", text)  # figure_1, axes_1, ...: repeated in every chart
    text = re.sub(r"font-family: [^;\"]*;? ?", "", text)  # the page's CSS picks the font
    text = re.sub(r' transform="rotate\(-?0 [^"]*\)"', "", text)  # no-op rotations on every label
    text = _GEOMETRY.sub(_round, text)
    text = re.sub(r">\s+<", "><", text)
    return Markup(text.strip())


def note(ax, y: float, text: str, *, bad: bool, transform=None) -> None:
    ax.text(
        1.01,
        y,
        text,
        transform=transform or ax.transAxes,
        ha="left",
        va="center",
        fontsize=7.5,
        color=FAIL if bad else SUB,
        fontweight="bold" if bad else "normal",
        clip_on=False,
    )


def log_label(v: float, _pos: object = None) -> str:
    e = round(math.log10(v)) if v > 0 else 0
    return f"{v:g}" if -2 <= e <= 3 else f"1e{e}"

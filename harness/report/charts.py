"""The report's charts: what each one shows, drawn through chart_svg's shared machinery.

Functions take plain data (the views decide what to plot) and return the SVG as Markup,
or None when there is nothing to draw; each is memoized on its inputs (`memo`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
from markupsafe import Markup
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

from harness.report.chart_svg import (
    BLUE,
    FAIL,
    INK,
    MUTED,
    PASS,
    STYLE,
    SUB,
    figure,
    inline_svg,
    log_label,
    memo,
    note,
)
from harness.report.fmt import nbytes

ZERO_BIN = -10.0  # where the histogram puts exact zeros, in log10(|diff|) units (left of 1e-9)


# ---- scores --------------------------------------------------------------------------------


@dataclass
class ScorePanel:
    label: str
    reference: Sequence[float | None]
    scores: Sequence[float | None]
    atol: float | None
    note: str


def _dots(ax, xs: list[float], ys: list[float], *, color: str, width: float, alpha: float) -> None:
    """Points as zero-length round-capped segments of one path, one per 1/160 cell (about a point): a thousand
    cases cost a few kB instead of one <use> element each."""
    cells = dict.fromkeys((round(x * 160), round(y * 160)) for x, y in zip(xs, ys, strict=True))
    px: list[float] = []
    py: list[float] = []
    for cx, cy in cells:
        px += [cx / 160, cx / 160, math.nan]
        py += [cy / 160, cy / 160, math.nan]
    if px:
        with mpl.rc_context({"path.simplify": False}):  # keep the zero-length segments
            ax.plot(px, py, color=color, lw=width, alpha=alpha, solid_capstyle="round")


@memo
def scores(panels: Sequence[ScorePanel], reference_id: str) -> Markup | None:
    """Each runtime's held-out scores (y) against the reference's (x), y = x dashed."""
    if not panels:
        return None
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    with mpl.rc_context(STYLE):
        fig = figure(2.2 * cols, 2.2 * rows, left=0.3, right=0.05, top=0.25, bottom=0.4, wspace=0.3, hspace=0.45)
        axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True).ravel()
        for ax, p in zip(axes, panels, strict=False):
            good: tuple[list[float], list[float]] = ([], [])
            bad: tuple[list[float], list[float]] = ([], [])
            for x, y in zip(p.reference, p.scores, strict=False):
                if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
                    continue
                into = bad if p.atol is not None and abs(y - x) > p.atol else good
                into[0].append(x)
                into[1].append(y)
            ax.plot([0, 1], [0, 1], color=MUTED, lw=0.8, ls=(0, (3, 3)))
            _dots(ax, *good, color=BLUE, width=2.6, alpha=0.55)
            _dots(ax, *bad, color=FAIL, width=3.6, alpha=0.9)
            ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xticks=[0, 0.5, 1], yticks=[0, 0.5, 1], aspect="equal")
            ax.set_title(p.label)
            ax.set_xlabel(p.note, fontsize=7, color=SUB)
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        return inline_svg(fig, "scores", f"scores of {len(panels)} runtime(s) against {reference_id}")


# ---- |diff| histograms -----------------------------------------------------------------------


@dataclass
class DiffRow:
    label: str
    diffs: Sequence[float]  # inf where a score is missing or non-finite (counted in the note)
    atol: float | None
    note: str
    bad: bool


@memo
def diffs(rows: Sequence[DiffRow], reference_id: str, *, lo: int = -9, per_decade: int = 4) -> Markup | None:
    """Per runtime a histogram of |diff| on log-spaced bins (bar height: sqrt of the count, so
    a single case shows), exact zeros in their own bin at the left, atol as a red line."""
    if not rows:
        return None
    edges = [lo + i / per_decade for i in range(-lo * per_decade + 1)]  # 1e-9 .. 1
    with mpl.rc_context(STYLE):
        fig = figure(10.5, 0.36 * len(rows) + 0.5, top=0.05)
        ax = fig.subplots()
        ys = list(range(len(rows)))[::-1]
        for y, row in zip(ys, rows, strict=True):
            finite = [d for d in row.diffs if math.isfinite(d)]
            counts = [0] * (len(edges) - 1)
            for d in finite:
                if d > 0:
                    i = int((math.log10(d) - lo) * per_decade) if d >= 10.0**lo else 0
                    counts[min(max(i, 0), len(counts) - 1)] += 1
            zeros = sum(1 for d in finite if d == 0)
            peak = max([zeros, *counts, 1])
            height = [0.8 * math.sqrt(c / peak) for c in counts]
            limit = math.log10(row.atol) if row.atol and row.atol > 0 else math.inf
            under = [y + (h if edges[i] < limit else 0) for i, h in enumerate(height)]
            over = [y + (h if edges[i] >= limit else 0) for i, h in enumerate(height)]
            ax.stairs(under, edges, baseline=y, fill=True, color=BLUE, lw=0)
            if any(v > y for v in over):
                ax.stairs(over, edges, baseline=y, fill=True, color=FAIL, lw=0)
            if zeros:
                ax.bar(ZERO_BIN, 0.8 * math.sqrt(zeros / peak), bottom=y, width=0.5, color=MUTED)
            if math.isfinite(limit):
                ax.vlines(limit, y - 0.05, y + 0.9, color=FAIL, lw=1.6)
            ax.axhline(y, color=MUTED, lw=0.6)
            note(ax, y + 0.4, row.note, bad=row.bad, transform=ax.get_yaxis_transform())
        ax.set_yticks([y + 0.4 for y in ys], [r.label for r in rows], fontsize=8, color=INK)
        ax.tick_params(axis="y", length=0)
        ax.grid(False, axis="y")
        ax.set_ylim(-0.1, len(rows))
        ax.xaxis.set_major_locator(FixedLocator([ZERO_BIN, *range(lo, 1)]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "0" if v == ZERO_BIN else log_label(10.0**v)))
        ax.set_xlim(ZERO_BIN - 0.4, 0.1)
        ax.set_xlabel(f"|score − {reference_id}| (log scale; red line = atol)")
        return inline_svg(fig, "diffs", f"distribution of absolute differences from {reference_id}, log scale")


# ---- latency ---------------------------------------------------------------------------------


@dataclass
class LatencyRow:
    label: str
    samples: Sequence[float]
    p50: float | None
    p95: float | None
    budget_p50: float | None
    budget_p95: float | None
    note: str
    bad: bool


@memo
def latency(rows: Sequence[LatencyRow]) -> Markup | None:
    """Per runtime the single-review samples as a box (quartiles, median, whiskers min..max), the
    p95 as a diamond, the p50 budget (blue dashed) and the p95 budget (red), log scale."""
    if not rows:
        return None
    with mpl.rc_context(STYLE):
        fig = figure(11, 0.34 * len(rows) + 0.8, right=3.5, top=0.3)
        ax = fig.subplots()
        ys = list(range(len(rows)))[::-1]
        measured = [(y, [s for s in r.samples if s > 0 and math.isfinite(s)]) for y, r in zip(ys, rows, strict=True)]
        measured = [(y, s) for y, s in measured if s]
        if measured:
            ax.boxplot(
                [s for _, s in measured],
                positions=[y for y, _ in measured],
                orientation="horizontal",
                whis=(0, 100),
                showfliers=False,
                widths=0.55,
                patch_artist=True,
                boxprops={"facecolor": "#dbe9f6", "edgecolor": "#6e7781", "lw": 0.8},
                medianprops={"color": "#0a3069", "lw": 2},
                whiskerprops={"color": "#6e7781", "lw": 0.8},
                capprops={"color": "#6e7781", "lw": 0.8},
            )
        marks: tuple[tuple[str, str, Any], ...] = (("budget_p50", "#0969da", (0, (3, 2))), ("budget_p95", FAIL, "-"))
        for key, color, style in marks:
            at = [(getattr(r, key), y) for r, y in zip(rows, ys, strict=True) if getattr(r, key)]
            if at:
                ax.vlines(
                    [b for b, _ in at],
                    [y - 0.4 for _, y in at],
                    [y + 0.4 for _, y in at],
                    color=color,
                    lw=1.8,
                    linestyles=style,
                    label=f"{key.removeprefix('budget_')} budget",
                )
        p95 = [(r.p95, y) for r, y in zip(rows, ys, strict=True) if r.p95 and r.p95 > 0]
        if p95:
            ax.plot([v for v, _ in p95], [y for _, y in p95], "D", color="#0a3069", ms=4, label="p95")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10))
        ax.xaxis.set_minor_locator(NullLocator())  # minor ticks cost a Tick object each
        ax.xaxis.set_major_formatter(FuncFormatter(log_label))
        ax.set_yticks(ys, [r.label for r in rows], fontsize=8, color=INK)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.grid(False, axis="y")
        ax.set_xlabel("ms per review, in the runtime after warm-up (log scale); box: quartiles, bar: median")
        for r, y in zip(rows, ys, strict=True):
            note(ax, y, r.note, bad=r.bad, transform=ax.get_yaxis_transform())
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3)
        return inline_svg(fig, "latency", "single-review latency per runtime, log scale, with budgets")


# ---- sizes -----------------------------------------------------------------------------------


@dataclass
class SizeRow:
    label: str
    gzip_bytes: int
    budget: int | None
    passed: bool | None
    note: str


@memo
def sizes(rows: Sequence[SizeRow]) -> Markup | None:
    """Gzip bytes of what ships per target, green within budget, red over it; the budget as a red tick."""
    if not rows:
        return None
    with mpl.rc_context(STYLE):
        fig = figure(10.5, 0.3 * len(rows) + 0.45, top=0.05)
        ax = fig.subplots()
        ys = list(range(len(rows)))[::-1]
        colors = [PASS if r.passed else FAIL if r.passed is False else MUTED for r in rows]
        ax.barh(ys, [r.gzip_bytes for r in rows], height=0.6, color=colors)
        budgets = [(r.budget, y) for r, y in zip(rows, ys, strict=True) if r.budget]
        ax.vlines(
            [b for b, _ in budgets], [y - 0.42 for _, y in budgets], [y + 0.42 for _, y in budgets], color=FAIL, lw=2
        )
        ax.set_yticks(ys, [r.label for r in rows], fontsize=8, color=INK)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: nbytes(v)))
        ax.set_xlim(0, max([1, *(r.gzip_bytes for r in rows), *(b for b, _ in budgets)]) * 1.08)
        ax.grid(False, axis="y")
        for r, y in zip(rows, ys, strict=True):
            note(ax, y, r.note, bad=r.passed is False, transform=ax.get_yaxis_transform())
        return inline_svg(fig, "sizes", "shipped size (gzip bytes) per target against budget")


# ---- trends and per-layer diffs --------------------------------------------------------------


@dataclass
class Trend:
    key: str
    title: str
    unit: str
    labels: Sequence[str]  # one per run, oldest first
    series: dict[str, list[tuple[int, float]]]  # runtime id -> (run index, value > 0)
    colors: dict[str, str]
    breaks: Sequence[int] = field(default_factory=list)  # run indexes where the bundle changed


@memo
def trend(t: Trend) -> Markup | None:
    """One line per runtime over the runs (log y), a dashed line where the bundle changed."""
    if not t.labels:
        return None
    count = len(t.labels)
    with mpl.rc_context(STYLE):
        fig = figure(5.4, 2.5, left=0.6, right=0.15, top=0.3, bottom=0.5)
        ax = fig.subplots()
        for name, points in t.series.items():
            ax.plot(
                [i for i, _ in points],
                [v for _, v in points],
                "-o",
                color=t.colors.get(name, INK),
                lw=1.4,
                ms=3.5,
                label=name,
            )
        for i in t.breaks:
            ax.axvline(i - 0.5, color=MUTED, lw=0.9, ls=(0, (4, 3)))
            ax.text(i - 0.45, 1, "new bundle", transform=ax.get_xaxis_transform(), va="top", fontsize=7, color=SUB)
        if t.series:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(log_label))
            ax.yaxis.set_minor_locator(NullLocator())
        shown = sorted({0, count - 1, *t.breaks} & set(range(count)))
        ax.set_xticks(shown, [t.labels[i] for i in shown])
        ax.set_xlim(-0.5, count - 0.5)
        ax.set_title(t.title)
        ax.set_xlabel(f"run (oldest → newest), {t.unit}")
        return inline_svg(fig, t.key, t.title)


@dataclass
class LayerPanel:
    label: str  # "tfjs-wasm@u8 · test-00017"
    layers: Sequence[str]
    max_abs_diff: Sequence[float | None]  # None: the runtime could not expose the tensor
    atol: float | None  # the bar, drawn as a line (None: a relative bar, shown by `over` alone)
    over: Sequence[bool] = ()  # layers over the runtime's per-tensor bar: drawn red


@memo
def layers(panels: Sequence[LayerPanel]) -> Markup | None:
    """For the worst case of each failing (or reduced-precision) runtime: max |diff| after each
    layer, log y, so the layer where the difference appears or grows stands out; red points are
    over the runtime's per-tensor bar (the red line, when the bar is absolute)."""
    panels = [p for p in panels if any(v is not None and v > 0 for v in p.max_abs_diff)]
    if not panels:
        return None
    with mpl.rc_context(STYLE):
        fig = figure(3.5 * len(panels), 2.7, left=0.55, right=0.1, top=0.3, bottom=0.85, wspace=0.35)
        axes = fig.subplots(1, len(panels), squeeze=False).ravel()
        for ax, p in zip(axes, panels, strict=True):
            xs = range(len(p.layers))
            shown = [(i, v) for i, v in zip(xs, p.max_abs_diff, strict=True) if v is not None and v > 0]
            ax.plot([i for i, _ in shown], [v for _, v in shown], "-o", color=BLUE, ms=3.5, lw=1.4)
            red = [(i, v) for i, v in shown if i < len(p.over) and p.over[i]]
            if red:
                ax.plot([i for i, _ in red], [v for _, v in red], "o", color=FAIL, ms=4.5)
            if p.atol:
                ax.axhline(p.atol, color=FAIL, lw=1.2)
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(log_label))
            ax.yaxis.set_minor_locator(NullLocator())
            ax.set_xticks(list(xs), list(p.layers), rotation=35, ha="right", fontsize=7)
            ax.set_title(p.label)
        return inline_svg(
            fig, "layers", "max |diff| per layer for the worst case of each failing or reduced-precision runtime"
        )

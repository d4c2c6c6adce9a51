"""The model's layer graph in report.html, one copy per traced runtime, coloured by per-layer SNR.

Model Explorer colours a graph by per-node values one model at a time; the report draws the
Keras layer graph itself (the layers of the worst case `harness compare --layers` traced,
edges from each layer's inbound layers), once per runtime side by side, so where each engine
loses signal is seen at a glance. Plain inline SVG: no script, no font, no file beside it; each
box's <title> gives the numbers on hover. SNR, not max |diff|: it reads the same at any scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from harness.results import LayerDiff

# (lowest SNR in dB, colour, legend): first match from the top.
BANDS = (
    (60.0, "#2da44e", "≥ 60 dB"),
    (40.0, "#a2c94f", "40–60 dB"),
    (20.0, "#e3b341", "20–40 dB"),
    (float("-inf"), "#cf222e", "< 20 dB"),
)
IDENTICAL, NOT_COMPARED = "#1a7f37", "#d0d7de"
BOX_W, BOX_H, GAP_Y, COL_W, TOP = 150, 26, 18, 190, 34


@dataclass
class GraphPanel:
    label: str  # "tfjs-wasm@u8 · test-00017"
    layers: Sequence[LayerDiff]


def colour(row: LayerDiff) -> str:
    """The fill of one layer's box: its SNR band, identical, or not compared."""
    if row.max_abs_diff is None:
        return NOT_COMPARED
    if row.max_abs_diff == 0:
        return IDENTICAL
    if row.snr_db is None:
        return BANDS[-1][1]  # compared, off, and no finite SNR: the reference is all zeros
    return next(c for low, c, _ in BANDS if row.snr_db >= low)


def _title(row: LayerDiff) -> str:
    if row.max_abs_diff is None:
        return f"{row.layer}: not compared ({row.detail})"
    snr = "identical" if row.max_abs_diff == 0 else f"SNR {row.snr_db:.1f} dB" if row.snr_db is not None else "SNR -inf"
    cos = f", cosine {row.cosine:.6f}" if row.cosine is not None else ""
    return f"{row.layer}: {snr}{cos}, max |diff| {row.max_abs_diff:.3g}"


def svg(panels: Sequence[GraphPanel]) -> Markup | None:
    """One inline SVG with a column per panel; None when no panel has a layer graph (an older
    report, or rows without their layers' inbound lists)."""
    panels = [p for p in panels if any(r.inbound is not None for r in p.layers)]
    if not panels:
        return None
    nodes = [[r for r in p.layers if r.inbound is not None] for p in panels]
    height = TOP + max(len(n) for n in nodes) * (BOX_H + GAP_Y) + 40
    width = COL_W * len(panels) + 20
    parts = [
        f'<svg role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="11" font-family="sans-serif">',
        "<title>the model's layer graph per runtime, each layer coloured by its SNR against the reference</title>",
        '<defs><marker id="lg-arrow" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#57606a"/></marker></defs>',
    ]
    for col, (panel, rows) in enumerate(zip(panels, nodes, strict=True)):
        x = 10 + col * COL_W
        parts.append(f'<text x="{x}" y="16" font-weight="bold">{escape(panel.label)}</text>')
        where = {r.layer: TOP + i * (BOX_H + GAP_Y) for i, r in enumerate(rows)}
        for r in rows:
            y = where[r.layer]
            for j, source in enumerate(s for s in (r.inbound or []) if s in where):
                y0 = where[source] + BOX_H
                if y0 + GAP_Y == y:  # the next box down: a straight arrow
                    parts.append(
                        f'<line x1="{x + BOX_W / 2}" y1="{y0}" x2="{x + BOX_W / 2}" y2="{y}" '
                        'stroke="#57606a" marker-end="url(#lg-arrow)"/>'
                    )
                else:  # a skip edge: around the right side
                    bend = x + BOX_W + 8 + 6 * j
                    parts.append(
                        f'<path d="M{x + BOX_W},{y0 - BOX_H / 2} C{bend},{y0 - BOX_H / 2} {bend},{y + BOX_H / 2} '
                        f'{x + BOX_W},{y + BOX_H / 2}" fill="none" stroke="#57606a" marker-end="url(#lg-arrow)"/>'
                    )
            parts.append(
                f'<g><title>{escape(_title(r))}</title><rect x="{x}" y="{y}" width="{BOX_W}" '
                f'height="{BOX_H}" rx="4" fill="{colour(r)}" stroke="#24292f" stroke-width="0.6"/>'
                f'<text x="{x + 6}" y="{y + 17}">{escape(r.layer[:22])}</text></g>'
            )
    legend = [(IDENTICAL, "identical"), *((c, label) for _, c, label in BANDS), (NOT_COMPARED, "not compared")]
    y = height - 18
    for k, (c, label) in enumerate(legend):
        lx = 10 + k * 95
        parts.append(
            f'<rect x="{lx}" y="{y}" width="12" height="12" fill="{c}"/>'
            f'<text x="{lx + 16}" y="{y + 10}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))

"""frontier.html: accuracy against first-visit bytes for `harness frontier`'s variants.

Drawn with the report's own stack (matplotlib's SVG backend through charts.py, Jinja2 with
autoescape), so it reads like the report: the Pareto front is joined by a line, the smallest
variant within one accuracy point of the reference is ringed, and the reference's accuracy and
the 200 kB first-visit target are drawn as guides. The table holds every figure the chart uses.
"""

from __future__ import annotations

from typing import Any

import jinja2
from markupsafe import Markup

from harness.report.chart_svg import BLUE, FAIL, INK, MUTED, PALETTE, PASS, figure, inline_svg

FIRST_VISIT_TARGET = 200_000  # the phone budget, gzip bytes

_PAGE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Model size frontier</title>
<style>body{font:14px/1.45 system-ui,sans-serif;color:#24292f;max-width:70rem;margin:1.5rem auto;padding:0 1rem}
table{border-collapse:collapse;font-size:13px}
td,th{padding:.2rem .6rem;border-bottom:1px solid #eaeef2;text-align:right}
th:first-child,td:first-child{text-align:left}tr.front td{font-weight:600}tr.pick td{background:#dafbe1}
.chart{max-width:100%;height:auto}.note{color:#57606a}</style></head><body>
<h1>Model size frontier</h1>
<p>Reference: held-out accuracy {{ "%.2f"|format(ref.accuracy * 100) }}% on {{ ref.held_out }} reviews
(bundle {{ ref.bundle_hash[:12] }}). Smallest variant within 1 point: <strong>{{ pick or "none" }}</strong>.</p>
{{ chart }}
<p class="note">Accuracy and agreement are of the exported model in {{ runtime_note }}; agreement is the share of
held-out decisions equal to the reference's keras decisions. Phone time is an estimate: {{ estimate }}
({{ profile.latency_ms }} ms RTT, {{ profile.download_kbps }} kbit/s); the measured app adds its CPU time.</p>
<table><tr><th>variant</th><th>weights</th><th>vocab</th><th>embed</th><th>filters</th><th>accuracy</th>
<th>keras</th><th>agreement</th>
<th>model gz</th><th>tokenizer gz</th><th>first visit gz</th><th>phone est.</th><th>front</th></tr>
{% for r in rows %}<tr class="{{ 'front' if r.pareto }}{{ ' pick' if (r.variant ~ ' ' ~ r.weights) == pick }}">
<td>{{ r.variant }}</td><td>{{ r.weights }}</td><td>{{ r.vocab }}</td><td>{{ r.embedding }}</td><td>{{ r.filters }}</td>
<td>{{ pct(r.accuracy) }}</td><td>{{ pct(r.keras_accuracy) }}</td><td>{{ pct(r.agreement) }}</td>
<td>{{ kb(r.model_gzip_bytes) }}</td><td>{{ kb(r.tokenizer_gzip_bytes) }}</td>
<td>{{ kb(r.first_visit_gzip_bytes) }}</td>
<td>{{ "%.2f s"|format(r.phone_first_prediction_estimate_ms / 1000) }}</td><td>{{ "yes" if r.pareto else "" }}</td></tr>
{% endfor %}</table>
{% if skipped %}<p>Not run:
{% for s in skipped %}{{ s.variant }} ({{ s.reason }}){{ ", " if not loop.last }}{% endfor %}</p>{% endif %}
{% for r in rows if r.get("failure") %}<p>{{ r.variant }} {{ r.weights }}: {{ r.failure }}</p>{% endfor %}
</body></html>
""")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.2f}%"


def _kb(n: int) -> str:
    return f"{n / 1000:.1f} kB"


def chart(result: dict[str, Any]) -> Markup:
    """Accuracy (%) against first-visit kB, one colour per weight format."""
    rows = [r for r in result["rows"] if r.get("accuracy") is not None]
    fig = figure(7.0, 3.6, left=0.7, right=0.3, bottom=0.5)
    ax = fig.add_subplot(1, 1, 1)
    for colour, weights in zip(PALETTE, sorted({r["weights"] for r in rows}), strict=False):
        mine = [r for r in rows if r["weights"] == weights]
        ax.scatter(
            [r["first_visit_gzip_bytes"] / 1000 for r in mine],
            [r["accuracy"] * 100 for r in mine],
            s=18,
            color=colour,
            label=weights,
            zorder=3,
        )
    front = sorted((r for r in rows if r.get("pareto")), key=lambda r: r["first_visit_gzip_bytes"])
    if front:
        ax.plot(
            [r["first_visit_gzip_bytes"] / 1000 for r in front],
            [r["accuracy"] * 100 for r in front],
            color=INK,
            linewidth=1,
            label="Pareto front",
            zorder=2,
        )
    pick = result.get("smallest_within_1_point")
    for r in rows:
        if f"{r['variant']} {r['weights']}" == pick:
            ax.scatter(
                [r["first_visit_gzip_bytes"] / 1000],
                [r["accuracy"] * 100],
                s=90,
                facecolors="none",
                edgecolors=PASS,
                linewidths=1.5,
                label="smallest within 1 point",
                zorder=4,
            )
    ref = result["reference"]["accuracy"] * 100
    ax.axhline(ref, color=BLUE, linestyle="--", linewidth=0.8, label=f"reference {ref:.2f}%")
    ax.axhline(ref - 1, color=MUTED, linestyle=":", linewidth=0.8, label="reference - 1 point")
    ax.axvline(FIRST_VISIT_TARGET / 1000, color=FAIL, linestyle=":", linewidth=0.8, label="200 kB target")
    ax.set_xlabel("first visit, gzip kB (model + tokenizer + app code)")
    ax.set_ylabel("held-out accuracy, %")
    ax.legend(loc="lower right")
    return inline_svg(fig, "frontier", "Held-out accuracy against first-visit bytes per variant")


def render(result: dict[str, Any]) -> str:
    runtimes = sorted({r["runtime"] for r in result["rows"]})
    return _PAGE.render(
        ref=result["reference"],
        pick=result.get("smallest_within_1_point"),
        chart=chart(result),
        rows=result["rows"],
        skipped=result.get("skipped", []),
        estimate=result["estimate"],
        profile=result["profile"],
        runtime_note=", ".join(runtimes) or "TF.js",
        pct=_pct,
        kb=_kb,
    )


def table(result: dict[str, Any]) -> str:
    """The same rows as plain text for the terminal."""
    head = f"{'variant':<18} {'weights':<9} {'acc':>7} {'agree':>7} {'model':>9} {'first':>9} {'phone':>7} front"
    lines = [head]
    for r in result["rows"]:
        lines.append(
            f"{r['variant']:<18} {r['weights']:<9} {_pct(r.get('accuracy')):>7} {_pct(r.get('agreement')):>7} "
            f"{_kb(r['model_gzip_bytes']):>9} {_kb(r['first_visit_gzip_bytes']):>9} "
            f"{r['phone_first_prediction_estimate_ms'] / 1000:>6.2f}s {'*' if r.get('pareto') else ''}"
        )
    lines.append(
        f"reference accuracy {_pct(result['reference']['accuracy'])}; smallest within 1 point: "
        f"{result.get('smallest_within_1_point') or 'none'}"
    )
    return "\n".join(lines)

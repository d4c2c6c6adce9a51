"""report.html: a view of a Report that a release manager reads at a glance.

One self-contained page: inline CSS, inline SVG charts (charts.py), no script, no font, no
URL of any kind, so it opens from a file:// link, an artifact store or an email attachment
with networking off. The first screen is the verdict, the verdict per platform and browser
engine, and the runtime x gate table grouped the same way; the evidence follows.

Markup lives in Jinja2 templates (templates/), rendered with autoescape on and
StrictUndefined, so every value from the report is escaped and a misspelt name fails the
render instead of printing nothing. Python here only decides what to show: it turns the
typed Report into rows, cells and chart inputs; the templates lay them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
from markupsafe import Markup

from harness.report import chart_svg, charts, emulator_vs_apple, fmt, layer_graph
from harness.report.gate_table import GLYPH, VERDICT_WORD, gate_state, gate_table, gate_text
from harness.results import Environment, HistoryEntry, Latency, Report

SECTIONS = (
    ("scores", "scores"),
    ("diffs", "differences"),
    ("latency", "latency"),
    ("sizes", "sizes"),
    ("worst", "worst cases"),
    ("divergences", "divergences"),
    ("unavailable", "unavailable"),
    ("trends", "trends"),
    ("environment", "environment"),
)
HISTORY_LIMIT = 90


def _finalize(value: Any) -> Any:
    """Every printed value passes here before escaping: nothing unencodable reaches the page."""
    if isinstance(value, Markup):
        return Markup(fmt.clean(value))
    return fmt.clean(value) if isinstance(value, str) else value


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    finalize=_finalize,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(sig=fmt.sig, nbytes=fmt.nbytes, short=fmt.short, when=fmt.when, duration=fmt.duration)


def render(report: Report, history: Sequence[HistoryEntry] = ()) -> str:
    """The whole page; `history` is reports/history.jsonl (this run is added if missing)."""
    return ENV.get_template("report.html.j2").render(page_context(report, history))


def page_context(report: Report, history: Sequence[HistoryEntry]) -> dict[str, Any]:
    """Everything the templates print, decided here."""
    kind = "Release sign-off" if report.kind == "signoff" else "Conformance report"
    verdict = (
        ("pass", "PASS")
        if report.verdict == "pass"
        else ("fail", "FAIL")
        if report.verdict == "fail"
        else ("unknown", "INCOMPLETE")
    )
    groups, columns = gate_table(report)
    counts: dict[str, int] = {}
    for g in report.gates:
        counts[gate_state(g)] = counts.get(gate_state(g), 0) + 1
    return {
        "r": report,
        "kind": kind,
        "verdict": verdict,
        "title": f"{verdict[1]} · {kind} · {report.bundle_hash[:12]}",
        "blocking": report.blocking_gates(),
        "counts": counts,
        "glyph": GLYPH,
        "columns": columns,
        "groups": groups,
        "chips": [(g.label, VERDICT_WORD[g.verdict]) for g in report.groups()],
        "issues": [g for g in report.gates if gate_state(g) in ("fail", "advisory")],
        "waived": [g for g in report.gates if g.waived],
        "gate_text": lambda g: " / ".join(t for t in gate_text(g) if t),
        "charts": evidence(report),
        "trends": trends(report, history),
        "sections": SECTIONS,
        "cases": _cases(report),
        "finished": f"finished {fmt.when(report.finished_at)}"
        if report.finished_at
        else f"started {fmt.when(report.started_at)}, did not finish",
        "machines": [(m.hostname, _machine_line(m)) for m in report.all_machines()],
        "facts": _facts,
        "emulator_vs_apple": emulator_vs_apple.distances(report),
    }


def _cases(report: Report) -> str:
    counts = [(report.cases.held_out, "held-out"), (report.cases.golden, "golden")]
    return " + ".join(f"{n:,} {name}" for n, name in counts if n) or "no cases"


def _machine_line(m: Environment) -> str:
    bits = [f"{m.system} {m.machine}".strip(), m.cpu_model, f"{m.cpu_count} cpu" if m.cpu_count else ""]
    bits.append(f"{m.memory_gb:.0f} GB" if m.memory_gb is not None and fmt.finite(m.memory_gb) else "")
    return ", ".join(b for b in bits if b)


def _facts(m: Environment) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in m.model_dump(exclude={"tool_versions", "browsers"}).items() if v not in (None, "")]


# ---- evidence: charts ------------------------------------------------------------------------


def evidence(report: Report) -> dict[str, Markup | None]:
    ref = report.reference_scores()
    compared = report.compared()
    panels, diff_rows = [], []
    for c in compared:
        agree = c.row.agreement
        atol = agree.atol if agree else None
        mismatch = f" · {len(c.scores)} vs {len(ref)} scores!" if len(c.scores) != len(ref) else ""
        note = f"max|Δ| {fmt.sig(max(c.diffs, default=0))} · flips {agree.flips if agree else '?'}{mismatch}"
        panels.append(charts.ScorePanel(c.runtime_id, ref, c.scores, atol, note))
        mean = agree.mean_abs_diff if agree else None
        text = f"max {fmt.sig(agree.max_abs_diff if agree else None)} · mean {fmt.sig(mean)} · atol {fmt.sig(atol)}"
        text += f" · {c.non_finite} non-finite!" if c.non_finite else ""
        bad = (agree is not None and not agree.passed) or c.non_finite > 0
        diff_rows.append(charts.DiffRow(c.runtime_id, c.diffs, atol, text, bad))
    latency_rows = []
    for rid, row in report.runtimes.items():
        if row.latency is None:
            continue
        lat, single = row.latency, row.latency.single_ms
        note = f"p50 {fmt.sig(single.p50)} · p95 {fmt.sig(single.p95)} ms"
        note += f" · {lat.batch_reviews_per_second:,.0f}/s" if fmt.finite(lat.batch_reviews_per_second) else ""
        note += f" · load {fmt.sig(lat.load_seconds)} s" + (" · re-measured" if lat.remeasured else "")
        note += _intervals(lat)
        b50, b95 = report.gate("latency_p50", rid), report.gate("latency_p95", rid)
        failed = any(
            g is not None and g.blocking
            for g in (b50, b95, report.gate("throughput", rid), report.gate("load_time", rid))
        )
        latency_rows.append(
            charts.LatencyRow(
                rid,
                single.samples,
                single.p50,
                single.p95,
                b50.budget if b50 else None,
                b95.budget if b95 else None,
                note,
                failed,
            )
        )
    size_rows = [
        charts.SizeRow(
            key,
            s.gzip_bytes,
            s.budget_gzip_bytes,
            s.passed,
            f"{fmt.nbytes(s.gzip_bytes)} of {fmt.nbytes(s.budget_gzip_bytes)} gz · raw {fmt.nbytes(s.bytes)}",
        )
        for key, s in report.sizes.items()
        if s.gzip_bytes is not None  # a target whose export failed has no size (its gate says why)
    ]
    layer_panels = []  # failing runtimes first, then the reduced-precision ones the report traced
    graph_panels: list[layer_graph.GraphPanel] = []  # the same cases on the model's layer graph, by SNR
    for rid in sorted(report.runtimes, key=lambda rid: report.runtime_verdict(rid) != "fail"):
        worst = next((w for w in report.worst_cases if w.runtime == rid and w.layers), None)
        if worst is None or worst.layers is None:
            continue
        agree = report.runtimes[rid].agreement
        bar = worst.layers_atol if worst.layers_atol is not None else agree.atol if agree else None
        if worst.layers_rtol:  # the bar grows with each value: no one line stands for it
            bar = None
        layer_panels.append(
            charts.LayerPanel(
                f"{rid} · {worst.case_id}",
                [x.layer for x in worst.layers],
                [x.max_abs_diff for x in worst.layers],
                bar,
                [x.over for x in worst.layers],
            )
        )
        graph_panels.append(layer_graph.GraphPanel(f"{rid} · {worst.case_id}", worst.layers))
    return {
        "scores": charts.scores(panels, report.reference),
        "diffs": charts.diffs(diff_rows, report.reference),
        "latency": charts.latency(latency_rows),
        "sizes": charts.sizes(size_rows),
        "layers": charts.layers(layer_panels),
        "layer_graph": layer_graph.svg(graph_panels),
    }


def _intervals(lat: Latency) -> str:
    """The confidence intervals the speed gates were judged from, and the calibration factor."""
    if lat.p50_interval is None:
        return ""

    def iv(pair: list[float | None] | None) -> str:
        low, high = (pair or [None, None])[:2]
        return f"[{fmt.sig(low) if low is not None else '-∞'}, {fmt.sig(high) if high is not None else '∞'}]"

    out = f" · {lat.confidence or 0.95:.0%} intervals: p50 {iv(lat.p50_interval)} p95 {iv(lat.p95_interval)} ms"
    out += f", {iv(lat.throughput_interval)}/s" if lat.throughput_interval else ""
    cal = lat.calibration or {}
    if cal.get("applied"):
        out += f" · machine {float(cal.get('p50_factor', 1.0)):.2f}x slower (calibration)"
    return out


def trends(report: Report, history: Sequence[HistoryEntry]) -> dict[str, Any]:
    runs = list(history)
    current = report.history_entry()
    if current.finished_at and not any(h.finished_at == current.finished_at for h in runs):
        runs.append(current)  # so the trend always ends at the run on the page
    skipped = max(0, len(runs) - HISTORY_LIMIT)
    runs = runs[skipped:]
    names = sorted({rid for h in runs for rid in h.runtimes} | set(report.runtime_ids()))
    colors = {rid: chart_svg.PALETTE[i % len(chart_svg.PALETTE)] for i, rid in enumerate(names)}
    labels = [fmt.when(h.finished_at, "%m-%d %H:%M") for h in runs]
    breaks = [i for i in range(1, len(runs)) if runs[i].bundle_hash != runs[i - 1].bundle_hash]
    out, plotted = [], set()
    for key, title, unit in (
        ("max_abs_diff", f"max |diff| from {report.reference}", "|diff|"),
        ("p95_ms", "p95 latency", "ms"),
    ):
        series: dict[str, list[tuple[int, float]]] = {}
        for rid in names:
            points = [(i, getattr(h.runtimes[rid], key)) for i, h in enumerate(runs) if rid in h.runtimes]
            points = [(i, v) for i, v in points if fmt.finite(v) and v > 0]
            if points:
                series[rid] = points
        plotted |= set(series)
        out.append(charts.trend(charts.Trend(f"trend-{key}", title, unit, labels, series, colors, breaks)))
    return {
        "runs": runs,
        "skipped": skipped,
        "charts": [c for c in out if c is not None],
        "legend": [(rid, c) for rid, c in colors.items() if rid in plotted],
    }

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
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup

from harness.report import chart_svg, charts, emulator_vs_apple, fmt, layer_graph
from harness.report.model import ERROR_GATE, Environment, Gate, HistoryEntry, Latency, Report, RowVerdict

GATE_COLUMNS = {  # gate kind -> column heading, in table order
    "agreement": "agreement",
    "accuracy": "accuracy",
    "latency_p50": "p50",
    "latency_p95": "p95",
    "throughput": "throughput",
    "load_time": "load",
    "first_prediction": "first result",
    "first_prediction_mobile": "first result (phone)",
    "latency_p50_mobile": "p50 (phone)",
    "first_visit": "first visit (gz)",
    "size": "size (gz)",
    "golden": "golden",
    "runs": "ran",
    "available": "available",
    "conformance": "suite",
}
AT_LEAST = {"throughput", "accuracy"}  # gates whose value must reach the budget, not stay under it
UNITS = {"reviews/s": "/s", "bytes gzip": "", "bytes": "", "gzip bytes": ""}  # short forms inside the table
GLYPH = {"pass": "✓", "fail": "✗", "advisory": "!", "waived": "~", "na": "–", "error": "✗"}
VERDICT_WORD: dict[RowVerdict, tuple[str, str]] = {  # row verdict -> (css class, word)
    "pass": ("pass", "PASS"),
    "fail": ("fail", "FAIL"),
    "error": ("error", "ERROR"),
    "waived": ("waived", "WAIVED"),
    "advisory": ("advisory", "PASS!"),
    "n/a": ("na", "N/A"),
    "none": ("na", "–"),
}
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


@dataclass
class Cell:
    state: str  # pass, fail, advisory, waived, na
    glyph: str
    value: str
    bound: str
    title: str


@dataclass
class Row:
    runtime_id: str
    sub: str
    title: str
    verdict: tuple[str, str]
    cells: list[Cell] = field(default_factory=list)
    error: str | None = None  # one line: "load: kernel ... not registered"
    other: bool = False  # a subject that is not a runtime (web-app, suite, a size target)


@dataclass
class Group:
    label: str
    key: str
    verdict: tuple[str, str]
    rows: list[Row]


def render(report: Report, history: Sequence[HistoryEntry] = ()) -> str:
    """The whole page; `history` is reports/history.jsonl (this run is added if missing)."""
    return ENV.get_template("report.html.j2").render(page(report, history))


def page(r: Report, history: Sequence[HistoryEntry]) -> dict[str, Any]:
    """Everything the templates print, decided here."""
    kind = "Release sign-off" if r.kind == "signoff" else "Conformance report"
    verdict = (
        ("pass", "PASS")
        if r.verdict == "pass"
        else ("fail", "FAIL")
        if r.verdict == "fail"
        else ("unknown", "INCOMPLETE")
    )
    groups, columns = gate_table(r)
    counts: dict[str, int] = {}
    for g in r.gates:
        counts[_state(g)] = counts.get(_state(g), 0) + 1
    return {
        "r": r,
        "kind": kind,
        "verdict": verdict,
        "title": f"{verdict[1]} · {kind} · {r.bundle_hash[:12]}",
        "blocking": r.blocking_gates(),
        "counts": counts,
        "glyph": GLYPH,
        "columns": columns,
        "groups": groups,
        "chips": [(g.label, VERDICT_WORD[g.verdict]) for g in r.groups()],
        "issues": [g for g in r.gates if _state(g) in ("fail", "advisory")],
        "waived": [g for g in r.gates if g.waived],
        "gate_text": lambda g: " / ".join(t for t in _gate_text(g) if t),
        "charts": evidence(r),
        "trends": trends(r, history),
        "sections": SECTIONS,
        "cases": _cases(r),
        "finished": f"finished {fmt.when(r.finished_at)}"
        if r.finished_at
        else f"started {fmt.when(r.started_at)}, did not finish",
        "machines": [(m.hostname, _machine_line(m)) for m in r.all_machines()],
        "facts": _facts,
        "emulator_vs_apple": emulator_vs_apple.distances(r),
    }


def _cases(r: Report) -> str:
    counts = [(r.cases.held_out, "held-out"), (r.cases.golden, "golden")]
    return " + ".join(f"{n:,} {name}" for n, name in counts if n) or "no cases"


def _machine_line(m: Environment) -> str:
    bits = [f"{m.system} {m.machine}".strip(), m.cpu_model, f"{m.cpu_count} cpu" if m.cpu_count else ""]
    bits.append(f"{m.memory_gb:.0f} GB" if m.memory_gb is not None and fmt.finite(m.memory_gb) else "")
    return ", ".join(b for b in bits if b)


def _facts(m: Environment) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in m.model_dump(exclude={"tool_versions", "browsers"}).items() if v not in (None, "")]


# ---- the runtime x gate table ----------------------------------------------------------------


def _state(g: Gate) -> str:
    return g.state


def _short_number(kind: str, x: float) -> str:
    if kind == "accuracy" and 0 <= x <= 1:
        return f"{x * 100:.1f}%".replace(".0%", "%")
    return f"{x / 1e3:.3g}k" if abs(x) >= 1e4 else fmt.sig(x)


def _gate_text(g: Gate) -> tuple[str, str]:
    """The value and its budget, short: ('0.42', '≤1 ms')."""
    if not g.evaluated:
        return "not evaluated", ""
    if g.gate == "size":
        return fmt.nbytes(g.value), f"≤{fmt.nbytes(g.budget)}" if fmt.finite(g.budget) else ""
    if g.value is None or not fmt.finite(g.value):
        return ("not run" if g.gate == "available" and not g.passed else ""), ""
    unit = UNITS.get(g.unit, g.unit)
    if g.budget is None or not fmt.finite(g.budget):
        return f"{_short_number(g.gate, g.value)} {unit}".strip(), ""
    bound = f"{'≥' if g.gate in AT_LEAST else '≤'}{_short_number(g.gate, g.budget)} {unit}"
    return _short_number(g.gate, g.value), bound.strip()


def _gate_title(g: Gate) -> str:
    parts = [
        f"{g.id}: {g.state.upper()}{'' if g.required else ' (advisory)'}{'' if g.evaluated else ', not evaluated'}"
    ]
    if g.value is not None or g.budget is not None:
        value, budget = (str(v).removesuffix(".0") for v in (g.value, g.budget))
        parts.append(f"value {value} {g.unit}, budget {budget} {g.unit}".replace("  ", " "))
    if g.detail:
        parts.append(g.detail[:600])
    if g.waived:
        parts.append(f"waived: {g.waived.reason}")
    return " — ".join(parts)


def cell(g: Gate) -> Cell:
    value, bound = ("waived", "") if g.state == "waived" else _gate_text(g)
    glyph = "?" if not g.evaluated and g.state != "waived" else GLYPH[g.state]
    return Cell(g.state, glyph, value, bound, _gate_title(g))


def _missing(why: str) -> Cell:
    return Cell("na", "–", "", "", why)


def gate_table(r: Report) -> tuple[list[Group], list[tuple[str, str]]]:
    """Rows grouped by platform and engine, then a group of gates on other subjects."""
    by_subject = r.gates_by_subject()
    row_gates: dict[str, dict[str, Gate]] = {}
    for rid in r.runtime_ids():
        own = dict(by_subject.get(rid, {}))
        size = r.size_gate_for(rid)
        if size is not None and "size" not in own:
            own["size"] = size
        row_gates[rid] = own
    shown = {g.id for gates in row_gates.values() for g in gates.values()}
    leftovers = {
        s: {k: g for k, g in gs.items() if g.id not in shown} for s, gs in by_subject.items() if s not in row_gates
    }
    leftovers = {s: gs for s, gs in leftovers.items() if gs}
    kinds = {k for gs in [*row_gates.values(), *leftovers.values()] for k in gs} - {ERROR_GATE}
    columns = [(k, GATE_COLUMNS[k]) for k in GATE_COLUMNS if k in kinds]
    columns += [(k, k.replace("_", " ")) for k in sorted(kinds - set(GATE_COLUMNS))]
    multi = len(r.all_machines()) > 1
    groups = []
    for grp in r.groups():
        rows = [_runtime_row(r, rid, row_gates[rid], columns, multi) for rid in grp.runtime_ids]
        key = f"{grp.platform or 'other'}/{grp.browser or '-'}"
        groups.append(Group(grp.label, key, VERDICT_WORD[grp.verdict], rows))
    others = []
    for subject, gs in leftovers.items():
        states = {g.state for g in gs.values()}
        verdict: RowVerdict = (
            "fail"
            if "fail" in states
            else "waived"
            if "waived" in states
            else "advisory"
            if "advisory" in states
            else "pass"
        )
        cells = [cell(gs[k]) if k in gs else _missing("no such gate for this row") for k, _ in columns]
        others.append(Row(subject, "", subject, VERDICT_WORD[verdict], cells, other=True))
    if others:
        worst = next(
            (v for v in ("fail", "waived", "advisory", "pass") if any(o.verdict[0] == v for o in others)), "pass"
        )
        groups.append(Group("Other gates", "gates/-", VERDICT_WORD[worst], others))  # type: ignore[index]
    return groups, columns


def _runtime_row(r: Report, rid: str, gates: dict[str, Gate], columns: list[tuple[str, str]], multi: bool) -> Row:
    row, missing, spec = r.runtimes.get(rid), r.unavailable.get(rid), r.spec_of(rid)
    bits = [spec.precision, f"{spec.tokenizer} tokenizer"] if spec else []
    if row is not None and row.artifact_origin == "shipped" and row.artifact is not None:
        made_by = ", ".join(f"{k} {v}" for k, v in row.artifact.recorded_by.items())
        bits.append(f"shipped artifact ({made_by})" if made_by else "shipped artifact")
    elif row is not None and row.artifact_origin == "exported":
        bits.append("exported by the harness")
    if row is not None and multi:
        bits.append(row.machine)
    weights = row.info.get("weights") if row is not None else None
    if isinstance(weights, str):  # an export that kept some weights float32 says which (export/uint8_weights.py)
        bits.append(weights)
    what = row.info.get("what") if row is not None else None
    if isinstance(what, str):  # what the engine is, in its own words (e.g. Core AI: a CPU engine, not the ANE)
        bits.append(what)
    sub = "not run on this machine" if missing is not None else " · ".join(bits)
    error = row.error if row is not None and row.status == "error" else None
    out = Row(rid, sub, missing.reason if missing else rid, VERDICT_WORD[r.runtime_verdict(rid)])
    if error is not None:
        out.error = error.line()
        return out
    na = "not run here" if missing is not None else "no such gate for this row"
    out.cells = [cell(gates[k]) if k in gates else _missing(na) for k, _ in columns]
    return out


# ---- evidence: charts ------------------------------------------------------------------------


def evidence(r: Report) -> dict[str, Markup | None]:
    ref = r.reference_scores()
    compared = r.compared()
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
    for rid, row in r.runtimes.items():
        if row.latency is None:
            continue
        lat, single = row.latency, row.latency.single_ms
        note = f"p50 {fmt.sig(single.p50)} · p95 {fmt.sig(single.p95)} ms"
        note += f" · {lat.batch_reviews_per_second:,.0f}/s" if fmt.finite(lat.batch_reviews_per_second) else ""
        note += f" · load {fmt.sig(lat.load_seconds)} s" + (" · re-measured" if lat.remeasured else "")
        note += _intervals(lat)
        b50, b95 = r.gate("latency_p50", rid), r.gate("latency_p95", rid)
        failed = any(
            g is not None and g.blocking for g in (b50, b95, r.gate("throughput", rid), r.gate("load_time", rid))
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
        for key, s in r.sizes.items()
        if s.gzip_bytes is not None  # a target whose export failed has no size (its gate says why)
    ]
    layer_panels = []  # failing runtimes first, then the reduced-precision ones the report traced
    graph_panels: list[layer_graph.GraphPanel] = []  # the same cases on the model's layer graph, by SNR
    for rid in sorted(r.runtimes, key=lambda rid: r.runtime_verdict(rid) != "fail"):
        worst = next((w for w in r.worst_cases if w.runtime == rid and w.layers), None)
        if worst is None or worst.layers is None:
            continue
        agree = r.runtimes[rid].agreement
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
        "scores": charts.scores(panels, r.reference),
        "diffs": charts.diffs(diff_rows, r.reference),
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


def trends(r: Report, history: Sequence[HistoryEntry]) -> dict[str, Any]:
    runs = list(history)
    current = r.history_entry()
    if current.finished_at and not any(h.finished_at == current.finished_at for h in runs):
        runs.append(current)  # so the trend always ends at the run on the page
    skipped = max(0, len(runs) - HISTORY_LIMIT)
    runs = runs[skipped:]
    names = sorted({rid for h in runs for rid in h.runtimes} | set(r.runtime_ids()))
    colors = {rid: chart_svg.PALETTE[i % len(chart_svg.PALETTE)] for i, rid in enumerate(names)}
    labels = [fmt.when(h.finished_at, "%m-%d %H:%M") for h in runs]
    breaks = [i for i in range(1, len(runs)) if runs[i].bundle_hash != runs[i - 1].bundle_hash]
    out, plotted = [], set()
    for key, title, unit in (
        ("max_abs_diff", f"max |diff| from {r.reference}", "|diff|"),
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

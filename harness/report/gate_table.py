"""The runtime x gate table of report.html: one row per runtime, grouped by platform and
browser engine, one cell per gate kind with its value beside its budget, and a group of the
gates on other subjects (web-app, suite, size targets).

It decides what each cell says (state, glyph, short value and bound, hover title) so the
template only lays the table out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.report import fmt
from harness.results import ERROR_GATE, Gate, Report, RowVerdict

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


@dataclass
class Cell:
    state: str  # pass, fail, advisory, waived, na
    glyph: str
    value: str
    bound: str
    title: str


@dataclass
class GateRow:
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
    rows: list[GateRow]


def gate_state(g: Gate) -> str:
    return g.state


def _short_number(kind: str, x: float) -> str:
    if kind == "accuracy" and 0 <= x <= 1:
        return f"{x * 100:.1f}%".replace(".0%", "%")
    return f"{x / 1e3:.3g}k" if abs(x) >= 1e4 else fmt.sig(x)


def gate_text(g: Gate) -> tuple[str, str]:
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
    value, bound = ("waived", "") if g.state == "waived" else gate_text(g)
    glyph = "?" if not g.evaluated and g.state != "waived" else GLYPH[g.state]
    return Cell(g.state, glyph, value, bound, _gate_title(g))


def _missing(why: str) -> Cell:
    return Cell("na", "–", "", "", why)


def gate_table(report: Report) -> tuple[list[Group], list[tuple[str, str]]]:
    """Rows grouped by platform and engine, then a group of gates on other subjects."""
    by_subject = report.gates_by_subject()
    row_gates: dict[str, dict[str, Gate]] = {}
    for rid in report.runtime_ids():
        own = dict(by_subject.get(rid, {}))
        size = report.size_gate_for(rid)
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
    multi = len(report.all_machines()) > 1
    groups = []
    for grp in report.groups():
        rows = [_runtime_row(report, rid, row_gates[rid], columns=columns, multi=multi) for rid in grp.runtime_ids]
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
        others.append(GateRow(subject, "", subject, VERDICT_WORD[verdict], cells, other=True))
    if others:
        worst = next(
            (v for v in ("fail", "waived", "advisory", "pass") if any(o.verdict[0] == v for o in others)), "pass"
        )
        groups.append(Group("Other gates", "gates/-", VERDICT_WORD[worst], others))  # type: ignore[index]
    return groups, columns


def _runtime_row(
    report: Report, rid: str, gates: dict[str, Gate], *, columns: list[tuple[str, str]], multi: bool
) -> GateRow:
    row, missing, spec = report.runtimes.get(rid), report.unavailable.get(rid), report.spec_of(rid)
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
    out = GateRow(rid, sub, missing.reason if missing else rid, VERDICT_WORD[report.runtime_verdict(rid)])
    if error is not None:
        out.error = error.line()
        return out
    na = "not run here" if missing is not None else "no such gate for this row"
    out.cells = [cell(gates[k]) if k in gates else _missing(na) for k, _ in columns]
    return out

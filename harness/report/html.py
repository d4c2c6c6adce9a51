"""report.html: a view of report.json that a release manager reads at a glance.

One self-contained page: inline CSS, inline SVG drawn in Python, no script, no font, no URL
of any kind, so it opens from a file:// link, an artifact store or an email attachment with
networking off. The first screen is the verdict and the runtime x gate table (colour and a
glyph, the value against its budget in small text and on hover); the evidence follows.
An incomplete report (a run stopped midway) renders whatever it has, marked as such.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from harness.report import svg
from harness.report.history import entry as history_entry
from harness.report.svg import esc, finite, nbytes, sig

REFERENCE = "keras"
GATE_COLUMNS = {  # gate kind -> column heading, in table order
    "agreement": "agreement",
    "accuracy": "accuracy",
    "latency_p50": "p50",
    "latency_p95": "p95",
    "throughput": "throughput",
    "load_time": "load",
    "first_prediction": "first result",
    "size": "size (gz)",
    "golden": "golden",
    "available": "available",
    "conformance": "suite",
}
AT_LEAST = {"throughput", "accuracy"}  # gates whose value must reach the budget, not stay under it
UNITS = {"reviews/s": "/s", "bytes gzip": "", "bytes": ""}  # short forms inside the table
GLYPH = {"pass": "✓", "fail": "✗", "advisory": "!", "waived": "~", "na": "–"}
LEGEND = {"pass": "pass", "fail": "fail", "waived": "waived", "advisory": "advisory fail", "na": "n/a"}
SECTIONS = {"scores": "scores", "diffs": "differences", "latency": "latency", "sizes": "sizes", "worst": "worst cases",
            "divergences": "divergences", "unavailable": "unavailable", "trends": "trends", "environment": "environment"}  # fmt: skip
TEXT_LIMIT = 240
HISTORY_LIMIT = 90

CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#24292f;background:#fff}
main{max-width:1240px;margin:0 auto;padding:12px 20px 40px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
h1{font-size:22px;margin:0}
h2{font-size:17px;margin:28px 0 6px;padding-top:8px;border-top:1px solid #d0d7de}
.sub{color:#57606a;font-size:12.5px}
.incomplete{background:repeating-linear-gradient(135deg,#fff8c5 0 14px,#fae17d 14px 28px);border:2px solid #bf8700;
  color:#4d2d00;font-weight:700;padding:8px 12px;margin-bottom:10px;border-radius:6px;font-size:15px}
.top{display:flex;gap:18px;align-items:center;margin-bottom:8px}
.badge{font-size:40px;font-weight:800;letter-spacing:2px;padding:4px 22px;border-radius:8px;color:#fff;min-width:150px;text-align:center}
.badge.pass{background:#1a7f37;color:#fff}.badge.fail{background:#cf222e;color:#fff}.badge.unknown{background:#bf8700;color:#fff}
.meta{margin-top:2px}.meta b{font-weight:600}
.counts span{margin-right:12px}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
table.gates td{vertical-align:middle}
th{background:#f6f8fa;font-weight:600}
table.gates td.c{text-align:center;padding:1px 4px;white-space:nowrap;font-size:12px;line-height:1.15}
table.gates td.c b{margin-right:3px}table.gates td.c small{display:block;font-size:10.5px;opacity:.85}
table.gates th.g{text-align:center;font-size:12px}
table.gates tr.other td.rt{font-style:italic}
td.rt{white-space:nowrap;line-height:1.15}td.rt small{display:block;color:#57606a;font-size:11px;white-space:normal;max-width:190px}
.pass{background:#dafbe1;color:#116329}.fail{background:#ffcecb;color:#82071e;font-weight:600}
.advisory{background:#fff1e5;color:#953800}.waived{background:#fff8c5;color:#7d4e00}.na{background:#f0f1f3;color:#8c959f}
td.v{font-weight:700;text-align:center;white-space:nowrap}
.legend span{display:inline-block;padding:0 6px;margin-right:6px;border-radius:3px;font-size:12px}
ul.issues{margin:6px 0;padding-left:20px}ul.issues li{margin:1px 0}
.multiples{display:flex;flex-wrap:wrap;gap:4px 10px}
td.text{max-width:360px;word-break:break-word}td:first-child code{white-space:nowrap}
td.cmd code{user-select:all;overflow-wrap:anywhere;display:block;max-width:380px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:middle}
.runs span{display:inline-block;width:12px;height:16px;margin-right:2px;border-radius:2px}
.runs .pass{background:#2da44e}.runs .fail{background:#cf222e}.runs .other{background:#bf8700}
nav a{margin-right:10px;font-size:13px;color:#0969da}
details{margin:6px 0}summary{cursor:pointer;color:#57606a}
.empty{color:#57606a;font-style:italic}
"""


def render(report: dict[str, Any], history: list[dict[str, Any]]) -> str:
    r = report if isinstance(report, dict) else {}
    kind = "Release sign-off" if r.get("kind") == "signoff" else "Conformance report"
    sections = [
        _header(r, kind),
        _gate_table(r),
        _issues(r),
        _nav(),
        _scores(r),
        _diffs(r),
        _latency(r),
        _sizes(r),
        _worst(r),
        _divergences(r),
        _unavailable(r),
        _trends(r, history or []),
        _environment(r),
        f'<p class="sub">Rendered from report.json (schema {esc(r.get("schema") or "?")}, '
        f"status {esc(r.get('status') or '?')}).</p>",
    ]
    title = f"{_verdict(r)[1]} · {kind} · {str(r.get('bundle_hash') or '')[:12]}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}{svg.CSS}</style></head>\n<body><main>\n"
        + "\n".join(s for s in sections if s)
        + "\n</main></body></html>\n"
    )


# ---- helpers over the report -------------------------------------------------------------


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _gates(r: dict[str, Any]) -> list[dict[str, Any]]:
    return [g for g in _list(r.get("gates")) if isinstance(g, dict)]


def _state(g: dict[str, Any]) -> str:
    if g.get("waived"):
        return "waived"
    if g.get("passed") is True:
        return "pass"
    if g.get("passed") is False:
        return "fail" if g.get("required", True) else "advisory"
    return "na"


def _verdict(r: dict[str, Any]) -> tuple[str, str]:
    """(css class, word) of the overall verdict; computed from gates when the report has none."""
    v = r.get("verdict")
    if v not in ("pass", "fail"):
        gates = _gates(r)
        v = "fail" if any(_state(g) == "fail" for g in gates) else ("pass" if gates else None)
    if r.get("status") == "incomplete":
        return "unknown", "INCOMPLETE"
    return (v, v.upper()) if v else ("unknown", "NO VERDICT")


def _runtime_ids(r: dict[str, Any]) -> list[str]:
    ids = list(_dict(r.get("runtimes")))
    ids += [rid for rid in _dict(r.get("unavailable")) if rid not in ids]
    return ids


def _gate_text(g: dict[str, Any]) -> tuple[str, str]:
    """The value and its budget, short: ('0.42', '≤1 ms')."""
    value, budget, unit, kind = g.get("value"), g.get("budget"), g.get("unit") or "", g.get("gate")
    if kind == "size":
        return nbytes(value), f"≤{nbytes(budget)}" if finite(budget) else ""
    if not finite(value):
        return ("not run" if kind == "available" and g.get("passed") is False else ""), ""
    unit = UNITS.get(unit, unit)
    if not finite(budget):
        return f"{_short_number(kind, value)} {unit}".strip(), ""
    bound = f"{'≥' if kind in AT_LEAST else '≤'}{_short_number(kind, budget)} {unit}"
    return _short_number(kind, value), bound.strip()


def _short_number(kind: Any, x: float) -> str:
    if kind == "accuracy" and 0 <= x <= 1:
        return f"{x * 100:.1f}%".replace(".0%", "%")
    if abs(x) >= 1e4:
        return f"{x / 1e3:.3g}k"
    return sig(x)


def _gate_title(g: dict[str, Any]) -> str:
    state = _state(g)
    parts = [f"{g.get('id') or g.get('gate')}: {state.upper()}{'' if g.get('required', True) else ' (advisory)'}"]
    if finite(g.get("value")) or finite(g.get("budget")):
        unit = g.get("unit") or ""
        parts.append(f"value {g.get('value')} {unit}, budget {g.get('budget')} {unit}".replace("  ", " "))
    if g.get("detail"):
        parts.append(str(g["detail"])[:600])
    waived = _dict(g.get("waived"))
    if waived:
        parts.append(f"waived: {waived.get('reason', '')}")
    return " — ".join(parts)


def _cell(g: dict[str, Any] | None, na: str = "") -> str:
    if g is None:
        return f'<td class="c na" title="{esc(na or "no such gate for this row")}">–</td>'
    state = _state(g)
    value, budget = ("waived", "") if state == "waived" else _gate_text(g)
    small = f"<small>{esc(budget)}</small>" if budget else ""
    return f'<td class="c {state}" title="{esc(_gate_title(g))}"><b>{GLYPH[state]}</b>{esc(value)}{small}</td>'


def _row_verdict(gates: list[dict[str, Any]], unavailable: str | None) -> tuple[str, str]:
    states = {_state(g) for g in gates}
    if "fail" in states:
        return "fail", "FAIL"
    if "waived" in states:
        return "waived", "WAIVED"
    if unavailable and "pass" not in states:
        return "na", "N/A"
    if "advisory" in states:
        return "advisory", "PASS!"
    return ("pass", "PASS") if states else ("na", "–")


def _machines(r: dict[str, Any]) -> list[dict[str, Any]]:
    machines = [m for m in _list(r.get("machines")) if isinstance(m, dict)]
    return machines or ([_dict(r.get("environment"))] if r.get("environment") else [])


def _machine_line(m: dict[str, Any]) -> str:
    system = str(m.get("platform") or "").split("-")[0]
    bits = [f"{system} {m.get('machine') or ''}".strip()]
    if m.get("cpu_model"):
        bits.append(str(m["cpu_model"]))
    if m.get("cpu_count"):
        bits.append(f"{m['cpu_count']} cpu")
    if finite(m.get("memory_gb")):
        bits.append(f"{m['memory_gb']:.0f} GB")
    return f"<b>{esc(m.get('hostname') or '?')}</b> ({esc(', '.join(b for b in bits if b))})"


def _when(ts: Any, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if not ts:
        return "?"
    try:
        return datetime.fromisoformat(str(ts).replace("Z", "+00:00")).strftime(fmt)
    except ValueError:
        return str(ts)


def _duration(seconds: Any) -> str:
    if not finite(seconds):
        return ""
    s = int(round(seconds))
    return f"{s // 60} min {s % 60} s" if s >= 60 else f"{seconds:.1f} s"


def _section(anchor: str, title: str, body: str, sub: str = "") -> str:
    subtitle = f' <span class="sub">{esc(sub)}</span>' if sub else ""
    return f'<section id="{anchor}"><h2>{esc(title)}{subtitle}</h2>{body}</section>'


def _table(head: list[str], rows: Sequence[str | list[str]]) -> str:
    """A table from escaped cells; a row given as a string is already a whole <tr>."""
    th = f"<tr>{''.join(f'<th>{esc(h)}</th>' for h in head)}</tr>" if head else ""
    trs = (row if isinstance(row, str) else "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{th}{''.join(trs)}</table>"


def _code(v: Any) -> str:
    return f"<code>{esc(v)}</code>"


def _empty(text: str) -> str:
    return f'<p class="empty">{esc(text)}</p>'


def _short(text: Any, limit: int = TEXT_LIMIT) -> str:
    s = str(text if text is not None else "")
    return s if len(s) <= limit else s[:limit] + f"… ({len(s):,} chars)"


# ---- first screen --------------------------------------------------------------------------


def _header(r: dict[str, Any], kind: str) -> str:
    cls, word = _verdict(r)
    out = []
    if r.get("status") == "incomplete":
        why = f" (by {r['interrupted_by']})" if r.get("interrupted_by") else ""
        partial = f" Partial verdict: {str(r['verdict']).upper()}." if r.get("verdict") in ("pass", "fail") else ""
        out.append(
            f'<div class="incomplete" id="incomplete">⚠ INCOMPLETE RUN: stopped before it finished{esc(why)}; '
            f"this shows only what finished and is not a release verdict.{esc(partial)}</div>"
        )
    bundle = str(r.get("bundle_hash") or "?")
    cases = _dict(r.get("cases"))
    case_text = " + ".join(f"{v:,} {k.replace('_', '-')}" for k, v in cases.items() if isinstance(v, int))
    machines = " · ".join(_machine_line(m) for m in _machines(r)) or "?"
    if r.get("finished_at"):
        when = f"finished {_when(r.get('finished_at'))}"
    else:
        when = f"started {_when(r.get('started_at'))}, did not finish"
    counts: dict[str, int] = {}
    for g in _gates(r):
        counts[_state(g)] = counts.get(_state(g), 0) + 1
    count_html = "".join(
        f'<span class="{s}">{GLYPH[s]} {counts[s]} {label}</span>'
        for s, label in (("fail", "failed"), ("waived", "waived"), ("advisory", "advisory"), ("pass", "passed"))
        if counts.get(s)
    )
    out.append(
        f'<div class="top"><div id="verdict" class="badge {cls}" data-verdict="{esc(cls)}">{esc(word)}</div><div>'
        f"<h1>{esc(kind)}</h1>"
        f'<div class="meta">bundle <code title="{esc(bundle)}">{esc(bundle[:16])}</code> · '
        f"{esc(case_text or '? cases')} · {esc(when)} "
        f"<span class='sub'>{esc(_duration(r.get('seconds')))}</span></div>"
        f'<div class="meta">machine{"s" if len(_machines(r)) > 1 else ""}: {machines}</div>'
        f'<div class="meta counts">{len(_gates(r))} gates: {count_html or "none recorded"}</div></div></div>'
    )
    return "".join(out)


def _gate_table(r: dict[str, Any]) -> str:
    gates = _gates(r)
    runtimes, unavailable = _dict(r.get("runtimes")), _dict(r.get("unavailable"))
    ids = _runtime_ids(r)
    by_subject: dict[str, dict[str, dict[str, Any]]] = {}
    for g in gates:
        by_subject.setdefault(str(g.get("subject")), {})[str(g.get("gate"))] = g
    size_of = {}  # runtime id -> its artifact's size gate ("web:tfjs-u8" for target "tfjs-u8")
    for rid in ids:
        target = _dict(_dict(runtimes.get(rid)).get("artifact")).get("target")
        for subject, row in by_subject.items():
            if "size" in row and target and (subject == target or subject.split(":", 1)[-1] == target):
                size_of[rid] = row["size"]
    shown = {id(g) for g in size_of.values()}
    kinds = {str(g.get("gate")) for g in gates} | ({"size"} if size_of else set())
    columns = [k for k in GATE_COLUMNS if k in kinds] + sorted(k for k in kinds if k not in GATE_COLUMNS)
    head = "".join(
        f'<th class="g" title="{esc(k)}">{esc(GATE_COLUMNS.get(k, k.replace("_", " ")))}</th>' for k in columns
    )
    rows = []
    multi = len(_machines(r)) > 1
    for rid in ids:
        row_gates = dict(by_subject.get(rid, {}))
        if rid in size_of and "size" not in row_gates:
            row_gates["size"] = size_of[rid]
        shown.update(id(g) for g in row_gates.values())
        info = _dict(runtimes.get(rid))
        why = unavailable.get(rid)
        sub = " · ".join(
            str(x)
            for x in (
                info.get("precision"),
                f"{info['tokenizer']} tokenizer" if info.get("tokenizer") else None,
                info.get("machine") if multi else None,
            )
            if x
        )
        if why is not None:
            sub = "not run on this machine"
        vcls, vword = _row_verdict(list(by_subject.get(rid, {}).values()), why)
        cells = "".join(_cell(row_gates.get(k), "not run here" if why is not None else "") for k in columns)
        rows.append(
            f'<tr data-runtime="{esc(rid)}"><td class="rt" title="{esc(why or rid)}"><code>{esc(rid)}</code><small>{esc(sub)}</small></td>'
            f'<td class="v {vcls}">{esc(vword)}</td>{cells}</tr>'
        )
    for subject, row in by_subject.items():
        leftover = {k: g for k, g in row.items() if id(g) not in shown}
        if subject in ids or not leftover:
            continue
        vcls, vword = _row_verdict(list(leftover.values()), None)
        cells = "".join(_cell(leftover.get(k)) for k in columns)
        rows.append(
            f'<tr class="other" data-subject="{esc(subject)}"><td class="rt"><code>{esc(subject)}</code></td>'
            f'<td class="v {vcls}">{esc(vword)}</td>{cells}</tr>'
        )
    if not rows:
        return _empty("No runtimes and no gates in this report.")
    legend = "".join(f'<span class="{s}">{GLYPH[s]} {w}</span>' for s, w in LEGEND.items())
    return (
        f'<table class="gates" id="gates"><thead><tr><th>runtime</th><th>verdict</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<div class="legend sub" style="margin-top:4px">{legend} value / budget in each cell; hover for the detail</div>'
    )


def _issues(r: dict[str, Any]) -> str:
    failing = [g for g in _gates(r) if _state(g) in ("fail", "advisory")]
    waived = [g for g in _gates(r) if _state(g) == "waived"]
    items = [
        f'<li><b class="{_state(g)}">{esc(g.get("id") or g.get("gate"))}</b> {esc(_short(g.get("detail") or " / ".join(t for t in _gate_text(g) if t), 300))}</li>'
        for g in failing[:12]
    ]
    if len(failing) > 12:
        items.append(f"<li>… and {len(failing) - 12} more (see the table)</li>")
    items += [
        f'<li><b class="waived">{esc(g.get("id"))}</b> waived: {esc(_short(_dict(g.get("waived")).get("reason"), 300))}</li>'
        for g in waived
    ]
    return f'<ul class="issues">{"".join(items)}</ul>' if items else ""


def _nav() -> str:
    return "<nav>" + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in SECTIONS.items()) + "</nav>"


# ---- evidence ------------------------------------------------------------------------------


def _reference(r: dict[str, Any]) -> tuple[str, list[Any]]:
    runtimes = _dict(r.get("runtimes"))
    ref = REFERENCE if REFERENCE in runtimes else next(iter(runtimes), "")
    return ref, _list(_dict(runtimes.get(ref)).get("scores"))


def _compared(r: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[Any], list[float]]]:
    """(runtime id, row, scores, |diff| per case) for every runtime with scores, the reference excluded."""
    ref_id, ref = _reference(r)
    out = []
    for rid, row in _dict(r.get("runtimes")).items():
        scores = _list(_dict(row).get("scores"))
        if rid == ref_id or not scores or not ref:
            continue
        diffs = [abs(b - a) if finite(a) and finite(b) else math.inf for a, b in zip(ref, scores, strict=False)]
        out.append((rid, row, scores, diffs))
    return out


def _scores(r: dict[str, Any]) -> str:
    ref_id, ref = _reference(r)
    panels = []
    for rid, row, scores, diffs in _compared(r):
        agree = _dict(row.get("agreement"))
        atol = agree.get("atol")
        bad = [not (d <= atol) if finite(atol) else False for d in diffs]
        mismatch = f" · {len(scores)} vs {len(ref)} scores!" if len(scores) != len(ref) else ""
        note = f"max|Δ| {sig(max(diffs, default=0))} · flips {agree.get('flips', '?')}{mismatch}"
        panels.append(svg.scatter(ref, scores, rid, note, bad))
    body = (
        f'<div class="multiples">{"".join(panels)}</div>'
        if panels
        else _empty(f"No scores to compare with {ref_id or 'the reference'}.")
    )
    return _section("scores", "Scores against keras", body, f"x = {ref_id}, y = runtime; red = beyond atol")


def _diffs(r: dict[str, Any]) -> str:
    rows = []
    for rid, row, _, diffs in _compared(r):
        agree = _dict(row.get("agreement"))
        finite_d = [d for d in diffs if finite(d)]
        mean = agree.get("mean_abs_diff", sum(finite_d) / len(finite_d) if finite_d else None)
        note = f"max {sig(agree.get('max_abs_diff', max(diffs, default=None)))} · mean {sig(mean)} · atol {sig(agree.get('atol'))}"
        broken = len(diffs) - len(finite_d)  # NaN, infinity or missing: never hidden
        note += f" · {broken} non-finite!" if broken else ""
        bad = agree.get("passed") is False or broken > 0
        rows.append({"label": rid, "values": diffs, "atol": agree.get("atol"), "note": note, "bad": bad})
    body = svg.log_hist_rows(rows) if rows else _empty("No differences to show.")
    sub = "per case, log-binned (4 bins a decade); red line = atol"
    return _section("diffs", "Absolute differences from keras", body, sub)


def _latency(r: dict[str, Any]) -> str:
    budgets = {(g.get("gate"), g.get("subject")): g for g in _gates(r)}
    rows = []
    for rid, row in _dict(r.get("runtimes")).items():
        lat = _dict(_dict(row).get("latency"))
        if not lat:
            continue
        single = _dict(lat.get("single_ms"))
        b50, b95 = _dict(budgets.get(("latency_p50", rid))), _dict(budgets.get(("latency_p95", rid)))
        failed = any(
            _state(_dict(budgets.get((k, rid)))) == "fail"
            for k in ("latency_p50", "latency_p95", "throughput", "load_time")
        )
        note = f"p50 {sig(single.get('p50'))} · p95 {sig(single.get('p95'))} ms"
        if finite(lat.get("batch_reviews_per_second")):
            note += f" · {lat['batch_reviews_per_second']:,.0f}/s"
        if finite(lat.get("load_seconds")):
            note += f" · load {sig(lat['load_seconds'])} s"
        if lat.get("remeasured"):
            note += " · re-measured"
        rows.append(
            {
                "label": rid,
                "samples": _list(single.get("samples")),
                "p50": single.get("p50"),
                "p95": single.get("p95"),
                "budget_p50": b50.get("budget"),
                "budget_p95": b95.get("budget"),
                "note": note,
                "bad": failed,
            }
        )
    body = svg.latency_rows(rows) if rows else _empty("No latency measured in this report.")
    return _section("latency", "Single-review latency", body, "measured in each runtime after warm-up")


def _sizes(r: dict[str, Any]) -> str:
    rows, files = [], []
    for target, s in _dict(r.get("sizes")).items():
        s = _dict(s)
        gz, budget = s.get("gzip_bytes"), s.get("budget_gzip_bytes")
        note = f"{nbytes(gz)} of {nbytes(budget)} gz · raw {nbytes(s.get('bytes'))}"
        rows.append({"label": target, "value": gz, "budget": budget, "note": note, "passed": s.get("passed")})
        for name, f in _dict(s.get("files")).items():
            f = _dict(f)
            files.append([_code(target), _code(name), esc(nbytes(f.get("bytes"))), esc(nbytes(f.get("gzip_bytes")))])
    if not rows:
        return _section("sizes", "Sizes against budgets", _empty("No sizes measured in this report."))
    body = svg.size_bars(rows)
    if files:
        body += f"<details><summary>files</summary>{_table(['target', 'file', 'bytes', 'gzip'], files)}</details>"
    return _section("sizes", "Sizes against budgets", body, "gzip bytes of what ships; red line = budget")


def _worst(r: dict[str, Any]) -> str:
    rows: list[str | list[str]] = []
    for c in map(_dict, _list(r.get("worst_cases"))):
        rows.append(
            f"<tr><td>{_code(c.get('runtime'))}</td><td>{_code(c.get('case_id'))}</td>"
            f'<td class="text"><bdi>{esc(_short(c.get("text")))}</bdi></td><td>{esc(sig(c.get("reference"), 6))}</td>'
            f"<td>{esc(sig(c.get('score'), 6))}</td><td>{esc(sig(c.get('diff')))}</td>"
            f'<td class="cmd">{_code(_short(c.get("command"), 600))}</td></tr>'
        )
    head = ["runtime", "case", "text", "keras", "score", "|diff|", "reproduce"]
    body = _table(head, rows) if rows else _empty("No worst cases recorded.")
    return _section("worst", "Worst cases", body, "largest |diff| per runtime; click a command to select it")


def _divergences(r: dict[str, Any]) -> str:
    rows: list[str | list[str]] = []
    for d in map(_dict, _list(r.get("divergences"))):
        cases = [str(c) for c in _list(d.get("cases"))]
        case_text = ", ".join(cases[:6]) + (f" … (+{len(cases) - 6})" if len(cases) > 6 else "")
        runtimes = ", ".join(str(x) for x in _list(d.get("runtimes")))
        cells = (d.get("kind"), runtimes, case_text, d.get("input_class") or "", d.get("cause"))
        rows.append([_code(d.get("id")), *map(esc, cells), _code(d.get("link") or "")])
    head = ["id", "kind", "runtimes", "cases", "input class", "cause", "reference"]
    body = _table(head, rows) if rows else _empty("No divergences declared (golden/known_divergences.toml).")
    golden = _dict(r.get("golden"))
    findings: list[str | list[str]] = [
        f'<tr class="{"waived" if f.get("declared") else "fail"}"><td>{esc(f.get("kind"))}</td>'
        f"<td>{_code(f.get('runtime'))}</td><td>{_code(f.get('case_id'))}</td>"
        f"<td>{'yes' if f.get('declared') else 'NO'}</td><td>{esc(_short(f.get('detail'), 400))}</td></tr>"
        for f in map(_dict, _list(golden.get("findings")))
    ]
    if findings:
        body += "<h3>Golden findings</h3>" + _table(["kind", "runtime", "case", "declared", "detail"], findings)
    unused = _list(golden.get("unused_divergences"))
    if unused:
        body += f'<p class="fail">Declared but no longer happening (update the file): {esc(", ".join(map(str, unused)))}</p>'
    sub = f"golden: {golden.get('cases', '?')} cases, {'pass' if golden.get('passed') else 'FAIL'}" if golden else ""
    return _section("divergences", "Declared divergences", body, sub)


def _unavailable(r: dict[str, Any]) -> str:
    rows: list[str | list[str]] = []
    for rid, why in _dict(r.get("unavailable")).items():
        reason, _, hint = str(why).partition(";")
        rows.append([_code(rid), esc(reason), _code(hint.strip())])
    head = ["runtime", "why it did not run here", "to run it"]
    body = _table(head, rows) if rows else _empty("Every runtime in the matrix ran.")
    return _section("unavailable", "Unavailable runtimes", body)


def _trends(r: dict[str, Any], history: list[dict[str, Any]]) -> str:
    runs = [h for h in history if isinstance(h, dict)]
    if r.get("finished_at") and not any(h.get("finished_at") == r.get("finished_at") for h in runs):
        runs.append(history_entry(r))  # so the trend always ends at the run on the page
    skipped = max(0, len(runs) - HISTORY_LIMIT)
    runs = runs[skipped:]
    names = sorted({rid for h in runs for rid in _dict(h.get("runtimes"))} | set(_runtime_ids(r)))
    colors = {rid: svg.PALETTE[i % len(svg.PALETTE)] for i, rid in enumerate(names)}
    labels = [_when(h.get("finished_at"), "%m-%d %H:%M") for h in runs]
    breaks = [i for i in range(1, len(runs)) if runs[i].get("bundle_hash") != runs[i - 1].get("bundle_hash")]
    charts: list[str] = []
    plotted: set[str] = set()
    for key, title, unit in (("max_abs_diff", "max |diff| from keras", "|diff|"), ("p95_ms", "p95 latency", "ms")):
        series: dict[str, list[tuple[int, float]]] = {}
        for rid in names:
            values = [(i, _dict(_dict(h.get("runtimes")).get(rid)).get(key)) for i, h in enumerate(runs)]
            points = [(i, v) for i, v in values if finite(v) and v > 0]
            if points:
                series[rid] = points
        plotted.update(series)
        charts.append(svg.trend(series, labels, colors, title, unit, breaks))
    strip = "".join(
        f'<span class="{h.get("verdict") if h.get("verdict") in ("pass", "fail") else "other"}" '
        f'title="{esc(h.get("finished_at"))} · {esc(h.get("hostname") or "")} · bundle {esc(str(h.get("bundle_hash") or "")[:12])} · {esc(h.get("verdict"))}"></span>'
        for h in runs
    )
    legend = "".join(
        f'<span class="swatch" style="background:{c}"></span><code>{esc(rid)}</code>'
        for rid, c in colors.items()
        if rid in plotted
    )
    more = f" (last {len(runs)} of {len(runs) + skipped})" if skipped else ""
    body = (
        f'<div class="runs sub">verdict per run, oldest first{esc(more)}: {strip}</div>'
        f'<div class="multiples">{"".join(charts)}</div><div class="sub">{legend}</div>'
    )
    return _section("trends", "Trends", body, f"{len(runs)} run(s) from reports/history.jsonl")


def _environment(r: dict[str, Any]) -> str:
    blocks = []
    for m in _machines(r):
        rows: list[str | list[str]] = [[esc(k), esc(v)] for k, v in m.items() if k != "tool_versions" and v is not None]
        tools = _dict(m.get("tool_versions"))
        rows += ["<tr><th colspan=2>tool versions</th></tr>"] if tools else []
        rows += [[esc(k), _code(v)] for k, v in tools.items()]
        blocks.append(
            f"<details open><summary>{esc(m.get('hostname') or 'machine')}</summary>{_table([], rows)}</details>"
        )
    blocks = [f'<div class="multiples">{"".join(blocks)}</div>'] if blocks else []
    metrics = [
        [esc(k), esc(sig(_dict(v).get("accuracy"), 4)), esc(sig(_dict(v).get("loss"), 4)), esc(_dict(v).get("n", ""))]
        for k, v in _dict(r.get("bundle_metrics")).items()
    ]
    if metrics:
        blocks.append("<h3>Reference bundle</h3>" + _table(["split", "accuracy", "loss", "n"], metrics))
    body = "".join(blocks) or _empty("No environment recorded.")
    return _section("environment", "Environment", body, "machines, tool versions, the bundle's training metrics")

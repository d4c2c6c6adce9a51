"""Safe markup text and small inline-SVG charts for the HTML report.

Charts are drawn here in Python so the report needs no script, font or stylesheet from
anywhere: it opens from a file:// link with networking off. Coordinates are rounded and
coincident points drawn once, so ten runtimes of a thousand points stay a few hundred kB.
Every string that reaches markup goes through `esc`, which also replaces what UTF-8 or
XML cannot carry (lone surrogates from reviews, C0 controls) with U+FFFD.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import TypeGuard

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#6b6b6b", "#8c564b", "#bcbd22", "#17becf")
PASS, FAIL, MUTED, INK = "#1a7f37", "#cf222e", "#8c959f", "#24292f"
CSS = """
.chart{max-width:100%;height:auto;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.chart .axis{stroke:#8c959f;stroke-width:1}.chart .grid{stroke:#eaeef2;stroke-width:1}
.chart .diag{stroke:#8c959f;stroke-dasharray:3 3}
.chart .budget{stroke:#cf222e;stroke-width:2}.chart .budget50{stroke:#0969da;stroke-width:2;stroke-dasharray:3 2}
.chart .break{stroke:#8c959f;stroke-dasharray:4 3}
.chart .whisker{stroke:#6e7781;stroke-width:1}.chart .median{stroke:#0a3069;stroke-width:2.5}.chart .p95{fill:#0a3069}
.chart text{fill:#24292f;font-size:11px}.chart .tick{fill:#57606a;font-size:10px}.chart .mark{fill:#57606a;font-size:10px}
.chart .ptitle{font-weight:600;font-size:12px}.chart .pnote{fill:#57606a;font-size:10.5px}
.chart .rlabel{font-size:12px}.chart .rnote{font-size:11px;fill:#57606a}.chart .rnote.bad{fill:#cf222e;font-weight:600}
"""


def clean(value: object) -> str:
    """`str(value)` that encodes as UTF-8 and is a legal XML 1.0 character sequence."""
    return _UNSAFE.sub("\ufffd", str(value))


def esc(value: object) -> str:
    return html.escape(clean(value), quote=True)


def n(v: float) -> str:
    """A coordinate, to one decimal, without trailing zeros."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def finite(v: object) -> TypeGuard[float]:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def sig(v: object, digits: int = 3) -> str:
    """A measured number, compact: 0.000123 -> 1.23e-4, 12.345 -> 12.3, 48213.7 -> 48,214."""
    if not finite(v):
        return "–" if v is None else str(v)
    x = float(v)  # type: ignore[arg-type]
    if x == 0:
        return "0"
    if abs(x) < 1e-3 or abs(x) >= 1e7:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    if abs(x) >= 10**digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def nbytes(v: object) -> str:
    if not finite(v):
        return "–"
    x = float(v)  # type: ignore[arg-type]
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if abs(x) >= size:
            return f"{x / size:.3g} {unit}"
    return f"{x:.0f} B"


class Scale:
    """Linear or log10 map from a data interval onto a pixel interval (values clamped)."""

    def __init__(self, lo: float, hi: float, a: float, b: float, log: bool = False) -> None:
        self.log = log
        self.lo, self.hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        if self.hi <= self.lo:
            self.hi = self.lo + 1.0
        self.a, self.b = a, b

    def __call__(self, v: float) -> float:
        if self.log:
            v = math.log10(v) if v > 0 else self.lo
        t = min(1.0, max(0.0, (v - self.lo) / (self.hi - self.lo)))
        return self.a + t * (self.b - self.a)

    def ticks(self) -> list[float]:
        if self.log:
            lo, hi = math.floor(self.lo + 1e-9), math.ceil(self.hi - 1e-9)
            step = max(1, math.ceil((hi - lo) / 6))
            return [10.0**e for e in range(lo, hi + 1, step) if self.lo - 1e-9 <= e <= self.hi + 1e-9]
        span = self.hi - self.lo
        raw = span / 4
        mag = 10 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
        first = math.ceil(self.lo / step - 1e-9) * step
        return [round(first + i * step, 12) for i in range(int((self.hi - first) / step + 1e-9) + 1)]


def log_domain(values: Iterable[float], floor: float = 1e-9, pad_decades: float = 0.0) -> tuple[float, float]:
    """Whole decades covering the positive values (one decade when there is a single value)."""
    pos = [v for v in values if finite(v) and v > 0]
    if not pos:
        return floor, 1.0
    lo = 10 ** math.floor(math.log10(max(min(pos), floor)) - pad_decades)
    hi = 10 ** math.ceil(math.log10(max(pos)) + pad_decades)
    return (lo, hi * 10) if hi <= lo else (lo, hi)


def tick_label(v: float, log: bool) -> str:
    if log:
        e = round(math.log10(v))
        return f"{v:g}" if -2 <= e <= 3 else f"1e{e}"
    return f"{v:g}"


def frame(width: int, height: int, body: str, label: str) -> str:
    return (
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(label)}">{body}</svg>'
    )


def text(x: float, y: float, s: object, cls: str = "", anchor: str = "start", title: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    a = f' text-anchor="{anchor}"' if anchor != "start" else ""
    t = f"<title>{esc(title)}</title>" if title else ""
    return f'<text x="{n(x)}" y="{n(y)}"{c}{a}>{t}{esc(s)}</text>'


def line(x1: float, y1: float, x2: float, y2: float, cls: str = "") -> str:
    return f'<line x1="{n(x1)}" y1="{n(y1)}" x2="{n(x2)}" y2="{n(y2)}" class="{cls}"/>'


def dots(points: Iterable[tuple[float, float]], color: str, size: float = 3.0, opacity: float = 0.55) -> str:
    """Round dots as one path of zero-length segments; points on the same pixel drawn once."""
    seen: set[tuple[int, int]] = set()
    parts = []
    for x, y in points:
        key = (round(x), round(y))
        if key not in seen:
            seen.add(key)
            parts.append(f"M{key[0]} {key[1]}h0")
    if not parts:
        return ""
    return (
        f'<path d="{"".join(parts)}" stroke="{color}" stroke-width="{size:g}" '
        f'stroke-linecap="round" stroke-opacity="{opacity:g}" fill="none"/>'
    )


def x_axis(scale: Scale, y: float, y_top: float, log: bool = False, fmt=None) -> str:
    out = [line(scale.a, y, scale.b, y, "axis")]
    for t in scale.ticks():
        x = scale(t)
        out.append(line(x, y_top, x, y, "grid"))
        out.append(text(x, y + 12, fmt(t) if fmt else tick_label(t, log), "tick", "middle"))
    return "".join(out)


def y_axis(scale: Scale, x: float, x_right: float, log: bool = False) -> str:
    out = [line(x, scale.a, x, scale.b, "axis")]
    for t in scale.ticks():
        y = scale(t)
        out.append(line(x, y, x_right, y, "grid"))
        out.append(text(x - 3, y + 3, tick_label(t, log), "tick", "end"))
    return "".join(out)


def scatter(
    xs: Sequence[float], ys: Sequence[float], title: str, note: str, bad: Sequence[bool], size: int = 170
) -> str:
    """Scores of one runtime (y) against the reference (x) on [0, 1] x [0, 1], with y = x."""
    left, top, right, bottom = 26, 18, 6, 30
    w, h = size + left + right, size + top + bottom
    sx, sy = Scale(0, 1, left, left + size), Scale(0, 1, top + size, top)
    body = [text(left, 12, title, "ptitle"), x_axis(sx, top + size, top), y_axis(sy, left, left + size)]
    body.append(line(sx(0), sy(0), sx(1), sy(1), "diag"))
    good = [(sx(x), sy(y)) for x, y, b in zip(xs, ys, bad, strict=False) if finite(x) and finite(y) and not b]
    worse = [(sx(x), sy(y)) for x, y, b in zip(xs, ys, bad, strict=False) if finite(x) and finite(y) and b]
    body.append(dots(good, PALETTE[0]))
    body.append(dots(worse, FAIL, 4, 0.9))
    body.append(text(left, h - 4, note, "pnote"))
    return frame(w, h, "".join(body), f"{title}: scores against keras")


def log_hist_rows(rows: Sequence[dict], lo: float = 1e-9, hi: float = 1.0, per_decade: int = 4) -> str:
    """Per row a histogram of |diff| on log-spaced bins, exact zeros in their own bin at the left.

    Row keys: label, values, atol (marker, may be None), note, bad (bool: note in red)."""
    label_w, plot_w, note_w, row_h, top = 150, 560, 400, 30, 20
    zero_w = 22
    x0 = label_w + zero_w + 6
    scale = Scale(lo, hi, x0, x0 + plot_w, log=True)
    edges = [lo * 10 ** (i / per_decade) for i in range(int(round(math.log10(hi / lo) * per_decade)) + 1)]
    h = top + row_h * len(rows) + 18
    w = label_w + zero_w + 6 + plot_w + 10 + note_w
    body = [text(label_w, 12, "0", "tick", "end"), text(x0, 12, f"< {tick_label(lo, True)}", "tick")]
    for t in scale.ticks():
        x = scale(t)
        body.append(line(x, top - 2, x, top + row_h * len(rows), "grid"))
        body.append(text(x, h - 4, tick_label(t, True), "tick", "middle"))
    for r, row in enumerate(rows):
        y_base = top + row_h * (r + 1) - 4
        vals = [abs(v) for v in row["values"] if finite(v)]
        zeros = sum(1 for v in vals if v == 0)
        counts = [0] * (len(edges) + 1)  # last = above hi
        for v in vals:
            if v > 0:
                i = 0 if v < lo else min(len(edges), int(math.log10(v / lo) * per_decade) + 1)
                counts[min(i, len(counts) - 1)] += 1
        peak = max([zeros, *counts, 1])
        atol = row.get("atol")
        body.append(text(label_w - 6, y_base - 6, row["label"], "rlabel", "end"))
        body.append(line(label_w, y_base, x0 + plot_w, y_base, "axis"))
        if zeros:
            bh = (row_h - 8) * math.sqrt(zeros / peak)
            body.append(_bar(label_w + 2, y_base - bh, zero_w - 4, bh, MUTED, f"{zeros} exactly equal"))
        for i, c in enumerate(counts):
            if not c:
                continue
            a = edges[i - 1] if i else lo / 10
            b = edges[i] if i < len(edges) else hi * 10
            xa, xb = scale(max(a, lo)), scale(min(b, hi)) if i < len(edges) else x0 + plot_w + 6
            bh = (row_h - 8) * math.sqrt(c / peak)
            over = finite(atol) and a >= atol
            body.append(
                _bar(
                    xa + 0.5,
                    y_base - bh,
                    max(1.0, xb - xa - 1),
                    bh,
                    FAIL if over else PALETTE[0],
                    f"{c} case(s) with |diff| in [{a:.1e}, {b:.1e})",
                )
            )
        if finite(atol) and lo <= atol <= hi:
            x = scale(atol)
            body.append(line(x, y_base - row_h + 6, x, y_base + 2, "budget"))
            body.append(text(x + 2, y_base - row_h + 13, "atol", "mark"))
        body.append(text(x0 + plot_w + 10, y_base - 6, row.get("note", ""), "rnote bad" if row.get("bad") else "rnote"))
    return frame(w, h, "".join(body), "distribution of absolute differences from keras, log scale")


def _bar(x: float, y: float, w: float, h: float, color: str, title: str) -> str:
    return (
        f'<rect x="{n(x)}" y="{n(y)}" width="{n(w)}" height="{n(h)}" fill="{color}"><title>{esc(title)}</title></rect>'
    )


def quantile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    pos = q * (len(sorted_values) - 1)
    i = int(pos)
    j = min(i + 1, len(sorted_values) - 1)
    return sorted_values[i] + (sorted_values[j] - sorted_values[i]) * (pos - i)


def latency_rows(rows: Sequence[dict]) -> str:
    """Per runtime: the single-review latency samples (strip), their box, p50/p95 and the budgets.

    Row keys: label, samples, p50, p95, budget_p50, budget_p95, note, bad."""
    label_w, plot_w, note_w, row_h, top = 150, 560, 400, 34, 22
    every = [
        v
        for r in rows
        for v in (*r.get("samples", []), r.get("p50"), r.get("p95"), r.get("budget_p50"), r.get("budget_p95"))
    ]
    lo, hi = log_domain([v for v in every if finite(v)], floor=1e-3)
    scale = Scale(lo, hi, label_w, label_w + plot_w, log=True)
    h = top + row_h * len(rows) + 18
    w = label_w + plot_w + 10 + note_w
    body = [
        line(label_w, 6, label_w + 12, 6, "budget50"),
        text(label_w + 16, 10, "p50 budget", "mark"),
        line(label_w + 90, 6, label_w + 102, 6, "budget"),
        text(label_w + 106, 10, "p95 budget", "mark"),
        text(label_w + 190, 10, "box: quartiles · bar: median · ◆ p95 · dots: samples (ms, log scale)", "mark"),
    ]
    for t in scale.ticks():
        x = scale(t)
        body.append(line(x, top - 2, x, top + row_h * len(rows), "grid"))
        body.append(text(x, h - 4, tick_label(t, True), "tick", "middle"))
    for r, row in enumerate(rows):
        mid = top + row_h * r + row_h / 2
        body.append(text(label_w - 6, mid + 4, row["label"], "rlabel", "end"))
        samples = sorted(v for v in row.get("samples", []) if finite(v) and v > 0)
        if samples:
            q1, med, q3 = (quantile(samples, q) for q in (0.25, 0.5, 0.75))
            body.append(line(scale(samples[0]), mid, scale(samples[-1]), mid, "whisker"))
            body.append(
                _bar(
                    scale(q1),
                    mid - 7,
                    max(1.0, scale(q3) - scale(q1)),
                    14,
                    "#dbe9f6",
                    f"quartiles {q1:.3g}–{q3:.3g} ms",
                )
            )
            body.append(
                dots(((scale(v), mid - 9 + (i * 7919 % 19)) for i, v in enumerate(samples)), PALETTE[0], 2.2, 0.45)
            )
            body.append(
                f'<line x1="{n(scale(med))}" y1="{n(mid - 8)}" x2="{n(scale(med))}" y2="{n(mid + 8)}" class="median"/>'
            )
        elif not finite(row.get("p50")):
            body.append(text(label_w + 6, mid + 4, "no latency measured", "mark"))
        if finite(row.get("p95")):
            x = scale(row["p95"])
            body.append(f'<path d="M{n(x)} {n(mid - 5)}l4 5l-4 5l-4 -5z" class="p95"/>')
        for key, cls in (("budget_p50", "budget50"), ("budget_p95", "budget")):
            if finite(row.get(key)):
                x = scale(row[key])
                body.append(line(x, mid - row_h / 2 + 3, x, mid + row_h / 2 - 3, cls))
        body.append(
            text(label_w + plot_w + 10, mid + 4, row.get("note", ""), "rnote bad" if row.get("bad") else "rnote")
        )
    return frame(w, h, "".join(body), "single-review latency per runtime, log scale, with budgets")


def size_bars(rows: Sequence[dict]) -> str:
    """Gzip bytes of what ships per target against its budget. Row keys: label, value, budget, note, passed."""
    label_w, plot_w, note_w, row_h, top = 150, 560, 400, 26, 8
    top_value = max([1.0, *(float(r[k]) for r in rows for k in ("value", "budget") if finite(r.get(k)))])
    scale = Scale(0, top_value * 1.08, label_w, label_w + plot_w)
    h = top + row_h * len(rows) + 18
    w = label_w + plot_w + 10 + note_w
    body = [x_axis(scale, top + row_h * len(rows), top, fmt=lambda v: nbytes(v))]
    for r, row in enumerate(rows):
        y = top + row_h * r
        body.append(text(label_w - 6, y + row_h / 2 + 4, row["label"], "rlabel", "end"))
        if finite(row.get("value")):
            color = PASS if row.get("passed") else FAIL if row.get("passed") is False else MUTED
            body.append(
                _bar(label_w, y + 5, scale(row["value"]) - label_w, row_h - 10, color, f"{nbytes(row['value'])} gzip")
            )
        if finite(row.get("budget")):
            x = scale(row["budget"])
            body.append(line(x, y + 2, x, y + row_h - 2, "budget"))
        body.append(
            text(
                label_w + plot_w + 10,
                y + row_h / 2 + 4,
                row.get("note", ""),
                "rnote" if row.get("passed") is not False else "rnote bad",
            )
        )
    return frame(w, h, "".join(body), "shipped size (gzip bytes) per target against budget")


def trend(
    series: dict[str, list[tuple[int, float]]],
    labels: Sequence[str],
    colors: dict[str, str],
    title: str,
    unit: str,
    breaks: Sequence[int] = (),
) -> str:
    """Lines over run index, log y; a dashed vertical line where the bundle changed.

    A runtime missing from some runs is drawn through the runs that have it (dots mark them)."""
    left, top, right, bottom, plot_w, plot_h = 52, 20, 14, 34, 520, 160
    w, h = left + plot_w + right, top + plot_h + bottom
    count = len(labels)
    if count == 0:
        return frame(w, 60, text(10, 20, title, "ptitle") + text(10, 44, "no history yet", "mark"), title)
    lo, hi = log_domain([v for pts in series.values() for _, v in pts], floor=1e-9)
    sy = Scale(lo, hi, top + plot_h, top, log=True)

    def sx(i: int) -> float:
        return left + (plot_w / 2 if count == 1 else i * plot_w / (count - 1))

    body = [
        text(left, 12, title, "ptitle"),
        y_axis(sy, left, left + plot_w, log=True),
        line(left, top + plot_h, left + plot_w, top + plot_h, "axis"),
    ]
    placed: list[float] = []
    for i in sorted({0, count - 1, *breaks}, key=lambda i: (i not in (0, count - 1), i)):
        x = sx(i)
        if 0 <= i < count and all(abs(x - p) > 70 for p in placed):
            placed.append(x)
            anchor = "middle" if 0 < i < count - 1 or count == 1 else ("start" if i == 0 else "end")
            body.append(text(x, top + plot_h + 13, labels[i], "tick", anchor))
    for i in breaks:
        if 0 < i < count:
            x = (sx(i - 1) + sx(i)) / 2
            body.append(line(x, top, x, top + plot_h, "break"))
            body.append(text(x + 2, top + 8, "new bundle", "mark"))
    for name, pts in series.items():
        pts = [(i, v) for i, v in pts if finite(v) and v > 0]
        if not pts:
            continue
        color = colors.get(name, INK)
        d = "".join(("M" if k == 0 else "L") + f"{n(sx(i))} {n(sy(v))}" for k, (i, v) in enumerate(pts))
        body.append(f'<path d="{d}" stroke="{color}" stroke-width="1.6" fill="none"><title>{esc(name)}</title></path>')
        body.append(dots(((sx(i), sy(v)) for i, v in pts), color, 5, 0.9))
    body.append(text(left + plot_w, h - 4, f"run (oldest → newest), {unit}", "mark", "end"))
    return frame(w, h, "".join(body), title)

"""Numbers and text as the views print them (HTML, JUnit): compact, and always encodable.

`clean` replaces what UTF-8 or XML 1.0 cannot carry (a lone surrogate from a review, C0
controls) with U+FFFD, so a hostile review can neither break the page's encoding nor the
JUnit XML; escaping itself is Jinja2's (HTML) or ElementTree's (XML) job.
"""

from __future__ import annotations

import datetime as dt
import math
import re

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value: object) -> str:
    """`str(value)` that encodes as UTF-8 and is a legal XML 1.0 character sequence."""
    return _UNSAFE.sub("\ufffd", str(value))


def finite(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def sig(v: float | int | None, digits: int = 3) -> str:
    """A measured number, compact: 0.000123 -> 1.23e-4, 12.345 -> 12.3, 48213.7 -> 48,214."""
    if v is None:
        return "–"
    if not finite(v):
        return str(v)
    x = float(v)
    if x == 0:
        return "0"
    if abs(x) < 1e-3 or abs(x) >= 1e7:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    if abs(x) >= 10**digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def nbytes(v: float | int | None) -> str:
    if v is None or not finite(v):
        return "–"
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if abs(v) >= size:
            return f"{v / size:.3g} {unit}"
    return f"{v:.0f} B"


def short(text: str | None, limit: int = 240) -> str:
    """Long texts are cut, and say how long they were."""
    s = text or ""
    return s if len(s) <= limit else s[:limit] + f"… ({len(s):,} chars)"


def when(t: dt.datetime | str | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if t is None:
        return "?"
    if isinstance(t, str):
        try:
            t = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
        except ValueError:
            return str(t)
    when_: dt.datetime = t
    return when_.astimezone(dt.UTC).strftime(fmt) if when_.tzinfo else when_.strftime(fmt)


def duration(seconds: float | None) -> str:
    if seconds is None or not finite(seconds):
        return ""
    s = int(round(seconds))
    return f"{s // 60} min {s % 60} s" if s >= 60 else f"{seconds:.1f} s"

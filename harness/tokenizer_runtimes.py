"""Tokenizer runtimes: implementations of the same spec that must give identical ids.

`py` is the reference (harness/tokenizer.py in this interpreter). `pyodide` (that same file
inside Pyodide) and `js` (the web app's apps/web/src/tokenizer.js) run in Chromium through
runtimes/tokenizer_browser.py, imported only when one of them is used, so importing the
harness never imports Playwright.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.bundle import Bundle
from harness.errors import HarnessError

Tokenize = Callable[[Bundle, list[str]], list[list[int]]]
REFERENCE = "py"


def _py(bundle: Bundle, texts: list[str]) -> list[list[int]]:
    return bundle.tokenizer().encode_batch(texts)


def _browser(runtime: str) -> Tokenize:
    def tokenize(bundle: Bundle, texts: list[str]) -> list[list[int]]:
        from runtimes import tokenizer_browser

        return tokenizer_browser.tokenize(runtime, bundle, texts)

    return tokenize


TOKENIZERS: dict[str, Tokenize] = {"py": _py, "pyodide": _browser("pyodide"), "js": _browser("js")}


def availability(runtime: str) -> tuple[bool, str]:
    """(can it run here, why not and what to install)."""
    if runtime == REFERENCE:
        return True, ""
    from runtimes import tokenizer_browser

    ok = tokenizer_browser.availability(runtime)
    return ok.ok, f"{ok.reason}; {ok.install}" if not ok.ok else ""


def resolve(selection: str) -> list[str]:
    """Runtime ids in order; `all` means every tokenizer runtime that can run here."""
    if selection.strip() == "all":
        return [rid for rid in TOKENIZERS if availability(rid)[0]]
    wanted = list(dict.fromkeys(s.strip() for s in selection.split(",") if s.strip()))
    for w in wanted:
        if w not in TOKENIZERS:
            close = difflib.get_close_matches(w, TOKENIZERS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise HarnessError(f"unknown tokenizer runtime {w!r}{hint}; known: {', '.join(TOKENIZERS)}")
    if not wanted:
        raise HarnessError("no tokenizer runtime given (expected e.g. py,pyodide,js)")
    return wanted


def tokenize(bundle: Bundle, runtime: str, texts: list[str]) -> list[list[int]]:
    return TOKENIZERS[runtime](bundle, texts)


def tokenize_all(bundle: Bundle, selection: str, texts: list[str]) -> dict[str, list[list[int]]]:
    return {rid: tokenize(bundle, rid, texts) for rid in resolve(selection)}


@dataclass(frozen=True)
class IdDiff:
    """One text on which a runtime's ids differ from the reference's (observed, not declared:
    declared divergences live in golden/known_divergences.toml)."""

    index: int  # position of the text in the batch
    runtime: str
    positions: list[int]  # token positions whose ids differ
    expected: list[int]  # the reference's ids
    got: list[int]
    reference: str = REFERENCE

    def describe(self, case_id: str | None = None) -> str:
        def at(row: list[int], p: int) -> str:
            return str(row[p]) if p < len(row) else "-"

        shown = ", ".join(f"[{p}] {at(self.expected, p)} != {at(self.got, p)}" for p in self.positions[:8])
        more = f" (+{len(self.positions) - 8} more)" if len(self.positions) > 8 else ""
        what = case_id if case_id is not None else f"text {self.index}"
        return f"{what}: {self.runtime} differs from {self.reference} at positions {shown}{more}"


def diff_ids(results: dict[str, list[list[int]]], reference: str | None = None) -> list[IdDiff]:
    """Every (text, runtime) whose ids differ from the reference runtime's, with the positions."""
    ref_id = reference or (REFERENCE if REFERENCE in results else next(iter(results), ""))
    ref = results.get(ref_id, [])
    out: list[IdDiff] = []
    for rid, rows in results.items():
        if rid == ref_id:
            continue
        if len(rows) != len(ref):
            raise HarnessError(f"tokenizer runtime {rid} returned {len(rows)} rows for {len(ref)} texts")
        for i, (want, got) in enumerate(zip(ref, rows, strict=True)):
            if want != got:
                width = max(len(want), len(got))
                positions = [p for p in range(width) if p >= len(want) or p >= len(got) or want[p] != got[p]]
                out.append(IdDiff(i, rid, positions, list(want), list(got), ref_id))
    return out


def bench_browser_tokenizers(bundle: Bundle, texts: list[str]) -> dict[str, Any]:
    """Sentences/s of `js` and `pyodide` measured in the page, and Pyodide's start time."""
    from runtimes import tokenizer_browser

    return tokenizer_browser.bench(bundle, texts)

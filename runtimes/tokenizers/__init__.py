"""Tokenizer runtimes: implementations of the bundle's preprocessing that must give identical ids.

`py` is the reference (harness/core/tokenizer.py in this interpreter). `pyodide` (that same
file inside Pyodide) and `js` (the web app's apps/web/src/tokenizer.js) run in a browser
through `runtimes.tokenizers.browser`, imported only when one of them is used, so listing or
selecting tokenizers never starts a browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.bundle import Bundle
from harness.core.errors import HarnessError, did_you_mean
from runtimes.base import Availability

REFERENCE = "py"


@dataclass(frozen=True)
class TokenizerSpec:
    id: str
    kind: str  # "reference" (this interpreter), "pyodide" (the reference in Pyodide), "app" (the app's JS module)
    browser: str | None = None  # the browser engine an in-browser tokenizer runs in


SPECS: dict[str, TokenizerSpec] = {
    "py": TokenizerSpec("py", "reference"),
    "pyodide": TokenizerSpec("pyodide", "pyodide", "chromium"),
    "js": TokenizerSpec("js", "app", "chromium"),
    "firefox:js": TokenizerSpec("firefox:js", "app", "firefox"),
    "webkit:js": TokenizerSpec("webkit:js", "app", "webkit"),
}


def spec(tokenizer_id: str) -> TokenizerSpec:
    found = SPECS.get(tokenizer_id)
    if found is None:
        hint = did_you_mean(tokenizer_id, SPECS)
        raise HarnessError(f"unknown tokenizer runtime {tokenizer_id!r}{hint}; known: {', '.join(SPECS)}")
    return found


def availability(tokenizer_id: str) -> Availability:
    if spec(tokenizer_id).kind == "reference":
        return Availability(True)
    from runtimes.tokenizers import browser

    return browser.availability(tokenizer_id)


def tokenize(tokenizer_id: str, bundle: Bundle, texts: list[str]) -> list[list[int]]:
    """Ids for every text; an in-browser tokenizer's error is raised as the engine said it."""
    if spec(tokenizer_id).kind == "reference":
        return bundle.tokenizer().encode_batch(texts)
    from runtimes.tokenizers import browser

    return browser.tokenize(tokenizer_id, bundle, texts)


def select(text: str) -> tuple[list[str], dict[str, str]]:
    """(tokenizer ids to run, in order; those that cannot run here with why). `all` = every one."""
    if text.strip() == "all":
        wanted = list(SPECS)
    else:
        wanted = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
        if not wanted:
            raise HarnessError("no tokenizer runtime given (expected e.g. py,pyodide,js or 'all')")
        for w in wanted:
            spec(w)
    run, unavailable = [], {}
    for tid in wanted:
        ok = availability(tid)
        if ok.ok:
            run.append(tid)
        else:
            unavailable[tid] = f"{ok.reason}; {ok.install}"
    return run, unavailable

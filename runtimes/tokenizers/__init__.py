"""Tokenizer runtimes: implementations of the bundle's preprocessing that must give identical ids.

`py` is the reference for the bundle's kind (runtimes/tokenizers/in_process.py: the harness's
own tokenizer, tf_keras's Tokenizer + pad_sequences, or Keras's TextVectorization layer).
`pyodide` (harness/core/tokenizer/reference.py inside Pyodide) and `js` (the app's own tokenizer: the
module a bundle names, or the web app's apps/web/src/tokenizer.js) run in a browser through
`runtimes.tokenizers.browser`, imported only when one of them is used, so listing or
selecting tokenizers never starts a browser.

`outcomes` keeps what happened per text (ids, or what the tokenizer threw or returned
instead); `tokenize` is for feeding a model and refuses any row that could not feed one
(an exception, a wrong length, an id outside [0, vocab)): no runtime ever receives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.bundle import Bundle
from harness.core.errors import HarnessError, did_you_mean
from harness.core.tokenizer.app_tokenizer import AppTokenizer
from runtimes.base import Availability
from runtimes.tokenizers.outcome import Malformed, Outcome, Thrown, problem

__all__ = ["REFERENCE", "SPECS", "Malformed", "Outcome", "Thrown", "availability", "outcomes", "select", "tokenize"]

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


def availability(tokenizer_id: str, bundle: Bundle | None = None, app: AppTokenizer | None = None) -> Availability:
    """Whether it can run here (for `bundle`'s kind of spec and `app`'s module, when given)."""
    if spec(tokenizer_id).kind == "reference":
        return Availability(True)
    from runtimes.tokenizers import browser

    return browser.availability(tokenizer_id, bundle, app)


def outcomes(tokenizer_id: str, bundle: Bundle, texts: list[str], *, app: AppTokenizer | None = None) -> list[Outcome]:
    """Per text: its ids, or what the tokenizer threw or returned instead (that text only).
    `app` overrides the app tokenizer the bundle names, for the app tokenizers (js, firefox:js,
    webkit:js); the others ignore it."""
    if not texts:
        return []
    if spec(tokenizer_id).kind == "reference":
        from runtimes.tokenizers import in_process

        return in_process.outcomes(bundle, texts)
    from runtimes.tokenizers import browser

    return browser.outcomes(tokenizer_id, bundle, texts, app=app)


def tokenize(
    tokenizer_id: str, bundle: Bundle, texts: list[str], *, app: AppTokenizer | None = None
) -> list[list[int]]:
    """Ids for every text, each row fit to feed the model; the first text that is not (the
    tokenizer threw, or gave the wrong length or an id outside [0, vocab)) raises, naming it.
    An in-browser tokenizer's error is raised as the engine said it."""
    info = bundle.tokenizer_info()
    rows = outcomes(tokenizer_id, bundle, texts, app=app)
    for i, row in enumerate(rows):
        why = problem(row, info.length, info.vocab_size)
        if why is not None:
            raise HarnessError(f"text {i} ({texts[i][:40]!r}): {why}; not fed to any model runtime")
    return rows  # type: ignore[return-value]  # every row passed `problem`: a list of ints


def select(
    text: str, bundle: Bundle | None = None, app: AppTokenizer | None = None
) -> tuple[list[str], dict[str, str]]:
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
        ok = availability(tid, bundle, app)
        if ok.ok:
            run.append(tid)
        else:
            unavailable[tid] = f"{ok.reason}; {ok.install}"
    return run, unavailable

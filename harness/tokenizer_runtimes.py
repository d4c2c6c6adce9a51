"""Tokenizer runtimes: implementations of the same spec that must give identical ids.

`py` is the reference (harness/tokenizer.py in this interpreter). Others run elsewhere
(Pyodide and the web app's JavaScript module, in Chromium) and plug in here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from harness.bundle import Bundle
from harness.errors import HarnessError

Tokenize = Callable[[Bundle, list[str]], list[list[int]]]


def _py(bundle: Bundle, texts: list[str]) -> list[list[int]]:
    return bundle.tokenizer().encode_batch(texts)


TOKENIZERS: dict[str, Tokenize] = {"py": _py}


def resolve(selection: str) -> list[str]:
    if selection.strip() == "all":
        return list(TOKENIZERS)
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

"""The reference text preprocessing: review text -> fixed-length int32 token ids.

Pure Python standard library on purpose: this very file runs unchanged inside Pyodide,
and `apps/web/src/tokenizer.js` is a line-for-line copy in JavaScript.

Why it is built this way (parity across runtimes with different Unicode versions)
------------------------------------------------------------------------------------
CPython 3.11 knows Unicode 14, Pyodide 3.14 knows 16, Chromium/V8 17. Anything that asks the
*runtime* a Unicode question (`str.lower`, `str.isalnum`, `\\w`, `\\p{L}`, `normalize("NFC")`)
can answer differently for a character assigned after Unicode 14, so a tokenizer built on
those calls cannot be proven identical across runtimes. This one never asks the runtime
anything about Unicode. Every decision is data in the spec (`tokenizer.json`):

1. `fold`: a table code point -> replacement string, computed ONCE when the spec is built
   (from the builder's Unicode database) and then frozen. It does case folding (full
   casefold: ß -> ss, final sigma -> σ, İ -> i), compatibility folding for fullwidth
   forms, ligatures and superscripts, accent stripping (é and e + U+0301 both -> e, so NFC
   and NFD agree for Latin, Greek and Cyrillic), digits of other scripts -> ASCII digits,
   apostrophe look-alikes (curly quotes, modifier letter, prime, backtick, acute) -> ', and
   invisible joiners (ZWJ, soft hyphen, variation selectors, BOM) -> "". The table is
   closed: no output character is itself a key, so folding is one pass everywhere.
2. `separators`: explicit code point ranges that end a token (punctuation and symbol
   blocks, emoji, surrogates, private use). ASCII is fixed by rule: after folding, [0-9a-z]
   and the apostrophe are word characters, every other ASCII character separates.
3. Every other non-ASCII code point is a word character, whether or not the runtime's
   Unicode knows it. So a character added in Unicode 16 is a word character in all
   runtimes, with no case folding (it is not in the frozen table) in all runtimes.

A token is a maximal run of word characters and apostrophes, with apostrophes stripped from
both ends ("''Conan''" -> conan, "don't" -> don't). Tokens map through the vocabulary;
unknown tokens map to `oov_id`. The first `length` tokens are kept (or the last, with
truncation "pre"), then padded with `pad_id`. Every emitted id is in [0, vocab_size) by
construction: ids come only from the vocabulary's positions, `pad_id` or `oov_id`.

Cost is linear in the input: one `str.translate`, one regex scan with a plain character
class (no backtracking), and, with truncation "post", the scan stops at `length` tokens.
Lone surrogates are ordinary code points here (they are separators), so no `str` raises;
a surrogate pair held as two code points is joined first, as UTF-16 (JS, JSON) reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

SPEC_FORMAT = "harness-tokenizer/1"
APOSTROPHE = "'"


class TokenizerSpecError(ValueError):
    """The tokenizer.json is not a spec this code can apply."""


class Tokenizer:
    """Applies a frozen spec; holds nothing else, so every runtime can rebuild it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        if spec.get("format") != SPEC_FORMAT:
            raise TokenizerSpecError(f"expected format {SPEC_FORMAT!r}, got {spec.get('format')!r}")
        self.spec = spec
        self.length = int(spec["length"])
        self.pad_id = int(spec["pad_id"])
        self.oov_id = int(spec["oov_id"])
        self.truncation = spec["truncation"]
        self.padding = spec["padding"]
        if self.length < 1:  # ids[-0:] would keep every id with truncation "pre"
            raise TokenizerSpecError(f"length must be at least 1, got {self.length}")
        if self.truncation not in ("post", "pre") or self.padding not in ("post", "pre"):
            raise TokenizerSpecError("truncation and padding must be 'post' or 'pre'")
        self.vocab: list[str] = list(spec["vocab"])
        self.vocab_size = len(self.vocab)
        if not (0 <= self.pad_id < self.vocab_size and 0 <= self.oov_id < self.vocab_size):
            raise TokenizerSpecError("pad_id and oov_id must index the vocabulary")
        self._ids = {token: i for i, token in enumerate(self.vocab)}
        # Special entries (pad, oov) must never be produced by text, even if spelled alike.
        for special in (self.pad_id, self.oov_id):
            self._ids.pop(self.vocab[special], None)
        self._fold = {int(cp): rep for cp, rep in spec["fold"].items()}
        self._token_re = re.compile(_token_pattern(spec["separators"]))

    @classmethod
    def from_file(cls, path: str) -> Tokenizer:
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def tokens(self, text: str, limit: int | None = None) -> list[str]:
        """Tokens of `text` in order; stops after `limit` tokens when given."""
        folded = _join_surrogate_pairs(text).translate(self._fold)
        out: list[str] = []
        for match in self._token_re.finditer(folded):
            token = match.group().strip(APOSTROPHE)
            if token:
                out.append(token)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def encode(self, text: str) -> list[int]:
        """Exactly `length` ids, each in [0, vocab_size)."""
        limit = self.length if self.truncation == "post" else None
        ids = [self._ids.get(t, self.oov_id) for t in self.tokens(text, limit)]
        ids = ids[: self.length] if self.truncation == "post" else ids[-self.length :]
        padding = [self.pad_id] * (self.length - len(ids))
        return ids + padding if self.padding == "post" else padding + ids

    def encode_batch(self, texts: Iterable[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]


def _join_surrogate_pairs(text: str) -> str:
    """Read a str as UTF-16 reads it: a high+low surrogate pair is one code point.

    JavaScript strings (and JSON) are UTF-16, so a Python str holding the two halves as
    separate code points would otherwise tokenize differently from the same string in JS.
    Lone surrogates stay lone. ASCII text (most reviews) skips the round trip.
    """
    if text.isascii():
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _token_pattern(separators: list[list[int]]) -> str:
    """A regex matching a run of word characters and apostrophes.

    Built from explicit code point ranges only (never \\w or a Unicode property), so the
    same class means the same thing in every Unicode version.
    """
    excluded = [(0x00, 0x26), (0x28, 0x2F), (0x3A, 0x60), (0x7B, 0x7F)]  # ASCII non-word
    excluded += [(int(lo), int(hi)) for lo, hi in separators]
    parts = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in excluded)
    return f"[^{parts}]+"

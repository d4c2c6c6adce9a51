"""Builds a tokenizer spec (tokenizer.json): the frozen fold table, separators, vocabulary.

This is the only place that consults a Unicode database, and it runs once, at training
time. Its output is data, so every runtime applies the same decisions afterwards whatever
Unicode version it has (see the docstring of `harness.core.tokenizer.reference`).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

from harness.core.tokenizer.reference import APOSTROPHE, SPEC_FORMAT, Tokenizer

PAD, OOV = "<pad>", "<oov>"

# Code points that end a token. Punctuation and symbol blocks, not letters of any script.
SEPARATORS: list[tuple[int, int]] = [
    (0x0080, 0x00BF),  # C1 controls, Latin-1 punctuation and symbols (letters among them are folded first)
    (0x00D7, 0x00D7),  # multiplication sign
    (0x00F7, 0x00F7),  # division sign
    (0x037E, 0x037E),  # Greek question mark
    (0x0387, 0x0387),  # Greek ano teleia
    (0x055A, 0x055F),  # Armenian punctuation
    (0x0589, 0x058A),
    (0x05BE, 0x05BE),  # Hebrew maqaf
    (0x05C0, 0x05C0),
    (0x05C3, 0x05C3),
    (0x05F3, 0x05F4),
    (0x060C, 0x060D),  # Arabic comma
    (0x061B, 0x061B),
    (0x061D, 0x061F),  # Arabic question mark
    (0x066A, 0x066D),
    (0x06D4, 0x06D4),
    (0x0964, 0x0965),  # Devanagari danda
    (0x0E5A, 0x0E5B),
    (0x1680, 0x1680),  # Ogham space mark
    (0x2000, 0x2BFF),  # general punctuation .. misc symbols and arrows
    (0x2E00, 0x2E7F),  # supplemental punctuation
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xD800, 0xDFFF),  # surrogates (lone ones reach us from broken UTF-16)
    (0xE000, 0xF8FF),  # private use
    (0xFD3E, 0xFD3F),  # ornate parentheses
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE6F),  # CJK compatibility forms, small form variants
    (0xFF00, 0xFF0F),  # fullwidth punctuation (fullwidth letters and digits are folded first)
    (0xFF1A, 0xFF20),
    (0xFF3B, 0xFF40),
    (0xFF5B, 0xFF65),
    (0xFFF0, 0xFFFF),  # specials, replacement character
    (0x1F000, 0x1FBFF),  # emoji, pictographs, game symbols
    (0xF0000, 0x10FFFF),  # supplementary private use
]

# Removed without splitting: they join or decorate, they are not boundaries.
IGNORABLE: list[tuple[int, int]] = [
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200C, 0x200D),  # zero width non-joiner, joiner
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # byte order mark / zero width no-break space
    (0xE0000, 0xE007F),  # tags
    (0xE0100, 0xE01EF),  # variation selectors supplement
]

# Compatibility folding (NFKD) applies only where it is a spelling variant of a Latin,
# Greek or Cyrillic letter, a digit or a ligature; elsewhere NFKD would change meaning.
COMPAT_RANGES: list[tuple[int, int]] = [
    (0x00A0, 0x024F),
    (0x0370, 0x052F),
    (0x1D00, 0x1DBF),
    (0x1E00, 0x1FFF),
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x2150, 0x218F),  # number forms (roman numerals, fractions)
    (0x2460, 0x24FF),  # enclosed alphanumerics
    (0xFB00, 0xFB06),  # Latin ligatures
    (0xFF01, 0xFF5E),  # fullwidth ASCII
    (0x1D400, 0x1D7FF),  # mathematical alphanumerics
]

APOSTROPHE_VARIANTS = "\u2018\u2019\u02bc\u2032\uff07\u0060\u00b4"
COMBINING_DIACRITICS = (0x0300, 0x036F)


def _in(cp: int, ranges: list[tuple[int, int]]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _strip_marks(s: str) -> str:
    lo, hi = COMBINING_DIACRITICS
    return "".join(ch for ch in s if not lo <= ord(ch) <= hi)


def _fold_one(cp: int) -> str:
    ch = chr(cp)
    if _in(cp, IGNORABLE) or COMBINING_DIACRITICS[0] <= cp <= COMBINING_DIACRITICS[1]:
        return ""
    if ch in APOSTROPHE_VARIANTS:
        return APOSTROPHE
    if unicodedata.category(ch) == "Nd":
        return str(unicodedata.decimal(ch))
    out = ch.casefold()
    if _in(cp, COMPAT_RANGES):
        out = unicodedata.normalize("NFKD", out).casefold()
        out = unicodedata.normalize("NFKD", out)
    return _strip_marks(out)


def build_fold_table() -> dict[int, str]:
    """Closed fold table: applying it once equals applying it to a fixed point."""
    table: dict[int, str] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        folded = _fold_one(cp)
        if folded != chr(cp):
            table[cp] = folded
    for _ in range(5):  # close the table: re-fold outputs until nothing changes
        changed = False
        for cp, rep in table.items():
            again = "".join(table.get(ord(c), c) for c in rep)
            if again != rep:
                table[cp] = again
                changed = True
        if not changed:
            break
    assert all(ord(c) not in table for rep in table.values() for c in rep), "fold table not closed"
    return table


def build_vocab(texts: Iterable[str], base_spec: dict, max_size: int, *, min_count: int) -> list[str]:
    """Most frequent training tokens (ties by token text), after pad and oov."""
    tok = Tokenizer({**base_spec, "vocab": [PAD, OOV]})
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tok.tokens(text))
    ranked = sorted((t for t, n in counts.items() if n >= min_count), key=lambda t: (-counts[t], t))
    return [PAD, OOV] + ranked[: max_size - 2]


def build_spec(train_texts: Iterable[str], length: int = 48, max_vocab: int = 10_000, *, min_count: int = 2) -> dict:
    base = {
        "format": SPEC_FORMAT,
        "length": length,
        "truncation": "post",
        "padding": "post",
        "pad_id": 0,
        "oov_id": 1,
        "unicode_version_of_builder": unicodedata.unidata_version,
        "separators": [[lo, hi] for lo, hi in SEPARATORS],
        "fold": {str(cp): rep for cp, rep in sorted(build_fold_table().items())},
    }
    base["vocab"] = build_vocab(train_texts, base, max_vocab, min_count=min_count)
    return base

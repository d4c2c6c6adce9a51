"""Builds golden/texts.jsonl: the held-out reviews plus curated edge cases, with stable ids.

Regenerate with `harness golden texts` (then `harness golden update`). Curated cases are
listed here, in code, so each one says what it is for; the tokenizer's hard cases come from
golden/hard_cases.jsonl.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from harness.check.golden import TEXTS
from harness.core import atomic
from harness.core.bundle import Bundle
from harness.core.cases import read_cases
from harness.core.paths import GOLDEN
from harness.data.corpus import held_out

HARD_CASES = GOLDEN / "hard_cases.jsonl"

CURATED: dict[str, str] = {
    "edge-empty": "",
    "edge-whitespace-only": "   \t\n  \r\n ",
    "edge-punctuation-only": "!!! ... ??? --- ;;; (( )) '' \"\"",
    "edge-very-long": "an utterly gorgeous , witty and moving film . " * 500,
    "edge-all-oov": "qwxzv vbnmq plokijuh zzyzxq",
    "edge-emoji": "loved it 😍😍 👍🏽 👨‍👩‍👧 would watch again 🎬",
    "edge-mixed-scripts": "great film 很好看 отличный фильм فيلم رائع",
    "edge-html-entities": "it&#39;s &amp; &quot;great&quot; &lt;b&gt;bold&lt;/b&gt; &nbsp;fun",
    "edge-apostrophe-straight": "it's not what i'd call good, but it isn't bad",
    "edge-apostrophe-curly": "it’s not what i’d call good, but it isn’t bad",
    "edge-nfc": unicodedata.normalize("NFC", "a café with naïve charm and a résumé of clichés"),
    "edge-nfd": unicodedata.normalize("NFD", "a café with naïve charm and a résumé of clichés"),
    "edge-fullwidth": "ＴＨＥ ＢＥＳＴ ｍｏｖｉｅ ｏｆ ｔｈｅ ｙｅａｒ！",
    "edge-right-to-left": "\u202bthe acting is wonderful\u202c \u05e1\u05e8\u05d8 "
    "\u05de\u05e2\u05d5\u05dc\u05d4 \u200f",
    "edge-zero-width": "gr\u200beat mov\u200die \ufeffawesome\u2060ly dull",
    "edge-unicode-15-16": "\U0001e4d0\U0001e4d1\U0001e4d2 good \U0001e5d0\U0001e5d1 film \U00011f00",
    "edge-uppercase": "THE BEST MOVIE EVER MADE, A MASTERPIECE",
    "edge-numbers": "10/10 would watch again ; 5 stars , 2 thumbs up",
    "edge-negation": "not good , not bad , not funny , not boring",
    "edge-repeated-token": "bad " * 60,
    "edge-control-chars": "good\x00movie\x07 with\x1b bells",
    "edge-lone-surrogate": "good \ud800 movie \udfff ending",
    "edge-single-word-positive": "masterpiece",
    "edge-single-word-negative": "disaster",
    "edge-exactly-length": " ".join(["film"] * 48),
    "edge-one-over-length": " ".join(["film"] * 48 + ["awful"]),
}


def build(bundle: Bundle, path: Path = TEXTS) -> int:
    rows = [{"id": r.id, "text": r.text, "origin": "held-out"} for r in held_out(bundle)]
    rows += [{"id": cid, "text": text, "origin": "curated"} for cid, text in CURATED.items()]
    if HARD_CASES.is_file():
        known = {r["id"] for r in rows}
        rows += [
            {"id": c.id, "text": c.text, "origin": "hard-case"} for c in read_cases(HARD_CASES) if c.id not in known
        ]
    atomic.write_text(path, "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in rows))
    return len(rows)

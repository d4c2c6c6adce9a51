"""The tokenizer spec as the web app ships it: one JSON header line, then the vocabulary one word
a line in index order.

tokenizer.json spells every word as a quoted JSON string; on a phone's first visit every byte
counts, and a plain word list is smaller and compresses better (no quotes, commas or escapes).
The header is the spec without `vocab`, plus the number of words, so a truncated download is
refused instead of silently shortening the vocabulary. The app's tokenizer.js (`parseCompact`)
turns the text back into the very spec tokenizer.json holds; tests/test_compact_tokenizer.py
proves it in Node on the shipped file. Lines split at "\\n" only: a token never contains one
(ASCII separators end tokens), and the writer refuses a vocabulary where one would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core import atomic
from harness.core.errors import HarnessError

COMPACT = "tokenizer.txt"
COMPACT_FORMAT = "harness-tokenizer-lines/1"


def compact_text(spec: dict[str, Any]) -> str:
    """The compact form of `spec` (a harness-tokenizer spec with a `vocab` list)."""
    vocab = spec.get("vocab")
    if not isinstance(vocab, list) or not all(isinstance(w, str) and "\n" not in w for w in vocab):
        raise HarnessError("tokenizer spec: the compact form needs a vocab list of strings without newlines")
    header = {k: v for k, v in spec.items() if k != "vocab"}
    header["compact"] = {"format": COMPACT_FORMAT, "vocab_lines": len(vocab)}
    return json.dumps(header, ensure_ascii=False, separators=(",", ":")) + "\n" + "\n".join(vocab)


def parse_compact(text: str) -> dict[str, Any]:
    """The spec back from its compact form (what tokenizer.js's parseCompact does, in Python)."""
    head, _, body = text.partition("\n")
    header = json.loads(head)
    facts = header.pop("compact", None)
    if not isinstance(facts, dict) or facts.get("format") != COMPACT_FORMAT:
        raise HarnessError(f"compact tokenizer: expected a header with compact.format {COMPACT_FORMAT}")
    vocab = body.split("\n")
    if len(vocab) != facts.get("vocab_lines"):
        raise HarnessError(f"compact tokenizer: {len(vocab)} words, the header says {facts.get('vocab_lines')}")
    return {**header, "vocab": vocab}


def compact_bytes(spec_path: Path) -> bytes:
    """The compact form of the spec file `spec_path`, UTF-8."""
    return compact_text(json.loads(spec_path.read_text(encoding="utf-8"))).encode("utf-8")


def write_compact(spec_path: Path, out: Path) -> None:
    """Writes the compact form of the spec file `spec_path` to `out` (atomically)."""
    atomic.write_bytes(out, compact_bytes(spec_path))

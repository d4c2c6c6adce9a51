"""The tokenizer spec as the web app ships it: one JSON header line, then the vocabulary one word
a line in index order.

tokenizer.json spells every word as a quoted JSON string; on a phone's first visit every byte
counts, and a plain word list is smaller and compresses better (no quotes, commas or escapes).
The header is the spec without `vocab`, plus the number of words, so a truncated download is
refused instead of silently shortening the vocabulary. The app's tokenizer.js (`parseCompact`)
turns the text back into the very spec tokenizer.json holds; tests/test_compact_tokenizer.py
proves it in Node on the shipped file. Lines split at "\\n" only: a token never contains one
(ASCII separators end tokens), and the writer refuses a vocabulary where one would.

The fold table (code point -> replacement) is mostly case pairs at a fixed distance (A..Z -> a..z,
then Latin, Greek, Cyrillic pairs every other code point), so the header carries it as runs
`[start, count, step, delta]` (keys start, start + step, ... each folding to key + delta) plus
the entries no run covers (`fold_rest`); the runs halve the table's gzip bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core import atomic
from harness.core.errors import HarnessError

COMPACT = "tokenizer.txt"
COMPACT_FORMAT = "harness-tokenizer-lines/1"


def fold_runs(fold: dict[str, str]) -> tuple[list[list[int]], dict[str, str]]:
    """The fold table as runs of single-code-point replacements at one distance, plus the rest."""
    runs: list[list[int]] = []
    rest: dict[str, str] = {}
    for cp, replacement in sorted((int(k), v) for k, v in fold.items()):
        if len(replacement) != 1:
            rest[str(cp)] = replacement
            continue
        delta = ord(replacement) - cp
        last = runs[-1] if runs else None
        if last and last[3] == delta and last[1] == 1 and cp - last[0] in (1, 2):
            last[1], last[2] = 2, cp - last[0]
        elif last and last[3] == delta and last[1] > 1 and cp == last[0] + last[1] * last[2]:
            last[1] += 1
        else:
            runs.append([cp, 1, 1, delta])
    return runs, rest


def unfold_runs(runs: list[list[int]], rest: dict[str, str]) -> dict[str, str]:
    """The fold table back from `fold_runs`."""
    fold = {
        str(start + i * step): chr(start + i * step + delta) for start, count, step, delta in runs for i in range(count)
    }
    return {**fold, **rest}


def compact_text(spec: dict[str, Any]) -> str:
    """The compact form of `spec` (a harness-tokenizer spec with a `vocab` list)."""
    vocab = spec.get("vocab")
    if not isinstance(vocab, list) or not all(isinstance(w, str) and "\n" not in w for w in vocab):
        raise HarnessError("tokenizer spec: the compact form needs a vocab list of strings without newlines")
    header = {k: v for k, v in spec.items() if k not in ("vocab", "fold")}
    header["fold_runs"], header["fold_rest"] = fold_runs(spec.get("fold", {}))
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
    header["fold"] = unfold_runs(header.pop("fold_runs", []), header.pop("fold_rest", {}))
    return {**header, "vocab": vocab}


def compact_bytes(spec_path: Path) -> bytes:
    """The compact form of the spec file `spec_path`, UTF-8."""
    return compact_text(json.loads(spec_path.read_text(encoding="utf-8"))).encode("utf-8")


def write_compact(spec_path: Path, out: Path) -> None:
    """Writes the compact form of the spec file `spec_path` to `out` (atomically)."""
    atomic.write_bytes(out, compact_bytes(spec_path))

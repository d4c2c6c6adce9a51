"""Divergence classes of a tokenizer runtime against the reference, case by case.

A port of someone's preprocessing goes wrong in a few typical ways, and each needs a
different fix, so `harness tokenize` names the class, not only "differs":

- `positions`: same length, some ids differ (an apostrophe deleted instead of split, an
  unknown word mapped to 0 instead of the OOV id, double spaces that become 0 mid-sequence);
- `length`: a row of another length than the reference's (padding forgotten or doubled);
- `out-of-range`: an id outside [0, vocab): an Embedding has only `vocab` rows, and every
  engine does something else with such an id (error, zeros, undefined), so it is never fed
  to a model runtime (runtimes/base.py refuses it too);
- `exception (RangeError)`: the tokenizer threw on this input (one class per error name);
- `malformed`: it returned something that is not an array of integers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from harness.core.tokenizer.kinds import TokenizerInfo
from runtimes.tokenizers.outcome import Malformed, Outcome, Thrown

POSITIONS = "positions"
LENGTH = "length"
OUT_OF_RANGE = "out-of-range"
EXCEPTION = "exception"
MALFORMED = "malformed"


@dataclass(frozen=True)
class TokenClassFinding:
    """One class one runtime shows on one input, with what this input shows of it."""

    runtime: str
    kind: str
    detail: str
    error_name: str = ""  # exceptions: the error's class

    @property
    def name(self) -> str:
        return f"{self.kind} ({self.error_name})" if self.error_name else self.kind

    @property
    def key(self) -> tuple[str, str]:
        return self.runtime, self.name


def _shown(row: list[int], positions: list[int], tok: TokenizerInfo) -> str:
    return "[" + ", ".join(tok.name_of(row[p]) if p < len(row) else "-" for p in positions) + "]"


def findings(rows: dict[str, Outcome], reference: str, tok: TokenizerInfo) -> list[TokenClassFinding]:
    """Every class any runtime shows on one input (none: they all agree)."""
    vocab_size = tok.vocab_size
    out: list[TokenClassFinding] = []
    ref = rows.get(reference)
    for rid, got in rows.items():
        if isinstance(got, Thrown):
            out.append(TokenClassFinding(rid, EXCEPTION, got.message, got.name))
            continue
        if isinstance(got, Malformed):
            out.append(TokenClassFinding(rid, MALFORMED, got.message))
            continue
        bad = sorted({i for i in got if not 0 <= i < vocab_size})
        if bad:
            shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
            out.append(TokenClassFinding(rid, OUT_OF_RANGE, f"ids {shown} outside [0, {vocab_size})"))
        if rid == reference or not isinstance(ref, list):
            continue
        if len(got) != len(ref):
            out.append(TokenClassFinding(rid, LENGTH, f"{len(got)} ids, {reference} gave {len(ref)}"))
        positions = [p for p in range(min(len(got), len(ref))) if got[p] != ref[p]]
        if positions:
            head = positions[:8]
            more = f" (+{len(positions) - 8} more)" if len(positions) > 8 else ""
            out.append(
                TokenClassFinding(
                    rid,
                    POSITIONS,
                    f"at positions {head}{more}: {reference} {_shown(ref, head, tok)}, {rid} {_shown(got, head, tok)}",
                )
            )
    return out


@dataclass
class DivergenceClass:
    """All inputs on which one runtime shows one class; the shortest is the seed to shrink."""

    runtime: str
    name: str
    case_ids: list[str] = field(default_factory=list)
    seed: str = ""
    seed_detail: str = ""
    minimal: str | None = None  # the shortest input found that still shows the class
    minimal_detail: str = ""
    minimal_ids: dict[str, object] = field(default_factory=dict)

    def line(self, total: int) -> str:
        shown = self.minimal if self.minimal is not None else self.seed
        detail = self.minimal_detail if self.minimal is not None else self.seed_detail
        how = "minimal input" if self.minimal is not None else "shortest input (not shrunk)"
        return (
            f"divergence {self.runtime} {self.name}: {len(self.case_ids)} of {total} cases "
            f"(first {self.case_ids[0]}); {how} {json.dumps(shown)}: {detail}"
        )

    def as_json(self) -> dict[str, object]:
        return {
            "runtime": self.runtime,
            "class": self.name,
            "cases": len(self.case_ids),
            "first_case": self.case_ids[0],
            "minimal_input": self.minimal if self.minimal is not None else self.seed,
            "shrunk": self.minimal is not None,
            "detail": self.minimal_detail or self.seed_detail,
            "ids": self.minimal_ids,
        }


def classes(
    case_ids: list[str], texts: list[str], rows: dict[str, list[Outcome]], *, reference: str, tok: TokenizerInfo
) -> tuple[list[list[TokenClassFinding]], list[DivergenceClass]]:
    """(findings per case, the divergence classes over all cases, in order of first appearance)."""
    per_case: list[list[TokenClassFinding]] = []
    found: dict[tuple[str, str], DivergenceClass] = {}
    for i, (cid, text) in enumerate(zip(case_ids, texts, strict=True)):
        here = findings({rid: out[i] for rid, out in rows.items()}, reference, tok)
        per_case.append(here)
        for f in here:
            cls = found.setdefault(f.key, DivergenceClass(f.runtime, f.name))
            cls.case_ids.append(cid)
            if len(cls.case_ids) == 1 or len(text) < len(cls.seed):
                cls.seed, cls.seed_detail = text, f.detail
    return per_case, list(found.values())

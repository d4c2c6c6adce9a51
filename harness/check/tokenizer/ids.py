"""Tokenizer parity: where a tokenizer runtime's ids differ from the reference's, position by position."""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.errors import HarnessError
from runtimes.tokenizers import REFERENCE


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

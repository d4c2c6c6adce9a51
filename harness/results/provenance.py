"""The report's provenance records: who signed it and the evidence a sign-off recomputes.

They are part of harness-report/2 (the report model holds them), kept apart from the measured
records (runtime.py, gate.py, ...) because they answer another question: not "what did the runtimes do" but
"why should another machine believe it" (harness/release/ reads and checks them).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator

from harness.results.base import Hex, Record

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Signature(Record):
    """An SSH signature over the report's canonical JSON (the report without this block; see
    harness/release/signing.py), checked against the committed allowed signers."""

    scheme: Literal["ssh"]
    signer: str  # the key's comment when signed; who signed is what the allowed-signers file says
    key_fingerprint: str  # SHA256:... of the signing key
    value: str  # the armored SSH signature (namespace "harness-report")
    signed_at: dt.datetime


class CheckedInput(Record):
    """A report from another machine as `report merge` or `signoff --with` checked it."""

    file: str
    sha256: Sha256Hex  # of the file's bytes
    signed: bool  # False only with --allow-unsigned
    signer: str | None = None  # the principal the allowed-signers file names
    key_fingerprint: str | None = None
    machines: list[str] = []
    runtimes: list[str] = []  # the runtimes it contributed


class Evidence(Record):
    """What a sign-off recomputes instead of trusting a claim: every runtime's score for every
    golden case (in `golden_cases` order), every tokenizer's golden ids (their sha256), and the
    artifact hashes that produced them; a merged report also lists the inputs it checked."""

    golden_cases: list[str] = []  # case ids of golden/texts.jsonl, in order
    golden_texts_sha256: Sha256Hex | None = None
    golden_scores: dict[str, list[float | None]] = {}  # runtime id -> score per golden case
    golden_ids_sha256: dict[str, Sha256Hex] = {}  # tokenizer id -> sha256 of its ids, int64 little-endian
    artifacts: dict[str, Hex] = {}  # export target -> artifact hash
    inputs: list[CheckedInput] = []

    @model_validator(mode="after")
    def _aligned(self) -> Evidence:
        for rid, scores in self.golden_scores.items():
            if len(scores) != len(self.golden_cases):
                raise ValueError(
                    f"golden_scores[{rid!r}] has {len(scores)} scores for {len(self.golden_cases)} golden cases"
                )
        return self

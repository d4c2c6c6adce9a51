"""Golden files: expected reference token ids and scores for every golden case, hash-bound.

golden/texts.jsonl holds the cases (held-out reviews and curated edge cases, stable ids);
golden/expected.jsonl starts with a header naming the bundle hash and the texts' hash, then
one line per case: the reference tokenizer's ids and keras's score. `harness golden update`
regenerates it; `harness golden check` holds every runtime to it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import atomic, divergences
from harness.bundle import Bundle
from harness.cases import Case, read_cases
from harness.compare import Comparison
from harness.engines import Engines
from harness.errors import HarnessError, where
from harness.paths import GOLDEN

TEXTS = GOLDEN / "texts.jsonl"
EXPECTED = GOLDEN / "expected.jsonl"
FORMAT = "harness-golden/1"
UPDATE_COMMAND = "harness golden update"


@dataclass
class Expected:
    meta: dict[str, Any]
    ids: dict[str, list[int]]
    scores: dict[str, float]


@dataclass
class Finding:
    kind: str  # "tokens" or "score"
    runtime: str
    case_id: str
    detail: str
    declared: str | None = None  # id of the known divergence that covers it


@dataclass
class GoldenCheck:
    cases: int
    findings: list[Finding] = field(default_factory=list)
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    unused_divergences: list[str] = field(default_factory=list)

    @property
    def undeclared(self) -> list[Finding]:
        return [f for f in self.findings if f.declared is None]

    @property
    def passed(self) -> bool:
        return not self.undeclared and not self.unused_divergences


def texts_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_expected(path: Path | None = None) -> Expected:
    path = path or EXPECTED
    if not path.is_file():
        raise HarnessError(f"{path}: no golden file; create it with `{UPDATE_COMMAND}`")
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        meta = json.loads(lines[0])
    except (IndexError, json.JSONDecodeError):
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise HarnessError(
            f"{where(path, 1)}: expected a header with format {FORMAT!r}; regenerate with `{UPDATE_COMMAND}`"
        ) from None
    ids, scores = {}, {}
    for lineno, line in enumerate(lines[1:], start=2):
        try:
            row = json.loads(line)
            ids[row["id"]], scores[row["id"]] = row["ids"], float(row["score"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise HarnessError(f'{where(path, lineno)}: expected {{"id", "ids", "score"}}') from None
    return Expected(meta, ids, scores)


def ensure_current(
    bundle: Bundle, expected: Expected, texts_path: Path = TEXTS, expected_path: Path = EXPECTED
) -> None:
    """A golden file made for another bundle or other texts is stale: say how to regenerate."""
    made_for = expected.meta.get("bundle_hash", "?")
    if made_for != bundle.hash:
        raise HarnessError(
            f"{expected_path} was made for bundle {made_for[:12]}, the bundle under test is {bundle.hash[:12]}; "
            f"regenerate with `{UPDATE_COMMAND}` (after checking why the model changed)"
        )
    if expected.meta.get("texts_sha256") != texts_hash(texts_path):
        raise HarnessError(
            f"{expected_path} does not match {texts_path} (texts edited); regenerate with `{UPDATE_COMMAND}`"
        )


def update(bundle: Bundle, texts_path: Path | None = None, expected_path: Path | None = None) -> dict[str, Any]:
    texts_path, expected_path = texts_path or TEXTS, expected_path or EXPECTED
    cases = read_cases(texts_path)
    with Engines(bundle, ["keras"], ["py"]) as engines:
        ids = engines.tokenize("py", [c.text for c in cases])
        scores = engines.scores("keras", ids)
    meta = {
        "format": FORMAT, "bundle_hash": bundle.hash, "texts_sha256": texts_hash(texts_path),
        "reference_runtime": "keras", "reference_tokenizer": "py", "cases": len(cases), "generated_by": UPDATE_COMMAND,
    }  # fmt: skip
    lines = [json.dumps(meta)]
    lines += [
        json.dumps({"id": c.id, "ids": row.tolist(), "score": float(s)})
        for c, row, s in zip(cases, ids, scores, strict=True)
    ]
    atomic.write_text(expected_path, "\n".join(lines) + "\n")
    return meta


def _first_difference(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def check(
    bundle: Bundle, engines: Engines, cases: list[Case], expected: Expected, known: list[divergences.Divergence]
) -> GoldenCheck:
    """Every tokenizer runtime against the reference ids, every model runtime against the scores."""
    missing = [c.id for c in cases if c.id not in expected.ids]
    if missing:
        raise HarnessError(f"golden/expected.jsonl lacks case {missing[0]!r}; regenerate with `{UPDATE_COMMAND}`")
    result = GoldenCheck(cases=len(cases))
    texts = [c.text for c in cases]
    ref_ids = np.asarray([expected.ids[c.id] for c in cases], dtype=np.int64)
    ref_scores = np.asarray([expected.scores[c.id] for c in cases])
    for tok in engines.tokenizer_ids:
        got = engines.tokenize(tok, texts)
        for i in np.flatnonzero((got != ref_ids).any(axis=1)):
            pos = _first_difference(got[i].tolist(), ref_ids[i].tolist())
            detail = f"ids differ from position {pos}: expected {ref_ids[i][pos : pos + 5].tolist()}, got {got[i][pos : pos + 5].tolist()}"
            _add(result, known, Finding("tokens", tok, cases[i].id, detail))
    for rid in engines.runtime_ids:
        got_scores = engines.scores(rid, ref_ids)
        keep = np.asarray([divergences.declared(known, "score", rid, c.id) is None for c in cases])
        cmp = engines.compare(rid, ref_scores[keep], got_scores[keep])
        result.comparisons[rid] = cmp
        tol = engines.tolerance(rid)
        kept_idx = np.flatnonzero(keep)
        for j in cmp.failing:
            i = int(kept_idx[j])
            diff = abs(got_scores[i] - ref_scores[i])
            detail = f"score {got_scores[i]:.6f} vs expected {ref_scores[i]:.6f} (|diff| {diff:.3g}, atol {tol.atol:g})"
            result.findings.append(Finding("score", rid, cases[i].id, detail))
        for i in np.flatnonzero(~keep):  # declared: does it still diverge?
            if not engines.compare(rid, ref_scores[i : i + 1], got_scores[i : i + 1]).passed:
                _add(
                    result,
                    known,
                    Finding("score", rid, cases[i].id, f"score {got_scores[i]:.6f} vs expected {ref_scores[i]:.6f}"),
                )
    seen = {f.declared for f in result.findings if f.declared}
    checked = set(engines.runtime_ids) | set(engines.tokenizer_ids)
    result.unused_divergences = [d.id for d in known if d.id not in seen and checked & set(d.runtimes)]
    return result


def _add(result: GoldenCheck, known: list[divergences.Divergence], finding: Finding) -> None:
    d = divergences.declared(known, finding.kind, finding.runtime, finding.case_id)
    finding.declared = d.id if d else None
    result.findings.append(finding)

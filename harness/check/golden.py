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

from harness.check import divergences
from harness.check.compare import Comparison, judge
from harness.core import atomic, config, json_reader
from harness.core.bundle import Bundle
from harness.core.cases import Case, read_cases
from harness.core.errors import HarnessError, where
from harness.core.paths import GOLDEN, REFERENCE_BUNDLE
from harness.results import Finding
from harness.run.engines import Engines
from runtimes import registry, tokenizers
from runtimes.failures import RuntimeFailed, StepFailure

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
class GoldenCheck:
    cases: int
    findings: list[Finding] = field(default_factory=list)
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    unused_divergences: list[str] = field(default_factory=list)
    errors: dict[str, StepFailure] = field(default_factory=dict)  # runtimes/tokenizers that could not run
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # runtime id -> its score per case (evidence)
    ids_sha256: dict[str, str] = field(default_factory=dict)  # tokenizer id -> ids_sha256 of its ids

    @property
    def undeclared(self) -> list[Finding]:
        return [f for f in self.findings if f.declared is None]

    @property
    def passed(self) -> bool:
        return not self.undeclared and not self.unused_divergences and not self.errors


BUNDLE_EXPECTED = "expected.jsonl"  # a non-reference bundle's own golden file, inside its folder


def expected_path(bundle: Bundle) -> Path:
    """Where `bundle`'s golden file lives: golden/expected.jsonl for the committed reference,
    the bundle's own folder for any other (so updating one never rewrites the tracked file)."""
    if bundle.path.resolve() == REFERENCE_BUNDLE.resolve():
        return EXPECTED
    return bundle.path / BUNDLE_EXPECTED


def update_command(bundle: Bundle) -> str:
    if bundle.path.resolve() == REFERENCE_BUNDLE.resolve():
        return UPDATE_COMMAND
    return f"{UPDATE_COMMAND} --bundle {bundle.path}"


def texts_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_expected(path: Path | None = None, command: str = UPDATE_COMMAND) -> Expected:
    path = path or EXPECTED
    if not path.is_file():
        raise HarnessError(f"{path}: no golden file; create it with `{command}`")
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        meta = json_reader.parse(lines[0])
    except (IndexError, json_reader.JsonProblem):
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise HarnessError(
            f"{where(path, 1)}: expected a header with format {FORMAT!r}; regenerate with `{UPDATE_COMMAND}`"
        ) from None
    ids, scores = {}, {}
    for lineno, line in enumerate(lines[1:], start=2):
        try:
            row = json_reader.parse(line)
            ids[row["id"]], scores[row["id"]] = row["ids"], float(row["score"])
        except (KeyError, TypeError, ValueError):
            raise HarnessError(f'{where(path, lineno)}: expected {{"id", "ids", "score"}}') from None
    return Expected(meta, ids, scores)


def ensure_current(
    bundle: Bundle, expected: Expected, *, texts_path: Path | None = None, golden_file: Path | None = None
) -> None:
    """A golden file made for another bundle or other texts is stale: say how to regenerate."""
    texts_path, golden_file = texts_path or TEXTS, golden_file or expected_path(bundle)
    command = update_command(bundle)
    made_for = str(expected.meta.get("bundle_hash", "?"))
    if made_for != bundle.hash:
        raise HarnessError(
            f"{golden_file} was made for bundle {made_for[:12]}, the bundle under test is {bundle.hash[:12]}; "
            f"regenerate with `{command}` (after checking why the model changed)"
        )
    if expected.meta.get("texts_sha256") != texts_hash(texts_path):
        raise HarnessError(f"{golden_file} does not match {texts_path} (texts edited); regenerate with `{command}`")


def load_current(bundle: Bundle) -> Expected:
    """The bundle's golden file, checked to be made for this bundle and these texts."""
    expected = read_expected(expected_path(bundle), update_command(bundle))
    ensure_current(bundle, expected)
    return expected


def update(bundle: Bundle, texts_path: Path | None = None, golden_file: Path | None = None) -> dict[str, Any]:
    texts_path, golden_file = texts_path or TEXTS, golden_file or expected_path(bundle)
    cases = read_cases(texts_path)
    reference = config.reference()
    with Engines(bundle, [registry.get(reference)], [tokenizers.REFERENCE]) as engines:
        ids = engines.tokenize(tokenizers.REFERENCE, [c.text for c in cases])
        scores = engines.scores(reference, ids)  # the reference failing is the command's error
    meta = {
        "format": FORMAT,
        "bundle_hash": bundle.hash,
        "texts_sha256": texts_hash(texts_path),
        "reference_runtime": reference,
        "reference_tokenizer": tokenizers.REFERENCE,
        "cases": len(cases),
        "generated_by": update_command(bundle),
    }
    lines = [json.dumps(meta)]
    lines += [
        json.dumps({"id": c.id, "ids": row.tolist(), "score": float(s)})
        for c, row, s in zip(cases, ids, scores, strict=True)
    ]
    atomic.write_text(golden_file, "\n".join(lines) + "\n")
    return meta


def ids_sha256(ids: np.ndarray) -> str:
    """One hash for a tokenizer's ids of every golden case: int64 little-endian, row by row."""
    return hashlib.sha256(np.ascontiguousarray(ids, dtype="<i8").tobytes()).hexdigest()


def _first_difference(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def check(
    bundle: Bundle,
    engines: Engines,
    cases: list[Case],
    *,
    expected: Expected,
    known: list[divergences.DeclaredDivergence],
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
        try:
            got = engines.tokenize(tok, texts)
        except RuntimeFailed as e:
            result.errors[tok] = e.failure
            continue
        result.ids_sha256[tok] = ids_sha256(got)
        for i in np.flatnonzero((got != ref_ids).any(axis=1)):
            pos = _first_difference(got[i].tolist(), ref_ids[i].tolist())
            expected, found = ref_ids[i][pos : pos + 5].tolist(), got[i][pos : pos + 5].tolist()
            detail = f"ids differ from position {pos}: expected {expected}, got {found}"
            _add(result, known, Finding(kind="tokens", runtime=tok, case_id=cases[i].id, detail=detail))
    for rid in engines.runtime_ids:
        try:
            got_scores = engines.scores(rid, ref_ids)
        except RuntimeFailed as e:
            result.errors[rid] = e.failure
            continue
        result.scores[rid] = got_scores
        keep = np.asarray(
            [divergences.declared(known, kind="score", runtime_id=rid, case_id=c.id) is None for c in cases]
        )
        cmp = judge(engines, rid, reference=ref_scores[keep], other=got_scores[keep])
        result.comparisons[rid] = cmp
        tol = engines.tolerance(rid)
        kept_idx = np.flatnonzero(keep)
        for j in cmp.failing:
            i = int(kept_idx[j])
            diff = abs(got_scores[i] - ref_scores[i])
            detail = f"score {got_scores[i]:.6f} vs expected {ref_scores[i]:.6f} (|diff| {diff:.3g}, atol {tol.atol:g})"
            result.findings.append(Finding(kind="score", runtime=rid, case_id=cases[i].id, detail=detail))
        for i in np.flatnonzero(~keep):  # declared: does it still diverge?
            if not judge(engines, rid, reference=ref_scores[i : i + 1], other=got_scores[i : i + 1]).passed:
                _add(
                    result,
                    known,
                    Finding(
                        kind="score",
                        runtime=rid,
                        case_id=cases[i].id,
                        detail=f"score {got_scores[i]:.6f} vs expected {ref_scores[i]:.6f}",
                    ),
                )
    seen = {f.declared for f in result.findings if f.declared}
    checked = (set(engines.runtime_ids) | set(engines.tokenizer_ids)) - set(result.errors)
    result.unused_divergences = [d.id for d in known if d.id not in seen and checked & set(d.runtimes)]
    return result


def _add(result: GoldenCheck, known: list[divergences.DeclaredDivergence], finding: Finding) -> None:
    d = divergences.declared(known, kind=finding.kind, runtime_id=finding.runtime, case_id=finding.case_id)
    finding.declared = d.id if d else None
    result.findings.append(finding)

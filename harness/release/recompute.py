"""Every gate of a report recomputed from its measurements with this machine's policy.

A report made elsewhere claims gates; a sign-off must not take them on trust. Given the
local truth (this bundle's held-out labels, its golden file, conformance.toml), each gate a
runtime's results imply is judged again here: agreement and accuracy from the held-out
scores, golden from the per-case golden scores (tokenizers from the sha256 of their golden
ids), latency, size and web-app budgets from the measured values. The result is the list of
gates as this machine judges them; `evidence.check` compares it with what the report claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.check import divergences, gates
from harness.check.compare import compare
from harness.check.golden import Expected
from harness.core import config
from harness.results import ERROR_GATE, Gate, Report, RuntimeRow
from runtimes import tokenizers


@dataclass
class Local:
    """What this machine knows for certain about the bundle under test."""

    bundle_hash: str
    labels: np.ndarray  # held-out labels, in the corpus's held-out order
    expected: Expected | None  # the bundle's golden file (None: it has none)
    golden_cases: list[str]  # golden case ids, in order
    golden_texts_sha256: str
    known: list[divergences.DeclaredDivergence]
    threshold: float


class Inconsistent(Exception):
    """The first thing in a report that does not add up, in words (the caller names the file)."""


def _scores(values: list[float | None] | None) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values or []], dtype=np.float64)


def accuracy(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    return round(float(np.mean((scores > threshold) == (labels == 1))), 6)


def runtime_gates(rid: str, row: RuntimeRow, *, reference: RuntimeRow, report: Report, local: Local) -> list[Gate]:
    """The gates one runtime's results imply, judged here."""
    precision = row.spec.precision
    tol = config.tolerance(rid, precision)
    got, ref = _scores(row.scores), _scores(reference.scores)
    if len(got) != len(local.labels):
        raise Inconsistent(
            f"runtimes.{rid}.scores: {len(got)} held-out scores, this bundle has {len(local.labels)} held-out reviews"
        )
    acc = accuracy(got, local.labels, local.threshold)
    if row.accuracy is None or abs(acc - row.accuracy) > 2e-6:
        raise Inconsistent(
            f"runtimes.{rid}.accuracy: {row.accuracy} claimed, its scores give {acc} on this bundle's held-out labels"
        )
    cmp = compare(rid, ref, got, tol=tol, threshold=local.threshold)
    out = [
        Gate.make(
            "agreement",
            rid,
            cmp.passed,
            detail="; ".join(cmp.reasons) or f"agreement {cmp.agreement:.4f}",
            value=cmp.max_abs_diff,
            budget=tol.atol,
        )
    ]
    ref_acc = accuracy(ref, local.labels, local.threshold)
    budget = gates.accuracy_budget()
    out.append(gates.accuracy_gate(rid, precision=precision, accuracy=acc, reference_accuracy=ref_acc, budget=budget))
    out.append(Gate.make(ERROR_GATE, rid, True, detail="exported, loaded and ran"))
    if row.latency is not None:
        latency: dict[str, Any] = row.latency.model_dump(mode="json")
        out += gates.latency_gates(rid, latency, gates.latency_budget(rid))
    if local.expected is not None:
        out.append(golden_gate(rid, report, local=local, tol=tol))
    return out


def golden_gate(rid: str, report: Report, *, local: Local, tol: config.Tolerance) -> Gate:
    ev = report.evidence
    if ev is None or rid not in ev.golden_scores:
        raise Inconsistent(f"evidence.golden_scores: no per-case golden scores for {rid}")
    if ev.golden_texts_sha256 != local.golden_texts_sha256 or ev.golden_cases != local.golden_cases:
        raise Inconsistent(
            "evidence.golden_cases: made with other golden texts than this checkout's golden/texts.jsonl"
        )
    assert local.expected is not None
    got = _scores(ev.golden_scores[rid])
    want = np.asarray([local.expected.scores[c] for c in local.golden_cases], dtype=np.float64)
    keep = np.asarray(
        [divergences.declared(local.known, kind="score", runtime_id=rid, case_id=c) is None for c in local.golden_cases]
    )
    cmp = compare(rid, want[keep], got[keep], tol=tol, threshold=local.threshold)
    bad = len(cmp.failing)
    detail = f"{bad} golden case(s) differ" if bad else f"{len(local.golden_cases)} cases"
    return Gate.make("golden", rid, cmp.passed, detail=detail, value=float(bad), budget=0.0, unit="cases")


def tokenizer_gate(tok: str, report: Report, local: Local) -> Gate:
    from harness.check.golden import ids_sha256

    assert local.expected is not None
    want = ids_sha256(np.asarray([local.expected.ids[c] for c in local.golden_cases], dtype=np.int64))
    got = report.evidence.golden_ids_sha256.get(tok) if report.evidence else None
    if got is None:
        raise Inconsistent(f"evidence.golden_ids_sha256: no golden ids hash for tokenizer {tok}")
    detail = "ids equal the golden ids" if got == want else "ids differ from the golden ids"
    return Gate.make("golden", tok, got == want, detail=detail)


def recompute(report: Report, local: Local) -> list[Gate]:
    """Every gate this machine can judge from the report's measurements (see module docstring)."""
    ran = {rid: row for rid, row in report.runtimes.items() if row.status == "ran"}
    out: list[Gate] = []
    if ran:
        reference = ran.get(report.reference)
        if reference is None:
            raise Inconsistent(f"runtimes.{report.reference}: the reference did not run, so nothing can be judged")
        for rid, row in ran.items():
            out += runtime_gates(rid, row, reference=reference, report=report, local=local)
    for rid, row in report.runtimes.items():
        if row.status == "error" and row.error is not None:
            out.append(Gate.make(ERROR_GATE, rid, False, detail=f"{row.error.step}: {row.error.message}"))
    if local.expected is not None:
        for g in report.gates:
            if g.gate == "golden" and g.subject in tokenizers.SPECS:
                out.append(tokenizer_gate(g.subject, report, local))
    budgets = gates.size_budgets()
    for target, size in report.sizes.items():
        if target in budgets:
            ok = size.gzip_bytes is not None and size.gzip_bytes <= budgets[target]
            out.append(
                Gate.make(
                    "size",
                    target,
                    ok,
                    detail=size.error or "",
                    value=size.gzip_bytes,
                    budget=budgets[target],
                    unit="gzip bytes",
                    evaluated=size.error is None,
                )
            )
    if report.webapp is not None:
        out += gates.webapp_gates(report.webapp.model_dump(mode="json"))
    return out

"""One report row per runtime: held-out scores, accuracy, agreement with the reference,
latency inside the engine, the artifact it ran, or the step and reason it could not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harness.check import gates
from harness.check.compare import judge
from harness.check.side_by_side import command_for
from harness.core import calibration, float16_ids, shipped, speed_policy
from harness.core.latency import latency_summary
from harness.core.speed_policy import SpeedPolicy
from harness.data import corpus
from harness.results import (
    Agreement,
    Artifact,
    Gate,
    Latency,
    LatencySummary,
    RuntimeRow,
    RuntimeSpecInfo,
    WorstCase,
)
from harness.run import speed
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.failures import RuntimeFailed, StepFailure, step


def failed_row(engines: Engines, rid: str, failure: StepFailure, *, machine: str) -> RuntimeRow:
    """A runtime that could not export, load, tokenize or run: its reason instead of its figures."""
    return RuntimeRow(
        spec=_spec(engines, rid),
        status="error",
        machine=machine,
        error=failure.record(),
        info=engines.info.get(rid, {}),
    )


def _spec(engines: Engines, rid: str) -> RuntimeSpecInfo:
    return RuntimeSpecInfo.model_validate(engines.runtimes[rid].spec.describe())


def held_out_rows(
    engines: Engines,
    reviews: list[corpus.Review],
    *,
    machine: str,
    ids_by_tok: dict[str, np.ndarray],
    rows: dict[str, RuntimeRow],
    on_progress: Callable[[str], None],
) -> None:
    """Every runtime on the held-out reviews, fed by its app's tokenizer, into `rows` as each
    finishes; failures become error rows."""
    texts = [r.text for r in reviews]
    labels = np.asarray([r.label for r in reviews])
    for rid in engines.runtime_ids:
        on_progress(f"{rid}: held-out scores")
        try:
            tok, ids = engines.app_ids(rid, texts, ids_by_tok)
            result = engines.run(rid, ids)
        except RuntimeFailed as e:
            rows[rid] = failed_row(engines, rid, e.failure, machine=machine)
            continue
        parity = preprocessing_parity(engines, tok, ids, texts=texts, cache=ids_by_tok)
        manifest = engines.artifacts.get(rid)
        rows[rid] = RuntimeRow(
            spec=_spec(engines, rid),
            status="ran",
            machine=machine,
            scores=[round(float(s), 7) for s in result.scores],
            accuracy=round(float(np.mean((result.scores > engines.threshold) == (labels == 1))), 6),
            info={**engines.info.get(rid, {}), "tokenizer_used": tok, **parity},
            artifact=artifact_record(manifest) if manifest else None,
            artifact_origin=("shipped" if shipped.origin(manifest) == shipped.ORIGIN_SHIPPED else "exported")
            if manifest
            else None,
            batch_seconds=round(result.seconds, 4),
        )
    reference = engines.reference
    ref_row = rows.get(reference)
    if ref_row is None or ref_row.status != "ran":  # nothing can be judged without the reference
        why = ref_row.error.message if ref_row is not None and ref_row.error is not None else "not run"
        for rid, row in rows.items():
            if rid != reference and row.status == "ran":
                failure = StepFailure(rid, "run", f"the reference {reference} failed: {why}")
                rows[rid] = failed_row(engines, rid, failure, machine=machine)


def artifact_record(manifest: dict[str, Any]) -> Artifact:
    """The artifact a runtime executed: its hash, its bytes and gzip bytes, and who made it."""
    return Artifact(
        target=manifest["target"],
        artifact_hash=manifest["artifact_hash"],
        bytes=sum(f["bytes"] for f in manifest["files"].values()),
        gzip_bytes=sum(f["gzip_bytes"] for f in manifest["files"].values()),
        **artifact_provenance(manifest),
    )


def artifact_provenance(manifest: dict[str, Any]) -> dict[str, Any]:
    """Where the artifact came from and who made it: for a shipped file, what the file records
    (converter and version) and the path it was adopted from; for an export, the tool versions."""
    if shipped.origin(manifest) == shipped.ORIGIN_SHIPPED:
        return {"recorded_by": manifest.get("recorded_by", {}), "source": manifest.get("shipped_from")}
    return {"recorded_by": dict(manifest.get("tool_versions", {})), "source": None}


def preprocessing_parity(
    engines: Engines, tok: str, ids: np.ndarray, *, texts: list[str], cache: dict[str, np.ndarray]
) -> dict[str, Any]:
    """How many reviews the app's tokenizer fed differently from the reference tokenizer, so a
    score disagreement that comes from preprocessing reads as such, not as a model error."""
    if tok == tokenizers.REFERENCE:
        return {}
    try:
        if tokenizers.REFERENCE not in cache:
            cache[tokenizers.REFERENCE] = engines.tokenize(tokenizers.REFERENCE, texts)
    except RuntimeFailed:
        return {}
    ref = cache[tokenizers.REFERENCE]
    if ref.shape != ids.shape:
        return {}
    differing = int((ref != ids).any(axis=1).sum())
    return {
        "tokenizer_parity": {"reference": tokenizers.REFERENCE, "differing_reviews": differing, "reviews": len(texts)}
    }


def agreement_gates(
    engines: Engines, rows: dict[str, RuntimeRow], ids_by_tok: dict[str, np.ndarray] | None = None
) -> list[Gate]:
    """Agreement with the reference and the accuracy floor, per runtime that ran. A runtime that
    stores ids as float16 (webgl16) gets the share of its disagreement the rounded ids explain,
    from the ids it was fed (`ids_by_tok`); conformance.toml [advisory] makes its gates advisory."""
    ran = {rid: row for rid, row in rows.items() if row.status == "ran"}
    if engines.reference not in ran:
        return []
    ref_row = ran[engines.reference]
    ref = np.asarray(ref_row.scores)
    budget = gates.accuracy_budget()
    out = []
    for rid, row in ran.items():
        scores = np.asarray(row.scores)
        cmp = judge(engines, rid, reference=ref, other=scores)
        tol = engines.tolerance(rid)
        row.agreement = Agreement(
            passed=cmp.passed,
            max_abs_diff=cmp.max_abs_diff,
            mean_abs_diff=cmp.mean_abs_diff,
            min_atol=cmp.min_atol,
            decision_agreement=cmp.agreement,
            atol=tol.atol,
            required_agreement=tol.agreement,
            flips=len(cmp.flips),
            reasons=cmp.reasons,
        )
        detail = "; ".join(cmp.reasons) or f"agreement {cmp.agreement:.4f}"
        parity = row.info.get("tokenizer_parity")
        if isinstance(parity, dict) and parity.get("differing_reviews"):
            detail += (
                f"; preprocessing: {row.info['tokenizer_used']} ids differ from {parity['reference']} "
                f"on {parity['differing_reviews']} of {parity['reviews']} reviews"
            )
        spec = engines.runtimes[rid].spec
        fed = (ids_by_tok or {}).get(str(row.info.get("tokenizer_used")))
        if spec.options.get("float16_ids") and fed is not None:
            explained = float16_ids.explain(fed, ref, scores, atol=tol.atol)
            row.info["float16_ids"] = explained
            if not cmp.passed and explained["cause"]:
                detail = f"cause: {explained['cause']}; {detail}"
        assert row.accuracy is not None and ref_row.accuracy is not None  # held_out_rows sets it on every row that ran
        judged = [
            Gate.make("agreement", rid, cmp.passed, value=cmp.max_abs_diff, budget=tol.atol, detail=detail),
            gates.accuracy_gate(
                rid, precision=spec.precision, accuracy=row.accuracy, reference_accuracy=ref_row.accuracy, budget=budget
            ),
        ]
        why = gates.advisory(rid)
        for gate in judged:
            gate.required, gate.detail = not why, f"{gate.detail}; advisory: {why}" if why else gate.detail
        out.extend(judged)
    return out


def typical_row(ids: np.ndarray, pad_id: int = 0) -> np.ndarray:
    """A review of median length: what a user typically types."""
    lengths = (ids != pad_id).sum(axis=1)
    return ids[int(np.argsort(lengths)[len(lengths) // 2])]


def measure_latency(
    engines: Engines, rid: str, *, row: np.ndarray, batch: np.ndarray, budget: dict[str, float], policy: SpeedPolicy
) -> Latency:
    """Calibration, then single-review latency and batch throughput, each from its own loop
    sampled until its interval decides the (calibrated) budget or the cap (harness/run/speed.py)."""
    session = engines.session(rid)
    context = engines.runtimes[rid].context()
    absolute = rid in policy.absolute_runtimes
    cal = calibration.measure(policy.calibration_seconds)
    factors = speed.scale(policy, cal, absolute)
    cap = policy.max_factor if factors.applied else 1.0  # the factors as the gates apply them

    def at(factor: float) -> float:
        return min(factor, cap)

    p50_ms, p95_ms = budget["p50_ms"] * at(factors.p50), budget["p95_ms"] * at(factors.p95)
    floor = budget.get("min_reviews_per_second")
    floor = floor / at(factors.throughput) if floor is not None else None

    def run_batch(ids: np.ndarray) -> float:
        return session.run(ids).seconds

    with step(rid, "run", context):
        samples, p50, p95, lat_s = speed.sample_latency(
            session,
            row,
            budgets=(p50_ms, p95_ms),
            repeats=int(budget.get("repeats", 200)),
            warmup=int(budget.get("warmup", 20)),
            policy=policy,
        )
        seconds, rate, rate_s, size = speed.sample_throughput(run_batch, batch, budget=floor, policy=policy)
    return Latency(
        remeasured=False,
        load_seconds=round(session.load_seconds, 3),
        single_ms=LatencySummary.model_validate(
            {**latency_summary(samples), "samples": [round(float(x), 4) for x in samples]}
        ),
        batch_reviews_per_second=round(rate.estimate, 1),
        confidence=policy.confidence,
        p50_interval=p50.as_list(),
        p95_interval=p95.as_list(),
        throughput_interval=rate.as_list(),
        throughput_batch=size,
        throughput_batches=len(seconds),
        calibration=factors.record(cal),
        seconds=round(lat_s + rate_s, 3),
    )


def latency_gates(
    engines: Engines,
    rows: dict[str, RuntimeRow],
    ids_by_tok: dict[str, np.ndarray],
    *,
    on_progress: Callable[[str], None],
) -> list[Gate]:
    """Latency and throughput inside each engine that ran, judged from intervals against its
    (calibrated) budget; a runtime that fails while being timed becomes an error row."""
    out: list[Gate] = []
    ids = ids_by_tok[tokenizers.REFERENCE]
    row_ids = typical_row(ids)
    policy = speed_policy.load()
    batch = ids[: policy.throughput_batch]
    for rid, row in rows.items():
        if row.status != "ran":
            continue
        on_progress(f"{rid}: latency and throughput")
        budget = gates.latency_budget(rid)
        try:
            latency = measure_latency(engines, rid, row=row_ids, batch=batch, budget=budget, policy=policy)
        except RuntimeFailed as e:
            rows[rid] = failed_row(engines, rid, e.failure, machine=row.machine)
            continue
        row.latency, row.batch_seconds = latency, None
        judged = gates.latency_gates(rid, latency.model_dump(exclude_none=True), budget)
        if engines.runtimes[rid].spec.options.get("emulated"):  # an emulated CPU's time is not a phone's
            for gate in judged:
                gate.detail = f"emulated CPU (shown, never judged): {gate.value} {gate.unit}, budget {gate.budget}"
                gate.passed, gate.evaluated, gate.required = False, False, False
        out.extend(judged)
    return out


def worst_cases(
    reviews: list[corpus.Review], rows: dict[str, RuntimeRow], reference: str, *, per_runtime: int = 3
) -> list[WorstCase]:
    ref_row = rows.get(reference)
    if ref_row is None or ref_row.status != "ran":
        return []
    ref = np.asarray(ref_row.scores)
    out: list[WorstCase] = []
    for rid, row in rows.items():
        if rid == reference or row.status != "ran":
            continue
        scores = np.asarray(row.scores)
        diff = np.abs(scores - ref)
        for i in np.argsort(-diff)[:per_runtime]:
            r = reviews[int(i)]
            out.append(
                WorstCase(
                    runtime=rid,
                    case_id=r.id,
                    text=r.text,
                    reference=float(ref[i]),
                    score=float(scores[i]),
                    diff=float(diff[i]),
                    command=command_for(r.text, [reference, rid]),
                    layers_command=command_for(r.text, [reference, rid], layers=True),
                )
            )
    return sorted(out, key=lambda w: -float(w.diff or 0.0))[:20]

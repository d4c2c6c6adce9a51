"""`harness report`: the bundle's held-out split through every runtime, compared with keras."""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness import atomic, bundle, config, corpus, tokenizer_runtimes
from harness.compare import compare
from harness.errors import HarnessError
from harness.predict import tokenizer_for
from runtimes import registry

SCHEMA = "harness-report/1"


def held_out(b: bundle.Bundle) -> list[corpus.Review]:
    name = b.metrics().get("corpus", {}).get("name", corpus.BUILTIN)
    try:
        reviews = corpus.load(name)
    except HarnessError as e:
        raise HarnessError(f"cannot load the bundle's corpus {name!r} for the held-out split: {e}") from None
    test = corpus.by_split(reviews)["test"]
    if not test:
        raise HarnessError(f"corpus {name!r} has no reviews in the test split")
    return test


def select(selection: str) -> tuple[list[Any], dict[str, str]]:
    """Runtimes to run and, for those that cannot run here, why."""
    ids = config.matrix() if selection == "all" else [r.id for r in registry.resolve(selection)]
    run, unavailable = [], {}
    for rid in ids:
        rt = registry.get(rid)
        ok = rt.availability()
        if ok.ok:
            run.append(rt)
        else:
            unavailable[rid] = f"{ok.reason}; {ok.install}"
    reference = config.load().get("matrix", {}).get("reference", "keras")
    if reference not in [r.id for r in run]:
        run.insert(0, registry.get(reference))
    return run, unavailable


def run_report(bundle_dir: str | None, selection: str, out: Path) -> int:
    from harness import matrix

    b = bundle.load(bundle_dir)
    reviews = held_out(b)
    texts = [r.text for r in reviews]
    labels = np.asarray([r.label for r in reviews])
    runtimes, unavailable = select(selection)
    threshold = config.threshold()
    started = time.perf_counter()
    ids_cache: dict[str, np.ndarray] = {}
    rows: dict[str, dict[str, Any]] = {}
    scores: dict[str, np.ndarray] = {}
    for rt in runtimes:
        tok = tokenizer_for(rt.spec.tokenizer)
        if tok not in ids_cache:
            ids_cache[tok] = np.asarray(tokenizer_runtimes.tokenize(b, tok, texts), dtype=np.int32)
        result = matrix.run(b, [rt], ids_cache[tok], progress=True)[rt.id]
        scores[rt.id] = result.result.scores
        rows[rt.id] = {
            "tokenizer": tok, "precision": rt.spec.precision, "load_seconds": round(result.load_seconds, 3),
            "batch_seconds": round(result.result.seconds, 4), "info": result.info,
            "accuracy": round(float(np.mean((scores[rt.id] > threshold) == (labels == 1))), 6),
            "artifact": {k: result.artifact[k] for k in ("target", "artifact_hash", "cache_key") if k in result.artifact} if result.artifact else None,
        }  # fmt: skip
    ref = scores["keras"]
    failed = 0
    for rid, row in rows.items():
        tol = config.tolerance(rid, row["precision"])
        cmp = compare(rid, ref, scores[rid], tol, threshold)
        failed += 0 if cmp.passed else 1
        row["agreement"] = {
            "passed": cmp.passed, "max_abs_diff": cmp.max_abs_diff, "mean_abs_diff": cmp.mean_abs_diff,
            "min_atol": cmp.min_atol, "decision_agreement": cmp.agreement, "atol": tol.atol,
            "required_agreement": tol.agreement, "flips": len(cmp.flips), "reasons": cmp.reasons,
            "worst": [reviews[i].id for i in np.argsort(-np.abs(ref - scores[rid]))[:5]],
        }  # fmt: skip
    report = {
        "schema": SCHEMA,
        "bundle_hash": b.hash,
        "environment": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "cases": len(reviews),
        "seconds": round(time.perf_counter() - started, 2),
        "runtimes": rows,
        "unavailable": unavailable,
        "bundle_metrics": b.metrics().get("splits", {}),
    }
    atomic.write_json(out / "report.json", report)
    _print_summary(report, out)
    return 1 if failed else 0


def _print_summary(report: dict[str, Any], out: Path) -> None:
    print(f"bundle {report['bundle_hash'][:12]}  {report['cases']} held-out reviews  ({report['seconds']} s)")
    print(f"{'runtime':<20} {'verdict':<7} {'max|diff|':>10} {'agree':>7} {'accuracy':>8}  tokenizer")
    for rid, row in report["runtimes"].items():
        a = row["agreement"]
        verdict = "pass" if a["passed"] else "FAIL"
        print(
            f"{rid:<20} {verdict:<7} {a['max_abs_diff']:>10.2e} {a['decision_agreement']:>7.4f} {row['accuracy']:>8.4f}  {row['tokenizer']}"
        )
    for rid, why in report["unavailable"].items():
        print(f"{rid:<20} n/a     {why}")
    print(f"report: {out / 'report.json'}", file=sys.stderr)

"""One runtime's speed: single-review latency inside the engine after warm-up (p50/p95),
batch throughput over the held-out reviews, and load time; or the step and reason it failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from harness.core.latency import latency_summary
from harness.run.engines import Engines
from runtimes.base import Session
from runtimes.failures import RuntimeFailed, step

# session facts worth printing beside the figures: what ran, how (browser flavour, kernels, threads)
INFO_KEYS = (
    "wasm_flavour",
    "renderer",
    "backend",
    "browser",
    "engine",
    "kernels",
    "num_threads",
    "xnnpack_partitions",
    "artifact",
)
# Core AI: what the engine is, its worker process's start and the engine's own load (runtimes/coreai.py)
INFO_KEYS_COREAI = ("what", "worker_start_seconds", "engine_load_seconds")


def bench_runtime(engines: Engines, rid: str, ids: np.ndarray, *, repeats: int) -> dict[str, Any]:
    try:
        session = engines.session(rid)
        with step(rid, "run"):
            lat = session.latency_ms(ids[0], repeats=repeats, warmup=20)
        batch = engines.run(rid, ids)
    except RuntimeFailed as e:
        return {"error": e.failure.line()}
    return {
        "single_review_ms": latency_summary(lat),
        "batch_reviews_per_second": round(len(ids) / batch.seconds) if batch.seconds > 0 else None,
        "load_seconds": round(session.load_seconds, 3),
        "info": {k: v for k, v in session.info.items() if k in INFO_KEYS or k in INFO_KEYS_COREAI},
    }


def single_review(
    engines: Engines,
    rid: str,
    row: np.ndarray,
    *,
    repeats: int,
    facts: Callable[[str, Session], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """{p50_ms, p95_ms, load_seconds, **facts(rid, session)} for one review, or {error}: the figure the
    model-by-model benches (zoo, coreml_nn, seed_formats) print per runtime, measured one way."""
    try:
        session = engines.session(rid)
        with step(rid, "run"):
            lat = session.latency_ms(row, repeats=repeats, warmup=10)
    except RuntimeFailed as e:
        return {"error": e.failure.line()}
    summary = latency_summary(lat)
    out = {"p50_ms": summary["p50"], "p95_ms": summary["p95"], "load_seconds": round(session.load_seconds, 2)}
    return {**out, **(facts(rid, session) if facts else {})}

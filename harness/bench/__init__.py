"""`harness bench` / `make bench`: the speed figures the issues name, as one JSON object.

Latency is measured inside each engine after warm-up (in the page for browser runtimes),
never as `model.predict` round trips; export time is measured cold in a scratch cache,
then again warm (cached).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from harness import export
from harness.check import gates
from harness.core import bundle
from harness.data import corpus
from harness.data.corpus import held_out
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.failures import RuntimeFailed, step
from runtimes.selection import select


@contextmanager
def scratch_cache() -> Iterator[Path]:
    old = os.environ.get("HARNESS_CACHE")
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        os.environ["HARNESS_CACHE"] = tmp
        try:
            yield Path(tmp)
        finally:
            if old is None:
                os.environ.pop("HARNESS_CACHE", None)
            else:
                os.environ["HARNESS_CACHE"] = old


def bench_training(seed: int = 1234) -> dict[str, Any]:
    from harness.data import training

    with tempfile.TemporaryDirectory(prefix="harness-bench-train-") as tmp:
        metrics = training.train_bundle(corpus.BUILTIN, Path(tmp) / "bundle", seed)
    return {"training_seconds": metrics["training_seconds"], "test_accuracy": metrics["splits"]["test"]["accuracy"]}


def bench_tokenizer_py(b: bundle.Bundle, texts: list[str], min_seconds: float = 1.0) -> dict[str, Any]:
    tok = b.tokenizer()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_seconds:
        tok.encode_batch(texts)
        done += len(texts)
    return {"sentences_per_second": round(done / (time.perf_counter() - started))}


def bench_exports(b: bundle.Bundle, targets: list[str]) -> dict[str, Any]:
    """Cold: a fresh process (framework imports included) into an empty cache; then cached."""
    import subprocess
    import sys

    out: dict[str, Any] = {"targets": targets}
    with scratch_cache():
        cmd = [sys.executable, "-m", "harness.cli", "export", "--bundle", str(b.path), "--targets", ",".join(targets)]
        for label in ("cold_seconds", "cached_process_seconds"):
            started = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
            out[label] = round(time.perf_counter() - started, 2)
            if proc.returncode != 0:
                out["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1]
                return out
        started = time.perf_counter()
        for t in targets:
            export.export(b, t)
        out["cached_seconds"] = round(time.perf_counter() - started, 3)
    return out


def bench_runtime(engines: Engines, rid: str, ids: np.ndarray, repeats: int) -> dict[str, Any]:
    """Single-review latency inside the engine, batch throughput and load time; or the failure."""
    try:
        session = engines.session(rid)
        with step(rid, "run"):
            lat = session.latency_ms(ids[0], repeats=repeats, warmup=20)
        batch = engines.run(rid, ids)
    except RuntimeFailed as e:
        return {"error": e.failure.line()}
    info_keys = ("wasm_flavour", "renderer", "backend", "browser")
    return {
        "single_review_ms": gates.latency_summary(lat),
        "batch_reviews_per_second": round(len(ids) / batch.seconds) if batch.seconds > 0 else None,
        "load_seconds": round(session.load_seconds, 3),
        "info": {k: v for k, v in session.info.items() if k in info_keys},
    }


def run_bench(bundle_dir: str | None, selection: str, repeats: int) -> dict[str, Any]:
    b = bundle.load(bundle_dir)
    texts = [r.text for r in held_out(b)]
    ids = np.asarray(tokenizers.tokenize(tokenizers.REFERENCE, b, texts), dtype=np.int32)
    result: dict[str, Any] = {"bundle_hash": b.hash, "reviews": len(texts)}
    result["training"] = bench_training()
    result["tokenizer"] = {"py": bench_tokenizer_py(b, texts)}
    if tokenizers.availability("js").ok:
        from runtimes.tokenizers import browser as browser_tokenizers

        result["tokenizer"].update(browser_tokenizers.bench(b, texts))
    result["export_tfjs"] = bench_exports(b, ["savedmodel", "tfjs", "tfjs-f16", "tfjs-u8"])
    result["export_coreml"] = bench_exports(b, ["coreml", "coreml-fp32"])
    chosen = select(selection, with_reference=True)
    with Engines(b, chosen.runtimes) as engines:
        result["runtimes"] = {rid: bench_runtime(engines, rid, ids, repeats) for rid in engines.runtime_ids}
    result["unavailable"] = chosen.unavailable
    from runtimes.browser.host import BrowserHost

    host = BrowserHost.current()
    if host is not None:
        result["browser_session_start_seconds"] = {e: round(d.start_seconds, 3) for e, d in host.drivers.items()}
    from harness.app import measure

    result["webapp"] = {k: v for k, v in measure.figures(b).items() if k != "download"}
    result["conformance_suite"] = bench_conformance_suite()
    return result


def bench_conformance_suite(profile: str = "ci") -> dict[str, Any]:
    """Wall time of `pytest -m conformance` with the given profile, on the warm caches."""
    import subprocess
    import sys

    from harness.core.paths import REPO

    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "conformance", "-q", "-p", "no:cacheprovider"],
                          cwd=REPO, env={**os.environ, "HARNESS_PROFILE": profile}, capture_output=True, text=True)  # fmt: skip
    summary = (proc.stdout.strip().splitlines() or [""])[-1]
    return {
        "profile": profile,
        "seconds": round(time.perf_counter() - started, 1),
        "exit_code": proc.returncode,
        "summary": summary,
    }

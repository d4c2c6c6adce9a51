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

from harness import bundle, corpus, export, gates, tokenizer_runtimes
from harness.bundle import held_out
from harness.report import select


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
    from harness import training

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


def bench_runtime(b: bundle.Bundle, rt: Any, ids: np.ndarray, repeats: int) -> dict[str, Any]:
    from harness.matrix import artifact_for

    art = artifact_for(b, rt)
    with rt.open(b, art) as session:
        lat = session.latency_ms(ids[0], repeats=repeats, warmup=20)
        batch = session.run(ids)
        return {
            "single_review_ms": gates.latency_summary(lat),
            "batch_reviews_per_second": round(len(ids) / batch.seconds) if batch.seconds > 0 else None,
            "load_seconds": round(session.load_seconds, 3),
            "info": {k: v for k, v in session.info.items() if k in ("wasm_flavour", "renderer", "backend", "browser")},
        }


def run_bench(bundle_dir: str | None, selection: str, repeats: int) -> dict[str, Any]:
    b = bundle.load(bundle_dir)
    texts = [r.text for r in held_out(b)]
    ids = np.asarray(tokenizer_runtimes.tokenize(b, "py", texts), dtype=np.int32)
    result: dict[str, Any] = {"bundle_hash": b.hash, "reviews": len(texts)}
    result["training"] = bench_training()
    result["tokenizer"] = {"py": bench_tokenizer_py(b, texts)}
    if tokenizer_runtimes.availability("js")[0]:
        result["tokenizer"].update(tokenizer_runtimes.bench_browser_tokenizers(b, texts))
    result["export_tfjs"] = bench_exports(b, ["savedmodel", "tfjs", "tfjs-f16", "tfjs-u8"])
    result["export_coreml"] = bench_exports(b, ["coreml", "coreml-fp32"])
    runtimes, unavailable = select(selection)
    result["runtimes"] = {rt.id: bench_runtime(b, rt, ids, repeats) for rt in runtimes}
    result["unavailable"] = unavailable
    from runtimes.browser.host import BrowserHost

    if BrowserHost._shared is not None:
        result["browser_session_start_seconds"] = round(BrowserHost._shared.start_seconds, 3)
    from harness import webapp

    result["webapp"] = {k: v for k, v in webapp.figures(b).items() if k != "download"}
    result["conformance_suite"] = bench_conformance_suite()
    return result


def bench_conformance_suite(profile: str = "ci") -> dict[str, Any]:
    """Wall time of `pytest -m conformance` with the given profile, on the warm caches."""
    import subprocess
    import sys

    from harness.paths import REPO

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

"""The figures that belong to the whole harness rather than one runtime: training time, the
Python tokenizer's speed, and the wall time of the conformance suite."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.core.bundle import Bundle
from harness.data import corpus


def bench_training(seed: int = 1234) -> dict[str, Any]:
    """The reference's recipe for one seed: its three teachers, then the distilled student
    (`harness train` tries 8 student seeds; each costs about `training_seconds`)."""
    from harness.data import distill, training

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="harness-bench-train-") as tmp:
        metrics = training.train_bundle(corpus.BUILTIN, Path(tmp) / "bundle", seed, teachers=distill.REFERENCE_TEACHERS)
    return {
        "training_seconds": metrics["training_seconds"],
        "with_teachers_seconds": round(time.perf_counter() - started, 2),
        "test_accuracy": metrics["splits"]["test"]["accuracy"],
    }


def bench_tokenizer_py(bundle: Bundle, texts: list[str], min_seconds: float = 1.0) -> dict[str, Any]:
    tok = bundle.tokenizer()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_seconds:
        tok.encode_batch(texts)
        done += len(texts)
    return {"sentences_per_second": round(done / (time.perf_counter() - started))}


def bench_conformance_suite(profile: str = "ci") -> dict[str, Any]:
    """Wall time of `pytest -m conformance` with the given profile, on the warm caches."""
    from harness.core.paths import REPO

    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "conformance", "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        env={**os.environ, "HARNESS_PROFILE": profile},
        capture_output=True,
        text=True,
    )
    summary = (proc.stdout.strip().splitlines() or [""])[-1]
    return {
        "profile": profile,
        "seconds": round(time.perf_counter() - started, 1),
        "exit_code": proc.returncode,
        "summary": summary,
    }

"""Export time, cold and cached, and what each exported variant weighs.

Cold is a fresh process (framework imports included) into an empty scratch cache, so no
artifact is reused; each target's own conversion time comes from its manifest. Cached is the
same command again, then each target in this process (a cache hit verifies the files' hashes).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import export
from harness.core.bundle import Bundle
from harness.core.paths import cache_dir

# runtime family -> the targets its runtimes execute (with what they are converted from)
FAMILY_TARGETS = {
    "tfjs": ["savedmodel-tfjs", "tfjs", "tfjs-f16", "tfjs-u8"],
    "coreml": ["coreml", "coreml-fp32", "coreml-nn", "coreml-nn-f16"],
    "tflite": ["savedmodel", "tflite", "tflite-f16", "tflite-dr8", "tflite-int8"],
    "coreai": ["coreai", "coreai-f16"],  # Apple's converter in .venv-coreai (its worker start included)
}
SHARED = ("corpora",)  # what a scratch cache borrows from the user's: tflite-int8 calibrates on the corpus


@contextmanager
def scratch_cache() -> Iterator[Path]:
    """An empty export cache for the duration, with the user's corpora linked in (a cold export
    measures the converter, not a download of the corpus)."""
    old = os.environ.get("HARNESS_CACHE")
    user = cache_dir()
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        for name in SHARED:
            if (user / name).is_dir():
                (Path(tmp) / name).symlink_to(user / name, target_is_directory=True)
        os.environ["HARNESS_CACHE"] = tmp
        try:
            yield Path(tmp)
        finally:
            if old is None:
                os.environ.pop("HARNESS_CACHE", None)
            else:
                os.environ["HARNESS_CACHE"] = old


def bench_exports(bundle: Bundle, targets: list[str]) -> dict[str, Any]:
    """Whole-command cold and cached times, then per target: its cold conversion time (from the
    manifest), its cached time in this process, bytes and gzip bytes."""
    out: dict[str, Any] = {"targets": targets}
    with scratch_cache():
        cmd = [
            sys.executable,
            "-m",
            "harness.cli",
            "export",
            "--bundle",
            str(bundle.path),
            "--targets",
            ",".join(targets),
        ]
        for label in ("cold_seconds", "cached_process_seconds"):
            started = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
            out[label] = round(time.perf_counter() - started, 2)
            if proc.returncode != 0:
                out["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1]
                return out
        per_target: dict[str, Any] = {}
        started = time.perf_counter()
        for t in targets:
            t0 = time.perf_counter()
            art = export.export(bundle, t)
            per_target[t] = {
                "cold_export_seconds": art.manifest["export_seconds"],
                "cached_seconds": round(time.perf_counter() - t0, 4),
                "bytes": art.total("bytes"),
                "gzip_bytes": art.total("gzip_bytes"),
            }
        out["cached_seconds"] = round(time.perf_counter() - started, 3)
        out["per_target"] = per_target
    return out

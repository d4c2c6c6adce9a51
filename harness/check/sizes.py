"""What ships, in bytes and gzip bytes, against the size budgets.

Web: the TF.js graph model (model.json + weights), the tokenizer spec and the app's tokenizer
module, since a user downloads all four. iOS: the .mlpackage that goes into the app bundle.
Android: the .tflite model and the tokenizer spec, the two assets the app ships (its Kotlin
tokenizer is code compiled into the app, and no Kotlin port exists yet to measure).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from harness import export
from harness.core import compact_tokenizer
from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from harness.core.paths import REPO
from harness.core.tokenizer import kinds as tokenizer_kinds
from runtimes.failures import RuntimeFailed, step

APP_TOKENIZER = REPO / "apps" / "web" / "src" / "tokenizer.js"
PLATFORMS = ("web", "ios", "android")  # the `<platform>:` of a [budgets.size] key


def _file_entry(path: Path) -> dict[str, int]:
    return _gzip_entry(path.read_bytes())


def _gzip_entry(data: bytes) -> dict[str, int]:
    return {"bytes": len(data), "gzip_bytes": len(gzip.compress(data, compresslevel=9, mtime=0))}


def shipped_files(bundle: Bundle, key: str) -> dict[str, dict[str, int]]:
    platform, _, target = key.partition(":")
    if platform not in PLATFORMS:
        raise HarnessError(f"size budget {key!r}: expected one of {', '.join(p + ':<target>' for p in PLATFORMS)}")
    art = export.export(bundle, target)
    files = {name: {"bytes": e["bytes"], "gzip_bytes": e["gzip_bytes"]} for name, e in art.files.items()}
    if platform == "web" and bundle.tokenizer_kind == tokenizer_kinds.HARNESS:
        # the app ships the harness's own spec in its compact form (harness/core/compact_tokenizer.py)
        files[compact_tokenizer.COMPACT] = _gzip_entry(compact_tokenizer.compact_bytes(bundle.tokenizer_path))
    elif platform in ("web", "android"):
        files["tokenizer.json"] = _file_entry(bundle.tokenizer_path)
    if platform == "web" and APP_TOKENIZER.is_file():
        files["tokenizer.js"] = _file_entry(APP_TOKENIZER)
    return files


def measure_sizes(bundle: Bundle, budgets: dict[str, int]) -> dict[str, Any]:
    """Per size target its files and gzip total against the budget; a target whose export
    fails (the converter refuses the model) gets that reason instead, and fails its gate."""
    out: dict[str, Any] = {}
    for key, budget in budgets.items():
        try:
            with step(key, "export"):
                files = shipped_files(bundle, key)
        except RuntimeFailed as e:
            out[key] = {
                "files": {},
                "bytes": None,
                "gzip_bytes": None,
                "budget_gzip_bytes": budget,
                "passed": False,
                "error": e.failure.line(),
            }
            continue
        gz = sum(f["gzip_bytes"] for f in files.values())
        out[key] = {
            "files": files,
            "bytes": sum(f["bytes"] for f in files.values()),
            "gzip_bytes": gz,
            "budget_gzip_bytes": budget,
            "passed": gz <= budget,
        }
    return out

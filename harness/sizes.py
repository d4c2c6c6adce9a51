"""What ships, in bytes and gzip bytes, against the size budgets.

Web: the TF.js graph model (model.json + weights), the tokenizer spec and the app's tokenizer
module, since a user downloads all four. iOS: the .mlpackage that goes into the app bundle.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from harness import export
from harness.bundle import Bundle
from harness.errors import HarnessError
from harness.paths import REPO

APP_TOKENIZER = REPO / "apps" / "web" / "src" / "tokenizer.js"


def _file_entry(path: Path) -> dict[str, int]:
    data = path.read_bytes()
    return {"bytes": len(data), "gzip_bytes": len(gzip.compress(data, compresslevel=9, mtime=0))}


def shipped_files(b: Bundle, key: str) -> dict[str, dict[str, int]]:
    platform, _, target = key.partition(":")
    if platform not in ("web", "ios"):
        raise HarnessError(f"size budget {key!r}: expected 'web:<target>' or 'ios:<target>'")
    art = export.export(b, target)
    files = {name: {"bytes": e["bytes"], "gzip_bytes": e["gzip_bytes"]} for name, e in art.files.items()}
    if platform == "web":
        files["tokenizer.json"] = _file_entry(b.tokenizer_path)
        if APP_TOKENIZER.is_file():
            files["tokenizer.js"] = _file_entry(APP_TOKENIZER)
    return files


def measure_sizes(b: Bundle, budgets: dict[str, int]) -> dict[str, Any]:
    out = {}
    for key, budget in budgets.items():
        files = shipped_files(b, key)
        gz = sum(f["gzip_bytes"] for f in files.values())
        out[key] = {"files": files, "bytes": sum(f["bytes"] for f in files.values()), "gzip_bytes": gz,
                    "budget_gzip_bytes": budget, "passed": gz <= budget}  # fmt: skip
    return out

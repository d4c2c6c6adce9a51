"""Where things live: the repository, the committed reference bundle, the cache."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # harness/core/paths.py -> the checkout
GOLDEN = REPO / "golden"
REFERENCE_BUNDLE = GOLDEN / "reference"
CONFIG = REPO / "conformance.toml"


def cache_dir() -> Path:
    """`$HARNESS_CACHE`, else `$XDG_CACHE_HOME/cross-runtime-harness`, else ~/.cache/..."""
    explicit = os.environ.get("HARNESS_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cross-runtime-harness"

"""sha256 of files and of file lists: what bundles, artifacts and evidence are keyed by."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_of_entries(entries: dict[str, dict[str, Any]]) -> str:
    """One hash for a folder's manifest: the sha256 of its sorted {name: sha256} map."""
    canonical = json.dumps({n: e["sha256"] for n, e in sorted(entries.items())}, sort_keys=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()

"""Installed tool versions, without importing the tools (importing TensorFlow costs seconds)."""

from __future__ import annotations

import importlib.metadata
import json

from harness.core.paths import REPO


def dist_version(name: str) -> str:
    """An installed Python distribution's version, or "absent"."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def npm_version(name: str) -> str:
    """The version of an npm package in the checkout's node_modules, or "absent"."""
    pkg = REPO / "node_modules" / name / "package.json"
    return str(json.loads(pkg.read_text(encoding="utf-8"))["version"]) if pkg.is_file() else "absent"

"""Exports: one artifact folder per (bundle hash, target, tool versions), built once, cached.

Each artifact folder carries `artifact.json`: its files (bytes, gzip bytes, sha256), the tool
versions that made it, and what the exporter recorded. Runtimes receive only verified
artifacts: a missing, truncated or edited file is refused by name before anything runs it.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import atomic
from harness.bundle import Bundle, hash_of_entries, verify_files
from harness.environment import dist_version
from harness.errors import HarnessError
from harness.paths import cache_dir

ARTIFACT_MANIFEST = "artifact.json"

# target -> "module:factory"; a factory returns an Exporter. Imported only when used.
EXPORTERS: dict[str, str] = {
    "savedmodel": "harness.export.tf_exporters:savedmodel",
    "tfjs": "harness.export.tf_exporters:tfjs_f32",
    "tfjs-f16": "harness.export.tf_exporters:tfjs_f16",
    "tfjs-u8": "harness.export.tf_exporters:tfjs_u8",
    "coreml": "harness.export.coreml:coreml_fp16",
    "coreml-fp32": "harness.export.coreml:coreml_fp32",
}
DEFAULT_TARGETS = ["savedmodel", "tfjs", "tfjs-f16", "tfjs-u8", "coreml", "coreml-fp32"]


class Exporter:
    """Writes one target's artifact from a bundle (and the artifacts it requires)."""

    target: str = ""
    version: int = 1  # bump when the exporter's output changes for the same inputs
    requires: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()  # distributions whose versions key the cache

    def tool_versions(self) -> dict[str, str]:
        return {p: dist_version(p) for p in self.packages}

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, Artifact]) -> dict[str, Any]:
        """Write the artifact's files into `out`; return facts for the manifest."""
        raise NotImplementedError


@dataclass
class Artifact:
    target: str
    path: Path
    manifest: dict[str, Any]

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return self.manifest["files"]

    def verify(self) -> None:
        verify_files(self.path, self.files, f"{self.target} artifact")

    def total(self, key: str = "bytes", names: list[str] | None = None) -> int:
        return sum(e[key] for n, e in self.files.items() if names is None or n in names)


def exporter(target: str) -> Exporter:
    ref = EXPORTERS.get(target)
    if ref is None:
        raise HarnessError(f"unknown export target {target!r} (expected one of {', '.join(EXPORTERS)})")
    module_name, factory = ref.split(":")
    return getattr(importlib.import_module(module_name), factory)()


def cache_key(bundle: Bundle, exp: Exporter) -> str:
    payload = {"bundle": bundle.hash, "target": exp.target, "exporter": exp.version, "tools": exp.tool_versions()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def artifact_dir(bundle: Bundle, exp: Exporter) -> Path:
    return cache_dir() / "exports" / bundle.hash[:16] / exp.target / cache_key(bundle, exp)


def describe_files(folder: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != ARTIFACT_MANIFEST:
            data = p.read_bytes()
            out[p.relative_to(folder).as_posix()] = {
                "bytes": len(data),
                "gzip_bytes": len(gzip.compress(data, compresslevel=9, mtime=0)),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
    return out


def load_artifact(folder: Path, target: str) -> Artifact | None:
    path = folder / ARTIFACT_MANIFEST
    if not path.is_file():
        return None
    art = Artifact(target, folder, json.loads(path.read_text(encoding="utf-8")))
    art.verify()
    return art


def export(bundle: Bundle, target: str, force: bool = False) -> Artifact:
    """The artifact for `target`, from cache when its key matches, else built now."""
    exp = exporter(target)
    folder = artifact_dir(bundle, exp)
    with atomic.file_lock(folder.parent / f"{folder.name}.lock"):  # a second run waits, then reuses
        if not force:
            cached = load_artifact(folder, target)
            if cached is not None:
                cached.manifest["cached"] = True
                return cached
        inputs = {t: export(bundle, t) for t in exp.requires}
        started = time.perf_counter()
        with atomic.staged_dir(folder) as stage:
            facts = exp.build(bundle, stage, inputs)
            files = describe_files(stage)
            if not files:
                raise HarnessError(f"exporter {target} wrote no files")
            manifest = {
                "format": "harness-artifact/1",
                "target": target,
                "bundle_hash": bundle.hash,
                "cache_key": folder.name,
                "tool_versions": exp.tool_versions(),
                "export_seconds": round(time.perf_counter() - started, 3),
                "artifact_hash": hash_of_entries(files),
                "files": files,
                **facts,
            }
            atomic.write_json(stage / ARTIFACT_MANIFEST, manifest)
    art = Artifact(target, folder, manifest)
    art.manifest["cached"] = False
    return art

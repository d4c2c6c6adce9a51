"""Exports: one artifact folder per (bundle hash, target, tool versions), built once, cached.

The artifact format itself (files, manifest, verification) is `harness.core.artifact`; this
module decides where an artifact lives, when a cached one may be reused, and builds it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from pathlib import Path
from typing import Any

from harness.core import atomic, shipped
from harness.core.artifact import ARTIFACT_MANIFEST, ArtifactFolder, describe_files, load_artifact
from harness.core.bundle import Bundle
from harness.core.errors import HarnessError, IntegrityError
from harness.core.hashing import hash_of_entries
from harness.core.paths import cache_dir
from harness.core.versions import dist_version

__all__ = ["ARTIFACT_MANIFEST", "ArtifactFolder", "DEFAULT_TARGETS", "Exporter", "describe_files", "export", "exporter"]

# target -> "module:factory"; a factory returns an Exporter. Imported only when used.
EXPORTERS: dict[str, str] = {
    "savedmodel": "harness.export.tf_exporters:savedmodel",
    "savedmodel-tfjs": "harness.export.tf_exporters:savedmodel_tfjs",
    "tfjs": "harness.export.tf_exporters:tfjs_f32",
    "tfjs-f16": "harness.export.tf_exporters:tfjs_f16",
    "tfjs-u8": "harness.export.tf_exporters:tfjs_u8",
    "tfjs-layers": "harness.export.tfjs_layers:tfjs_layers_f32",
    "tfjs-layers-f16": "harness.export.tfjs_layers:tfjs_layers_f16",
    "tfjs-layers-u8": "harness.export.tfjs_layers:tfjs_layers_u8",
    "coreml": "harness.export.coreml:coreml_fp16",
    "coreml-fp32": "harness.export.coreml:coreml_fp32",
    "coreml-nn": "harness.export.coreml_nn:coreml_nn_fp32",
    "coreml-nn-f16": "harness.export.coreml_nn:coreml_nn_fp16",
    "tflite": "harness.export.tflite:tflite_f32",
    "tflite-f16": "harness.export.tflite:tflite_f16",
    "tflite-dr8": "harness.export.tflite:tflite_dr8",
    "tflite-int8": "harness.export.tflite:tflite_int8",
    "coreai": "harness.export.coreai:coreai_f32",
    "coreai-f16": "harness.export.coreai:coreai_f16",
}
DEFAULT_TARGETS = [
    "savedmodel",
    "savedmodel-tfjs",
    "tfjs",
    "tfjs-f16",
    "tfjs-u8",
    "coreml",
    "coreml-fp32",
    "tflite",
    "tflite-f16",
    "tflite-dr8",
    "tflite-int8",
]
DEFAULT_TARGETS += ["coreml-nn", "coreml-nn-f16"]  # Core ML NeuralNetwork (.mlmodel), iOS 13-14 apps


class Exporter:
    """Writes one target's artifact from a bundle (and the artifacts it requires)."""

    target: str = ""
    version: int = 2  # bump when the exporter's output changes for the same inputs
    requires: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()  # distributions whose versions key the cache

    def tool_versions(self) -> dict[str, str]:
        return {p: dist_version(p) for p in self.packages}

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, ArtifactFolder]) -> dict[str, Any]:
        """Write the artifact's files into `out`; return facts for the manifest."""
        raise NotImplementedError


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


_REFUSED: dict[Path, HarnessError] = {}  # artifact folder -> why its exporter refused, this process


def export(bundle: Bundle, target: str, force: bool = False, *, fresh: bool = False) -> ArtifactFolder:
    """The artifact for `target`: the file the team ships when the bundle adopted one
    (core/shipped.py; never rebuilt), else from cache when its key matches, else built now.
    `fresh` ignores an adopted file and exports (`harness report --compare-export`).

    A converter that refused the model is not asked again in the same process (the report asks
    for the same target several times: scores, sizes, the web app); `force` asks again."""
    if not fresh:
        adopted = shipped.load(bundle, target)
        if adopted is not None:
            return adopted
    exp = exporter(target)
    folder = artifact_dir(bundle, exp)
    if folder in _REFUSED and not force:
        raise _REFUSED[folder]
    try:
        return _export(bundle, exp, folder, force=force)
    except HarnessError as e:
        if not isinstance(e, IntegrityError):
            _REFUSED[folder] = e
        raise


def _export(bundle: Bundle, exp: Exporter, folder: Path, *, force: bool) -> ArtifactFolder:
    target = exp.target
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
                **facts,  # first: the exporter's facts never shadow the keys below
                "format": "harness-artifact/1",
                "target": target,
                "bundle_hash": bundle.hash,
                "cache_key": folder.name,
                "tool_versions": exp.tool_versions(),
                "export_seconds": round(time.perf_counter() - started, 3),
                "artifact_hash": hash_of_entries(files),
                "files": files,
            }
            atomic.write_json(stage / ARTIFACT_MANIFEST, manifest)
    art = ArtifactFolder(target, folder, manifest)
    art.manifest["cached"] = False
    return art

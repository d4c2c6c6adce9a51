"""Shipped artifacts: the files a team's own build produced, adopted into a bundle.

`harness bundle --artifact TARGET=PATH` copies the file a team ships (a TF.js model.json and its
weight shards, an .mlmodel or .mlpackage, a .tflite, any later format) into the bundle under
`shipped/<target>/` and records in shipped.json where it came from and which converter and
version the file itself says made it. The bundle manifest hashes every copied file, so a changed
byte is refused when the bundle loads, before anything runs. The adopted file stands in for the
target's export everywhere (harness.export asks here first): it is never rebuilt, because the
point is to test the bytes that ship, not bytes the harness would have made.

The artifact a runtime receives is assembled from the bundle's own manifest entries (sha256 and
bytes), so `ArtifactFolder.verify` checks the copy against the hashes recorded at adoption.
"""

from __future__ import annotations

import gzip
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from harness.core import validate
from harness.core.artifact import ArtifactFolder
from harness.core.bundle import SHIPPED, SHIPPED_DIR, Bundle, verify_files
from harness.core.errors import IntegrityError
from harness.core.hashing import hash_of_entries
from harness.core.manifests import ARTIFACT_FORMAT

SHIPPED_FORMAT = "harness-shipped/1"
ORIGIN_SHIPPED = "shipped"
ORIGIN_EXPORTED = "exported"
ADOPT_HINT = "adopt the file again with `harness bundle ... --artifact TARGET=PATH`"


class ShippedRecord(BaseModel):
    """One adopted artifact: its entry point, where it came from, what the file records."""

    model_config = ConfigDict(extra="forbid")

    main: str  # the entry point inside shipped/<target>/ (model.json, model.tflite, X.mlpackage)
    source: str  # the path it was adopted from (for the reader; never read again)
    model_format: str  # tfjs graph-model / layers-model, tflite, coreml neuralNetwork / mlProgram, file
    recorded_by: dict[str, str]  # converter and version as the file itself records them
    facts: dict[str, Any] = {}  # what the runtimes read from an exporter's manifest (static_batch, ...)


class ShippedFile(BaseModel):
    """shipped.json: target -> ShippedRecord."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["harness-shipped/1"]
    artifacts: dict[str, ShippedRecord]


class ShippedArtifact(ArtifactFolder):
    """An adopted artifact: an edited copy is refused with how to adopt it again (not rebuilt)."""

    def verify(self) -> None:
        try:
            verify_files(self.path, self.files, f"shipped {self.target} artifact")
        except IntegrityError as e:
            raise IntegrityError(f"{e}; {ADOPT_HINT}") from None


def records(bundle: Bundle) -> dict[str, ShippedRecord]:
    """Every adopted artifact of the bundle by target ({} when it adopted none)."""
    if SHIPPED not in bundle.manifest.get("files", {}):
        return {}
    return validate.load(ShippedFile, bundle.path / SHIPPED, "shipped artifacts record", hint=ADOPT_HINT).artifacts


def targets(bundle: Bundle) -> list[str]:
    return sorted(records(bundle))


def load(bundle: Bundle, target: str) -> ArtifactFolder | None:
    """The bundle's adopted artifact for `target`, verified against the bundle manifest, or None."""
    record = records(bundle).get(target)
    if record is None:
        return None
    prefix = f"{SHIPPED_DIR}/{target}/"
    listed = {n[len(prefix) :]: e for n, e in bundle.manifest["files"].items() if n.startswith(prefix)}
    folder = bundle.path / SHIPPED_DIR / target
    if record.main not in listed and not any(n.startswith(record.main + "/") for n in listed):
        raise IntegrityError(f"{bundle.path / SHIPPED}: {target}: main {record.main!r} is not in the bundle manifest")
    files = {n: {"sha256": e["sha256"], "bytes": e["bytes"]} for n, e in listed.items()}
    art = ShippedArtifact(target, folder, {"files": files})
    art.verify()  # before the gzip sizes read the files
    for name, entry in files.items():
        entry["gzip_bytes"] = len(gzip.compress((folder / name).read_bytes(), compresslevel=9, mtime=0))
    artifact_hash = hash_of_entries(files)
    art.manifest = {
        **record.facts,
        "format": ARTIFACT_FORMAT,
        "target": target,
        "bundle_hash": bundle.hash,
        "cache_key": f"shipped-{artifact_hash[:16]}",
        "tool_versions": {},
        "export_seconds": 0.0,
        "artifact_hash": artifact_hash,
        "files": files,
        "main": record.main,
        "model_format": record.model_format,
        "artifact_origin": ORIGIN_SHIPPED,
        "recorded_by": dict(record.recorded_by),
        "shipped_from": record.source,
        "cached": True,
    }
    return art


def origin(manifest: dict[str, Any]) -> str:
    """ "shipped" for an adopted artifact, "exported" for one the harness built."""
    return str(manifest.get("artifact_origin", ORIGIN_EXPORTED))

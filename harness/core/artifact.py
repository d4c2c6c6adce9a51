"""Export artifacts: a folder of files plus `artifact.json` (files with bytes, gzip bytes and
sha256, the tool versions that made it, the exporter's facts). Runtimes receive only verified
artifacts: a missing, truncated or edited file is refused by name before anything runs it."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core import validate
from harness.core.bundle import verify_files
from harness.core.contained_paths import inside
from harness.core.errors import HarnessError, IntegrityError
from harness.core.hashing import hash_of_entries
from harness.core.manifests import ArtifactManifest

ARTIFACT_MANIFEST = "artifact.json"


@dataclass
class ArtifactFolder:
    """An artifact on disk (an export or an adopted shipped file) and its manifest; what a report
    records of it is a `harness.results.Artifact`."""

    target: str
    path: Path
    manifest: dict[str, Any]

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return self.manifest["files"]

    def verify(self) -> None:
        try:
            verify_files(self.path, self.files, f"{self.target} artifact")
        except IntegrityError as e:  # the export cache is regenerable: say how
            raise IntegrityError(f"{e}; {rebuild_hint(self.target)}") from None

    def total(self, key: str = "bytes", names: list[str] | None = None) -> int:
        return sum(e[key] for n, e in self.files.items() if names is None or n in names)

    def main_file(self, default: str) -> Path:
        """The artifact's entry point (the manifest's `main`, e.g. the .mlpackage)."""
        return inside(self.path, str(self.manifest.get("main", default)), f"{self.target} artifact")


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


def rebuild_hint(target: str) -> str:
    return f"rebuild it with `harness export --targets {target} --force`"


def load_artifact(folder: Path, target: str) -> ArtifactFolder | None:
    """The cached artifact in `folder` (None if there is none), its manifest checked field by
    field and every file it lists verified; the export cache is regenerable, so every refusal
    says how to rebuild it."""
    path = folder / ARTIFACT_MANIFEST
    if not path.is_file():
        return None
    hint = rebuild_hint(target)
    data = validate.read_json(path, "artifact manifest", hint)
    manifest = validate.parse(ArtifactManifest, data, path, hint=hint)
    if manifest.target != target:
        raise HarnessError(f"{path}: $.target: expected {target!r}, got {manifest.target!r}; {hint}")
    art = ArtifactFolder(target, folder, data)
    art.verify()
    if hash_of_entries(art.files) != manifest.artifact_hash:  # recomputed: the list itself may be edited
        raise IntegrityError(f"{path}: artifact_hash does not match its file list (edited manifest); {hint}")
    return art

"""The manifests that bind files to hashes: a bundle's manifest.json and an export's artifact.json.

Both list every file with its sha256 and size; the hash of that list is the bundle hash or
the artifact hash that everything downstream (exports, golden files, reports, sign-off
evidence) is keyed by. They are pydantic models so a manifest with `files` as a list, an
entry without `sha256` or a hash that is not hex is refused in one line naming the field,
before any file it lists is trusted (harness.core.validate).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from harness.core.contained_paths import check_plain

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,128}$")]
PlainName = Annotated[str, AfterValidator(check_plain)]  # a relative path inside the folder, no '..'
BUNDLE_FORMAT = "harness-bundle/1"
ARTIFACT_FORMAT = "harness-artifact/1"


class FileEntry(BaseModel):
    """One listed file: what its bytes must hash to."""

    model_config = ConfigDict(extra="forbid")

    sha256: Sha256
    bytes: int = Field(ge=0)


class BundleManifest(BaseModel):
    """manifest.json of a reference bundle."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["harness-bundle/1"]
    bundle_hash: Sha256
    files: dict[PlainName, FileEntry]


class ArtifactFile(FileEntry):
    gzip_bytes: int = Field(ge=0)


class ArtifactManifest(BaseModel):
    """artifact.json of an export. The exporter's own facts (model format, weights, inputs,
    outputs, recurrent paths, main file) sit beside these keys and are kept as they are."""

    model_config = ConfigDict(extra="allow")

    format: Literal["harness-artifact/1"]
    target: str
    bundle_hash: Sha256
    cache_key: str
    tool_versions: dict[str, str]
    export_seconds: float = Field(ge=0)
    artifact_hash: Sha256
    files: dict[PlainName, ArtifactFile] = Field(min_length=1)

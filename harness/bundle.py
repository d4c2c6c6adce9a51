"""Reference bundle: the model under test and everything needed to feed it, hash-bound.

A bundle folder holds model.keras, tokenizer.json, metrics.json and manifest.json. The
manifest lists sha256 and bytes of every other file; the bundle hash is the sha256 of that
list, so everything downstream (exports, golden files, reports) is keyed by it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import atomic, corpus
from harness.corpus import file_sha256
from harness.errors import HarnessError
from harness.paths import REFERENCE_BUNDLE
from harness.tokenizer import Tokenizer, TokenizerSpecError

MANIFEST = "manifest.json"
MODEL = "model.keras"
TOKENIZER = "tokenizer.json"
METRICS = "metrics.json"
SIGNATURE = "signature.json"
BUNDLE_FORMAT = "harness-bundle/1"


def file_entries(folder: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    return {n: {"sha256": file_sha256(folder / n), "bytes": (folder / n).stat().st_size} for n in sorted(names)}


def hash_of_entries(entries: dict[str, dict[str, Any]]) -> str:
    canonical = json.dumps({n: e["sha256"] for n, e in sorted(entries.items())}, sort_keys=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def write_manifest(folder: Path) -> str:
    """(Re)write manifest.json for every file in `folder`; returns the bundle hash."""
    names = [p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")]
    entries = file_entries(folder, names)
    bundle_hash = hash_of_entries(entries)
    atomic.write_json(folder / MANIFEST, {"format": BUNDLE_FORMAT, "bundle_hash": bundle_hash, "files": entries})
    return bundle_hash


def verify_files(folder: Path, entries: dict[str, dict[str, Any]], what: str) -> None:
    """Refuse a missing, truncated or edited file by name, before anything runs it."""
    for name, entry in entries.items():
        path = folder / name
        if not path.is_file():
            raise HarnessError(f"{path}: missing from the {what} (listed in its manifest)")
        size = path.stat().st_size
        if size != entry["bytes"]:
            raise HarnessError(f"{path}: {size} bytes, manifest says {entry['bytes']} (truncated or edited {what})")
        if file_sha256(path) != entry["sha256"]:
            raise HarnessError(f"{path}: sha256 does not match the manifest (edited {what})")


@dataclass(frozen=True)
class Signature:
    """The model's contract: int32 [N, length] ids in, positive-class probability out."""

    length: int
    vocab_size: int
    output_kind: str  # "sigmoid" ([N, 1]) or "softmax" ([N, C])
    classes: int
    positive_index: int


@dataclass
class Bundle:
    path: Path
    manifest: dict[str, Any]
    _tokenizer: Tokenizer | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def hash(self) -> str:
        return str(self.manifest["bundle_hash"])

    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    @property
    def tokenizer_path(self) -> Path:
        return self.path / TOKENIZER

    def tokenizer(self) -> Tokenizer:
        """Parsed once per bundle: the spec is 150 KB and the pattern compiles each time."""
        if self._tokenizer is None:
            try:
                self._tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
            except (TokenizerSpecError, KeyError, ValueError) as e:
                raise HarnessError(f"{self.tokenizer_path}: not a usable tokenizer spec ({e})") from None
        return self._tokenizer

    def signature(self) -> Signature:
        path = self.path / SIGNATURE
        try:
            sig = json.loads(path.read_text(encoding="utf-8"))
            shape, out = sig["input"]["shape"], sig["output"]
            return Signature(
                int(shape[1]),
                int(sig["input"]["vocab_size"]),
                out["kind"],
                int(out["classes"]),
                int(out["positive_index"]),
            )
        except (OSError, json.JSONDecodeError, KeyError, TypeError, IndexError, ValueError) as e:
            raise HarnessError(f"{path}: not a usable model signature ({e})") from None

    def metrics(self) -> dict[str, Any]:
        path = self.path / METRICS
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def check_replaceable(out: Path) -> None:
    """`train`/`bundle --out` replace a bundle folder whole; never a folder that is not one."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise HarnessError(f"{out}: exists and is not a bundle folder; refusing to replace it (choose another --out)")


def load(folder: str | Path | None = None, verify: bool = True) -> Bundle:
    folder = Path(folder) if folder else REFERENCE_BUNDLE
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise HarnessError(
            f"{manifest_path}: no bundle manifest (expected a folder made by `harness train` or `harness bundle`)"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = manifest["files"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise HarnessError(
            f"{manifest_path}: not a bundle manifest (expected JSON with 'files' and 'bundle_hash')"
        ) from None
    if verify:
        verify_files(folder, entries, "bundle")
        if hash_of_entries(entries) != manifest.get("bundle_hash"):
            raise HarnessError(f"{manifest_path}: bundle_hash does not match its file list (edited manifest)")
    for required in (MODEL, TOKENIZER, SIGNATURE):
        if required not in entries:
            raise HarnessError(f"{manifest_path}: bundle has no {required}")
    return Bundle(folder, manifest)


def held_out(b: Bundle) -> list[corpus.Review]:
    """The test split of the corpus the bundle was trained on (the built-in one by default)."""
    name = b.metrics().get("corpus", {}).get("name", corpus.BUILTIN)
    try:
        reviews = corpus.load(name)
    except HarnessError as e:
        raise HarnessError(f"cannot load the bundle's corpus {name!r} for the held-out split: {e}") from None
    test = corpus.by_split(reviews)["test"]
    if not test:
        raise HarnessError(f"corpus {name!r} has no reviews in the test split")
    return test

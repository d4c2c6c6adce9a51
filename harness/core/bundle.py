"""Reference bundle: the model under test and everything needed to feed it, hash-bound.

A bundle folder holds model.keras, tokenizer.json, metrics.json and manifest.json (and,
when the team's app has its own tokenizer, app_tokenizer.json naming it). The manifest
lists sha256 and bytes of every other file; the bundle hash is the sha256 of that list, so
everything downstream (exports, golden files, reports) is keyed by it. tokenizer.json's
"format" says which kind of preprocessing it is (harness/core/tokenizer_kinds.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import atomic, tokenizer_kinds
from harness.core.app_tokenizer import APP_TOKENIZER, AppTokenizer
from harness.core.errors import HarnessError, IntegrityError
from harness.core.hashing import file_sha256, hash_of_entries
from harness.core.paths import REFERENCE_BUNDLE
from harness.core.tokenizer import Tokenizer, TokenizerSpecError
from harness.core.tokenizer_kinds import TokenizerInfo

MANIFEST = "manifest.json"
MODEL = "model.keras"
TOKENIZER = "tokenizer.json"
METRICS = "metrics.json"
SIGNATURE = "signature.json"
BUNDLE_FORMAT = "harness-bundle/1"


def file_entries(folder: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    return {n: {"sha256": file_sha256(folder / n), "bytes": (folder / n).stat().st_size} for n in sorted(names)}


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
            raise IntegrityError(f"{path}: missing from the {what} (listed in its manifest)")
        size = path.stat().st_size
        if size != entry["bytes"]:
            raise IntegrityError(f"{path}: {size} bytes, manifest says {entry['bytes']} (truncated or edited {what})")
        if file_sha256(path) != entry["sha256"]:
            raise IntegrityError(f"{path}: sha256 does not match the manifest (edited {what})")


@dataclass(frozen=True)
class Signature:
    """The model's contract: int32 [N, length] ids in, positive-class probability out."""

    length: int
    vocab_size: int
    output_kind: str  # "sigmoid" ([N, 1]) or "softmax" ([N, C])
    classes: int
    positive_index: int


def positive_scores(out: np.ndarray, positive_index: int | None = None) -> np.ndarray:
    """Probability of the positive class per row, from a sigmoid [N, 1] or softmax [N, C] output."""
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == 1:
        return out
    if positive_index is None:
        positive_index = 0 if out.shape[1] == 1 else 1
    return out[:, positive_index]


@dataclass
class Bundle:
    path: Path
    manifest: dict[str, Any]
    _tokenizer: Tokenizer | None = field(default=None, init=False, repr=False, compare=False)
    _spec: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def hash(self) -> str:
        return str(self.manifest["bundle_hash"])

    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    @property
    def tokenizer_path(self) -> Path:
        return self.path / TOKENIZER

    def tokenizer_spec(self) -> dict[str, Any]:
        """tokenizer.json as data, read once."""
        if self._spec is None:
            try:
                spec = json.loads(self.tokenizer_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
                raise HarnessError(f"{self.tokenizer_path}: not a readable tokenizer spec ({e})") from None
            if not isinstance(spec, dict):
                raise HarnessError(f"{self.tokenizer_path}: expected a JSON object")
            self._spec = spec
        return self._spec

    def tokenizer_info(self) -> TokenizerInfo:
        """Kind, length, id range and pad id of any kind of tokenizer, without a framework."""
        try:
            return tokenizer_kinds.info(self.tokenizer_spec())
        except tokenizer_kinds.KindError as e:
            raise HarnessError(f"{self.tokenizer_path}: {e}") from None

    @property
    def tokenizer_kind(self) -> str:
        return self.tokenizer_info().kind

    def app_tokenizer(self) -> AppTokenizer | None:
        """The app's own tokenizer module when the bundle names one (app_tokenizer.json)."""
        if APP_TOKENIZER not in self.manifest.get("files", {}):
            return None
        path = self.path / APP_TOKENIZER
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise HarnessError(f"{path}: not readable ({e})") from None
        return AppTokenizer.from_json(data, path)

    def tokenizer(self) -> Tokenizer:
        """The harness's own tokenizer, parsed once per bundle: the spec is 150 KB and the
        pattern compiles each time. Other kinds run through runtimes.tokenizers."""
        if self._tokenizer is None:
            kind = self.tokenizer_kind
            if kind != tokenizer_kinds.HARNESS:
                raise HarnessError(
                    f"{self.tokenizer_path}: a {kind} tokenizer; this step reads only the harness's own "
                    f"({tokenizer_kinds.format_of(tokenizer_kinds.HARNESS)})"
                )
            try:
                self._tokenizer = Tokenizer(self.tokenizer_spec())
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


def tokenizer_only(folder: Path) -> Bundle:
    """A bundle of preprocessing only (tokenizer.json, maybe app_tokenizer.json), for the
    tokenizer runtimes: `harness tokenize --tokenizer FILE` without a model."""
    names = [n for n in (TOKENIZER, APP_TOKENIZER) if (folder / n).is_file()]
    entries = file_entries(folder, names)
    return Bundle(folder, {"format": BUNDLE_FORMAT, "bundle_hash": hash_of_entries(entries), "files": entries})


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
            raise IntegrityError(f"{manifest_path}: bundle_hash does not match its file list (edited manifest)")
    for required in (MODEL, TOKENIZER, SIGNATURE):
        if required not in entries:
            raise HarnessError(f"{manifest_path}: bundle has no {required}")
    return Bundle(folder, manifest)

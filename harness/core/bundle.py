"""Reference bundle: the model under test and everything needed to feed it, hash-bound.

A bundle folder holds model.keras, tokenizer.json, metrics.json and manifest.json (and,
when the team's app has its own tokenizer, app_tokenizer.json naming it). The manifest
lists sha256 and bytes of every other file; the bundle hash is the sha256 of that list, so
everything downstream (exports, golden files, reports) is keyed by it. tokenizer.json's
"format" says which kind of preprocessing it is (harness/core/tokenizer/kinds.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import atomic, keras_file, model_archive, validate
from harness.core.bundle_files import ModelSignature, TokenizerSpecShape, TrainingMetrics
from harness.core.contained_paths import inside
from harness.core.errors import HarnessError, IntegrityError
from harness.core.hashing import file_sha256, hash_of_entries
from harness.core.manifests import BUNDLE_FORMAT, BundleManifest
from harness.core.paths import REFERENCE_BUNDLE
from harness.core.tokenizer import kinds as tokenizer_kinds
from harness.core.tokenizer.app_tokenizer import APP_TOKENIZER, AppTokenizer
from harness.core.tokenizer.kinds import TokenizerInfo
from harness.core.tokenizer.reference import Tokenizer, TokenizerSpecError

MANIFEST = "manifest.json"
MODEL = "model.keras"
TOKENIZER = "tokenizer.json"
METRICS = "metrics.json"
SIGNATURE = "signature.json"
GOLDEN_FILE = "expected.jsonl"  # a non-reference bundle's own golden file (harness golden update --bundle)
SHIPPED_DIR = "shipped"  # artifacts a team ships, adopted with `harness bundle --artifact` (core/shipped.py)
SHIPPED = "shipped.json"  # where each adopted artifact came from and what its file records
MODEL_H5 = "model.h5"  # a Keras 2 (tf_keras) model kept in its own HDF5 format
MAKE_HINT = "bundles are made by `harness train` or `harness bundle`"
__all__ = ["BUNDLE_FORMAT", "Bundle", "ModelContract", "load", "positive_scores", "write_manifest"]


def file_entries(folder: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    return {n: {"sha256": file_sha256(folder / n), "bytes": (folder / n).stat().st_size} for n in sorted(names)}


def write_manifest(folder: Path) -> str:
    """(Re)write manifest.json for every file in `folder`; returns the bundle hash."""
    names = [p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")]
    names += [  # adopted artifacts are folders (a TF.js model, an .mlpackage): every file in them is listed
        p.relative_to(folder).as_posix()
        for p in (folder / SHIPPED_DIR).rglob("*")
        if p.is_file() and not p.name.startswith(".")
    ]
    entries = file_entries(folder, names)
    bundle_hash = hash_of_entries(entries)
    atomic.write_json(folder / MANIFEST, {"format": BUNDLE_FORMAT, "bundle_hash": bundle_hash, "files": entries})
    return bundle_hash


def verify_files(folder: Path, entries: dict[str, dict[str, Any]], what: str) -> None:
    """Refuse a missing, truncated or edited file by name, before anything runs it."""
    for name, entry in entries.items():
        path = inside(folder, name, what)  # never a file outside the folder, not even stat'ed
        if not path.is_file():
            raise IntegrityError(f"{path}: missing from the {what} (listed in its manifest)")
        size = path.stat().st_size
        if size != entry["bytes"]:
            raise IntegrityError(f"{path}: {size} bytes, manifest says {entry['bytes']} (truncated or edited {what})")
        if file_sha256(path) != entry["sha256"]:
            raise IntegrityError(f"{path}: sha256 does not match the manifest (edited {what})")


@dataclass(frozen=True)
class ModelContract:
    """The model's contract: int32 [N, length] ids in, positive-class probability out."""

    length: int
    vocab_size: int
    output_kind: str  # "sigmoid" ([N, 1]) or "softmax" ([N, C])
    classes: int
    positive_index: int
    embedding_rows: int | None = None  # more Embedding rows than the tokenizer addresses (never used)
    wrapped: str | None = None  # the activation `harness bundle` added to a model that ended in logits


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
        """model.keras, or model.h5 for a Keras 2 model kept as its team saved it."""
        return self.path / (MODEL_H5 if MODEL_H5 in self.manifest.get("files", {}) else MODEL)

    @property
    def model_framework(self) -> str:
        """ "keras" (Keras 3) or "tf_keras" (Keras 2): the Keras that runs the model (core/keras_file.py)."""
        return keras_file.framework(self.model_path)

    @property
    def tokenizer_path(self) -> Path:
        return self.path / TOKENIZER

    def tokenizer_spec(self) -> dict[str, Any]:
        """tokenizer.json as data, read once (one line naming the file if it is not JSON)."""
        if self._spec is None:
            spec = validate.read_json(self.tokenizer_path, "tokenizer spec", MAKE_HINT)
            if not isinstance(spec, dict):
                raise HarnessError(
                    f"{self.tokenizer_path}: $: expected an object, got {validate.json_type_with_article(spec)}"
                )
            self._spec = spec
        return self._spec

    def tokenizer_info(self) -> TokenizerInfo:
        """Kind, length, id range and pad id of any kind of tokenizer, without a framework."""
        spec = self.tokenizer_spec()
        if isinstance(spec, dict) and spec.get("format") == tokenizer_kinds.format_of(tokenizer_kinds.HARNESS):
            validate.parse(TokenizerSpecShape, spec, self.tokenizer_path)  # a bad field named, not a KeyError
        try:
            return tokenizer_kinds.info(spec)
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
        return AppTokenizer.from_json(validate.read_json(path, "app tokenizer record"), path)

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
            spec = self.tokenizer_spec()
            validate.parse(TokenizerSpecShape, spec, self.tokenizer_path)
            try:
                self._tokenizer = Tokenizer(spec)
            except (TokenizerSpecError, KeyError, ValueError, TypeError) as e:
                raise HarnessError(
                    f"{self.tokenizer_path}: not a usable tokenizer spec ({validate.one_line(str(e))})"
                ) from None
        return self._tokenizer

    def signature(self) -> ModelContract:
        sig = validate.load(ModelSignature, self.path / SIGNATURE, "model signature", hint=MAKE_HINT)
        return ModelContract(
            sig.input.shape[1],
            sig.input.vocab_size,
            sig.output.kind,
            sig.output.classes,
            sig.output.positive_index,
            sig.input.embedding_rows,
            sig.output.wrapped,
        )

    def metrics(self) -> dict[str, Any]:
        """metrics.json as data (checked: splits with accuracy and n); {} when the bundle has none."""
        path = self.path / METRICS
        if not path.is_file():
            return {}
        data = validate.read_json(path, "training record")
        validate.parse(TrainingMetrics, data, path)
        return dict(data)


def tokenizer_only(folder: Path) -> Bundle:
    """A bundle of preprocessing only (tokenizer.json, maybe app_tokenizer.json), for the
    tokenizer runtimes: `harness tokenize --tokenizer FILE` without a model."""
    names = [n for n in (TOKENIZER, APP_TOKENIZER) if (folder / n).is_file()]
    entries = file_entries(folder, names)
    return Bundle(folder, {"format": BUNDLE_FORMAT, "bundle_hash": hash_of_entries(entries), "files": entries})


def check_replaceable(out: Path) -> None:
    """`train`/`bundle --out` replace a bundle folder whole; never a folder that is not one,
    nor a bundle folder holding anything the bundle does not own (a user's file inside it)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise HarnessError(f"{out}: exists and is not a folder; refusing to replace it (choose another --out)")
    names = {p.name for p in out.iterdir()}
    if not names:
        return
    if MANIFEST not in names:
        raise HarnessError(f"{out}: exists and is not a bundle folder; refusing to replace it (choose another --out)")
    try:
        listed = set(read_manifest(out).files)
    except HarnessError:
        listed = set()
    owned = {MANIFEST, MODEL, MODEL_H5, TOKENIZER, METRICS, SIGNATURE, GOLDEN_FILE, SHIPPED, SHIPPED_DIR}
    foreign = sorted(names - listed - owned)
    if foreign:
        raise HarnessError(
            f"{out}: holds {', '.join(foreign[:3])}, which is not part of the bundle; refusing to replace the "
            "folder (move it away, or choose another --out)"
        )


def read_manifest(folder: Path) -> BundleManifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise HarnessError(f"{path}: no bundle manifest ({MAKE_HINT})")
    return validate.load(BundleManifest, path, "bundle manifest", hint=MAKE_HINT)


def load(folder: str | Path | None = None, verify: bool = True) -> Bundle:
    """The bundle in `folder`, every file checked before anything uses it: the manifest's shape,
    each listed file's bytes and sha256, the bundle hash, then the signature, tokenizer spec
    and metrics, and that the signature and the tokenizer describe the same ids."""
    folder = Path(folder) if folder else REFERENCE_BUNDLE
    manifest = read_manifest(folder)
    entries = manifest.model_dump(mode="json")["files"]
    if verify:
        verify_files(folder, entries, "bundle")
        if hash_of_entries(entries) != manifest.bundle_hash:
            raise IntegrityError(f"{folder / MANIFEST}: bundle_hash does not match its file list (edited manifest)")
    for required in (MODEL if MODEL_H5 not in entries else MODEL_H5, TOKENIZER, SIGNATURE):
        if required not in entries:
            raise HarnessError(f"{folder / MANIFEST}: bundle has no {required}")
    b = Bundle(folder, manifest.model_dump(mode="json"))
    if b.model_path.name == MODEL:  # a .keras is a zip: its size is checked before Keras unpacks it
        model_archive.check_archive(b.model_path)
    sig, tok = b.signature(), b.tokenizer_info()
    if tok.kind == tokenizer_kinds.HARNESS:
        b.tokenizer()  # the harness's own spec, checked field by field
    b.app_tokenizer()
    b.metrics()
    if (sig.vocab_size, sig.length) != (tok.vocab_size, tok.length):
        raise HarnessError(
            f"{folder / SIGNATURE}: input vocab_size {sig.vocab_size} and length {sig.length} do not match "
            f"{TOKENIZER} ({tok.vocab_size} ids, length {tok.length})"
        )
    if sig.embedding_rows is not None and sig.embedding_rows < sig.vocab_size:
        raise HarnessError(
            f"{folder / SIGNATURE}: embedding_rows {sig.embedding_rows} is fewer than the tokenizer's "
            f"{sig.vocab_size} ids (an id past the last row has no defined result in some runtimes)"
        )
    return b

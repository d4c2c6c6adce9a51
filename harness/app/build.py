"""`harness app build`: apps/web built against the bundle's current export, idempotently.

`build` runs `npm ci` in apps/web when its lock file changed, `vite build` into a staging folder,
copies the configured TF.js variant of the bundle's export plus the compact tokenizer into
dist/model/, writes dist/build.json (every file with bytes, gzip bytes and sha256, grouped as
app code / wasm / model, and the fingerprint of the build's inputs) and swaps the folder in
whole. When the fingerprint and the files on disk match, it returns at once (no npm, no vite).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from harness import export
from harness.app import first_visit
from harness.app.config import runtime_id, tfjs_variants, variant
from harness.core import atomic, compact_tokenizer, config, json_reader
from harness.core.artifact import describe_files
from harness.core.bundle import TOKENIZER, Bundle
from harness.core.bundle import load as load_bundle
from harness.core.contained_paths import why_not_plain
from harness.core.errors import HarnessError
from harness.core.paths import REPO, cache_dir

APP = REPO / "apps" / "web"
DIST = APP / "dist"
BUILD_JSON = "build.json"
MODEL_DIR = "model"
INFO_JSON = "info.json"
BUILD_FORMAT = "harness-webapp-build/3"  # 2: preload links, first_kernels, first_visit_code; 3: tokenizer.txt
# The files whose content decides the build (besides the export and the bundle's tokenizer).
SOURCES = ("package.json", "package-lock.json", "vite.config.js", "first_kernels.js", "index.html", "src")
NPM_STAMP = ".harness-npm-stamp"
# The wasm binary a cross-origin-isolated Chromium fetches (threads + SIMD); the others are fallbacks.
DEFAULT_WASM = "wasm/tfjs-backend-wasm-threaded-simd.wasm"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _source_files() -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        path = APP / name
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise HarnessError(f"{path}: missing from the web app")
    return files


def fingerprint(bundle: Bundle, artifact: Any, target: str) -> str:
    """sha256 over everything the build depends on: app sources, lock file, export, tokenizer."""
    h = hashlib.sha256()
    for path in _source_files():
        h.update(path.relative_to(APP).as_posix().encode() + b"\0" + _sha256(path.read_bytes()).encode() + b"\n")
    facts = {
        "format": BUILD_FORMAT,
        "variant": target,
        "artifact": artifact.manifest.get("artifact_hash"),
        "tokenizer": bundle.manifest["files"].get(TOKENIZER, {}).get("sha256"),
        "signature": bundle.signature().__dict__,
        "threshold": config.threshold(),
    }
    h.update(json.dumps(facts, sort_keys=True).encode())
    return h.hexdigest()


_ERROR_LINE = re.compile(r"\s*(\w*Error|error during build)\b")


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> None:
    if shutil.which(cmd[0]) is None:
        raise HarnessError(f"{cmd[0]} not found: install Node 20.19+ with npm to build the web app ({what})")
    proc = subprocess.run(
        cmd, cwd=APP, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1", **(env or {})}
    )
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        # The error's own line (e.g. an op the app's graph executor lacks, naming the model.json)
        # comes before a long stack: keep it, then the tail.
        errors = [line for line in lines[:-15] if _ERROR_LINE.match(line)][:3]
        tail = "\n".join([*errors, *(["..."] if errors else []), *lines[-15:]])
        raise HarnessError(f"{what} failed in {APP} (exit {proc.returncode}):\n{tail}")


def ensure_node_modules() -> bool:
    """`npm ci` when apps/web/node_modules does not match package-lock.json; True if it ran."""
    lock = APP / "package-lock.json"
    stamp = APP / "node_modules" / NPM_STAMP
    wanted = _sha256((APP / "package.json").read_bytes() + b"\0" + lock.read_bytes())
    if stamp.is_file() and stamp.read_text().strip() == wanted and (APP / "node_modules" / ".bin" / "vite").exists():
        return False
    _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci")
    atomic.write_text(stamp, wanted + "\n")
    return True


def _gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def _group(name: str) -> str:
    if name.startswith(f"{MODEL_DIR}/"):
        return "model"
    if name.startswith("wasm/"):
        return "wasm"
    return "app"


def describe(dist: Path) -> dict[str, dict[str, Any]]:
    """Every file of `dist` but build.json: its group, bytes, gzip bytes and sha256."""
    return {
        name: {"group": _group(name), **entry} for name, entry in describe_files(dist).items() if name != BUILD_JSON
    }


def download_sizes(files: dict[str, dict[str, Any]]) -> dict[str, int]:
    """What a first visit downloads: app code, model + tokenizer files, and the wasm binary it uses."""

    def total(key: str, group: str) -> int:
        return sum(e[key] for e in files.values() if e["group"] == group)

    wasm = files.get(DEFAULT_WASM, {"bytes": 0, "gzip_bytes": 0})
    out = {}
    for key in ("bytes", "gzip_bytes"):
        out[f"app_{key}"] = total(key, "app")
        out[f"model_{key}"] = total(key, "model")
        out[f"wasm_{key}"] = int(wasm[key])
        out[f"total_{key}"] = out[f"app_{key}"] + out[f"model_{key}"] + out[f"wasm_{key}"]
    return out


def _dist_matches(dist: Path, record: dict[str, Any]) -> bool:
    for name, entry in record.get("files", {}).items():
        if why_not_plain(str(name)) or not (dist / name).resolve().is_relative_to(dist.resolve()):
            return False  # a record naming a file outside dist/ is no record of this build
        path = dist / name
        if not path.is_file() or path.stat().st_size != entry["bytes"]:
            return False
        if _sha256(path.read_bytes()) != entry["sha256"]:
            return False
    return bool(record.get("files"))


def read_build(dist: Path = DIST) -> dict[str, Any] | None:
    path = dist / BUILD_JSON
    try:
        record = json_reader.read_file(path, "build record")
    except HarnessError:
        return None
    return record if isinstance(record, dict) and record.get("format") == BUILD_FORMAT else None


def _copy_model(bundle: Bundle, artifact: Any, target: str, *, out: Path) -> None:
    model = out / MODEL_DIR
    model.mkdir(parents=True, exist_ok=True)
    artifact.verify()
    for name in artifact.files:
        shutil.copyfile(artifact.path / name, model / name)
    compact_tokenizer.write_compact(bundle.tokenizer_path, model / compact_tokenizer.COMPACT)
    compact = (model / compact_tokenizer.COMPACT).read_bytes()
    shipped = {n: artifact.files[n] for n in artifact.files} | {
        compact_tokenizer.COMPACT: {"bytes": len(compact), "gzip_bytes": _gzip_size(compact)}
    }
    sig = bundle.signature()
    atomic.write_json(
        model / INFO_JSON,
        {
            "variant": target,
            "weights": artifact.manifest.get("weights", target),
            "bundle_hash": bundle.hash,
            "artifact_hash": artifact.manifest.get("artifact_hash"),
            "signature": {
                "length": sig.length,
                "vocab_size": sig.vocab_size,
                "kind": sig.output_kind,
                "classes": sig.classes,
                "positive_index": sig.positive_index,
            },
            "threshold": config.threshold(),
            "bytes": sum(int(e["bytes"]) for e in shipped.values()),
            "gzip_bytes": sum(int(e["gzip_bytes"]) for e in shipped.values()),
        },
    )


def build(bundle: Bundle | str | Path | None = None, target: str | None = None, force: bool = False) -> dict[str, Any]:
    """Build apps/web into apps/web/dist against the bundle's export; returns build.json's content.

    Idempotent: when nothing it depends on changed (and dist/ is intact) it returns the
    recorded build without running npm or vite (`"cached": true`).
    """
    started = time.perf_counter()
    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    target = target or variant()
    if target not in tfjs_variants():
        raise HarnessError(f"web app variant {target!r}: expected a TF.js target ({', '.join(tfjs_variants())})")
    artifact = export.export(b, target)
    with atomic.file_lock(cache_dir() / "webapp-build.lock"):
        key = fingerprint(b, artifact, target)
        record = read_build()
        if not force and record is not None and record.get("fingerprint") == key and _dist_matches(DIST, record):
            return {**record, "cached": True}
        ran_npm_ci = ensure_node_modules()
        with atomic.staged_dir(DIST) as stage:
            vite = ["npx", "--no", "vite", "build", "--outDir", str(stage), "--emptyOutDir"]
            _run(vite, "vite build", env={"HARNESS_MODEL_JSON": str(artifact.path / "model.json")})
            kernels = first_visit.take_kernel_list(stage)
            _copy_model(b, artifact, target, out=stage)
            first_visit.add_preloads(stage / "index.html", stage / MODEL_DIR, (INFO_JSON, compact_tokenizer.COMPACT))
            files = describe(stage)
            record = {
                "format": BUILD_FORMAT,
                "fingerprint": key,
                "variant": target,
                "runtime": runtime_id(target, "wasm"),
                "bundle_hash": b.hash,
                "artifact_hash": artifact.manifest.get("artifact_hash"),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "build_seconds": round(time.perf_counter() - started, 3),
                "npm_ci": ran_npm_ci,
                "first_kernels": kernels,
                "first_visit_code": first_visit.first_visit_code(stage),
                "download": download_sizes(files),
                "files": files,
            }
            atomic.write_json(stage / BUILD_JSON, record)
    return {**record, "cached": False}

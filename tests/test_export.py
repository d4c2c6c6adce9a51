"""Exporters: artifact manifests, the cache, and refusal of edited artifacts."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from harness import export
from harness.core.errors import HarnessError


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("export-cache")
        mp.setenv("HARNESS_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def u8(cache, reference_bundle):
    return export.export(reference_bundle, "tfjs-u8")


def test_manifest_lists_files_sizes_hashes_and_tools(u8, reference_bundle):
    m = u8.manifest
    assert m["bundle_hash"] == reference_bundle.hash and m["target"] == "tfjs-u8"
    assert set(u8.files) == {"model.json", "group1-shard1of1.bin"}
    for entry in u8.files.values():
        assert entry["bytes"] > 0 and entry["gzip_bytes"] > 0 and len(entry["sha256"]) == 64
    assert {"tensorflowjs", "tensorflow"} <= set(m["tool_versions"])
    assert m["weights"] == "uint8" and m["inputs"] == ["token_ids"]
    # uint8 weights are a quarter of float32's
    f32 = export.export(reference_bundle, "tfjs")
    assert u8.total("bytes", ["group1-shard1of1.bin"]) < f32.total("bytes", ["group1-shard1of1.bin"]) / 3.5


def test_second_export_comes_from_the_cache(u8, reference_bundle):
    again = export.export(reference_bundle, "tfjs-u8")
    assert again.manifest["cached"] is True and again.path == u8.path
    assert again.manifest["artifact_hash"] == u8.manifest["artifact_hash"]


def test_cache_key_follows_tool_versions(reference_bundle, monkeypatch):
    exp = export.exporter("tfjs-u8")
    before = export.cache_key(reference_bundle, exp)
    monkeypatch.setattr(type(exp), "tool_versions", lambda self: {"tensorflowjs": "9.9.9"})
    assert export.cache_key(reference_bundle, exp) != before


def test_edited_or_truncated_artifact_is_refused_by_name(u8, tmp_path):
    edited = tmp_path / "edited"
    shutil.copytree(u8.path, edited)
    weights = edited / "group1-shard1of1.bin"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(HarnessError, match=r"group1-shard1of1\.bin: sha256 does not match"):
        export.load_artifact(edited, "tfjs-u8")
    weights.write_bytes(bytes(data[:50]))
    with pytest.raises(HarnessError, match=r"group1-shard1of1\.bin: 50 bytes, manifest says"):
        export.load_artifact(edited, "tfjs-u8")
    weights.unlink()
    with pytest.raises(HarnessError, match=r"group1-shard1of1\.bin: missing"):
        export.load_artifact(edited, "tfjs-u8")


def test_unknown_target_names_the_known_ones():
    with pytest.raises(HarnessError, match="unknown export target 'tfjs-u4'.*tfjs-u8"):
        export.exporter("tfjs-u4")


@pytest.mark.slow
def test_every_shipped_export_is_byte_reproducible(tmp_path):
    """Evidence is matched by artifact hash (harness/release/evidence.py): the same bundle and
    tools must give the same bytes in a fresh process. TF.js's model.json (unordered protobuf
    maps) and Core ML's Manifest.json (random UUIDs) are made canonical (harness/export/canonical.py)."""
    import subprocess
    import sys

    from harness.core.paths import REPO

    targets = "tfjs-u8,coreml-fp32"
    hashes = []
    for attempt in range(2):
        env = {**os.environ, "HARNESS_CACHE": str(tmp_path / f"cache{attempt}"), "TF_CPP_MIN_LOG_LEVEL": "3"}
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "export", "--targets", targets], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=900)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        hashes.append(
            {r["target"]: json.loads((Path(r["path"]) / "artifact.json").read_text())["artifact_hash"] for r in rows}
        )
    assert hashes[0] == hashes[1]

"""Byte-reproducible exports: what the converters write nondeterministically, made canonical.

Evidence from another machine is matched by artifact hash (harness/release/evidence.py), so the
same bundle and tool versions must give the same bytes. Two converters do not, by themselves:
- tensorflowjs writes model.json from protobuf maps (a node's `attr`) in no fixed order: the
  file is rewritten with sorted keys (JSON objects are unordered for every reader; arrays,
  which carry the graph and the weight manifest, keep their order);
- coremltools names the two items of a .mlpackage (the model spec and its weights) with fresh
  random UUIDs in Manifest.json: they are replaced by UUIDs derived from each item's path
  (uuid5), the root identifier with them. Core ML treats them as opaque identifiers.
The model spec (model.mlmodel) and every weight file are already deterministic.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://cross-runtime-harness/mlpackage")


def sorted_json(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")), encoding="utf-8")


def mlpackage_manifest(package: Path) -> None:
    path = package / "Manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    renamed = {old: str(uuid.uuid5(NAMESPACE, entry["path"])) for old, entry in data["itemInfoEntries"].items()}
    data["itemInfoEntries"] = {renamed[old]: entry for old, entry in data["itemInfoEntries"].items()}
    data["rootModelIdentifier"] = renamed[data["rootModelIdentifier"]]
    path.write_text(json.dumps(data, indent=4, sort_keys=True) + "\n", encoding="utf-8")

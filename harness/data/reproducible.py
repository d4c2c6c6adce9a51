"""Byte-identical bundle files for the same inputs: evidence is matched by hash.

Keras writes model.keras as a zip whose `model.weights.h5` entry carries the save time, and
its metadata.json a `date_saved`; the weights themselves are identical for the same seed on
the same machine (h5py writes no timestamps in them). So after saving, the archive is
rewritten with every entry's time set to the zip epoch (1980-01-01 00:00:00, as
`SOURCE_DATE_EPOCH`-style reproducible builds do), in the same order, with the same
compression and permissions, and `date_saved` set to that same epoch. Keras loads the result
as it loads any model.keras (it does not read `date_saved`). Nothing else in a bundle carries
a time: metrics.json holds no training time and records the command without its --out.

config.json records each shared object's `shared_object_id`, which Keras takes from `id()`,
a memory address: two processes that train identical weights wrote different bytes, so every
retrain changed the bundle hash. Keras only matches these ids against each other within the
file, so they are renumbered 1, 2, ... in order of first appearance (`canonical_config`).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

EPOCH = (1980, 1, 1, 0, 0, 0)
EPOCH_TEXT = "1980-01-01@00:00:00"  # Keras's own date_saved format


def canonical_config(config: Any) -> Any:
    """`config` with every shared_object_id renumbered by first appearance (same links, no addresses)."""
    numbers: dict[Any, int] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "shared_object_id" and not isinstance(value, (dict, list)):
                    out[key] = numbers.setdefault(value, len(numbers) + 1)
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(config)


def normalize_keras_archive(path: Path) -> None:
    """Rewrite `path` (a .keras zip) with fixed entry times and date_saved, atomically."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as dst:
            for info, data in entries:
                if info.filename == "metadata.json":
                    meta = json.loads(data)
                    if "date_saved" in meta:
                        meta["date_saved"] = EPOCH_TEXT
                    data = json.dumps(meta).encode("utf-8")
                elif info.filename == "config.json":
                    data = json.dumps(canonical_config(json.loads(data))).encode("utf-8")
                fixed = zipfile.ZipInfo(info.filename, date_time=EPOCH)
                fixed.compress_type = info.compress_type
                fixed.external_attr = info.external_attr
                fixed.create_system = 3  # Unix, whatever system wrote it
                dst.writestr(fixed, data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

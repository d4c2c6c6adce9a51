"""Byte-identical bundle files for the same inputs: evidence is matched by hash.

Keras writes model.keras as a zip whose `model.weights.h5` entry carries the save time, and
its metadata.json a `date_saved`; the weights themselves are identical for the same seed on
the same machine (h5py writes no timestamps in them). So after saving, the archive is
rewritten with every entry's time set to the zip epoch (1980-01-01 00:00:00, as
`SOURCE_DATE_EPOCH`-style reproducible builds do), in the same order, with the same
compression and permissions, and `date_saved` set to that same epoch. Keras loads the result
as it loads any model.keras (it does not read `date_saved`). Nothing else in a bundle carries
a time: metrics.json holds no training time and records the command without its --out.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

EPOCH = (1980, 1, 1, 0, 0, 0)
EPOCH_TEXT = "1980-01-01@00:00:00"  # Keras's own date_saved format


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
                fixed = zipfile.ZipInfo(info.filename, date_time=EPOCH)
                fixed.compress_type = info.compress_type
                fixed.external_attr = info.external_attr
                fixed.create_system = 3  # Unix, whatever system wrote it
                dst.writestr(fixed, data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

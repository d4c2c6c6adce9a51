"""Which Keras wrote a model file: Keras 3 (`keras`) or Keras 2 (`tf_keras`).

The seed's apps ship a Keras 2 model (tf_keras 2.19: the only Keras the TF.js layers-model
converter reads, FACTS "The seed's formats"), so a bundle may hold one. It is run by the
Keras that wrote it: an HDF5 file (.h5) is Keras 2's own format; a .keras file is a zip whose
metadata.json records `keras_version` (2.x from tf_keras, 3.x from Keras 3). Read with the
standard library, so the choice costs no framework import.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from harness.core.errors import HarnessError

KERAS3 = "keras"
KERAS2 = "tf_keras"


def framework(path: Path) -> str:
    """KERAS2 or KERAS3 for a .h5 or .keras model file; HarnessError naming the file otherwise."""
    if path.suffix == ".h5":
        return KERAS2
    if path.suffix != ".keras":
        raise HarnessError(f"{path}: expected a Keras model file (.keras, or .h5 from tf_keras)")
    try:
        with zipfile.ZipFile(path) as z:
            meta = json.loads(z.read("metadata.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise HarnessError(f"{path}: not a .keras archive with metadata.json ({e})") from None
    version = str(meta.get("keras_version", "")) if isinstance(meta, dict) else ""
    return KERAS2 if version.startswith("2.") else KERAS3

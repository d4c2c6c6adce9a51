"""A model archive (.keras, a zip) is measured before anything unpacks it.

Keras unpacks model.weights.h5 and config.json into memory or a temporary folder; a 1 MB
archive of deflated zeros can declare a 1 GiB member, which took 64 s and 2.8 GB of memory
before Keras failed with a message naming no file. The central directory declares each
member's unpacked size, and Python's zipfile (which Keras reads it with) never yields more
than that size, so summing the declared sizes bounds what unpacking can cost. The bound is
data: conformance.toml [containment] max_model_unpacked_bytes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from harness.core import config
from harness.core.errors import HarnessError

DEFAULT_MAX_UNPACKED = 512 * 1024 * 1024
MAX_MEMBERS = 1000  # a .keras holds three; many thousands of members is a bomb of another kind


def max_unpacked_bytes(cfg: dict[str, Any] | None = None) -> int:
    section = (cfg if cfg is not None else config.load()).get("containment", {})
    return int(section.get("max_model_unpacked_bytes", DEFAULT_MAX_UNPACKED))


def check_archive(path: Path, limit: int | None = None) -> int:
    """The archive's declared unpacked size, or HarnessError when it is not a zip, holds too
    many members or would unpack to more than `limit` bytes."""
    limit = max_unpacked_bytes() if limit is None else limit
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
    except FileNotFoundError:
        raise HarnessError(f"{path}: no model file") from None
    except (OSError, zipfile.BadZipFile, ValueError) as e:
        raise HarnessError(f"{path}: not a .keras model archive (a zip file): {e}") from None
    if len(members) > MAX_MEMBERS:
        raise HarnessError(f"{path}: {len(members)} members in the archive (a .keras holds a few); refusing it")
    total = sum(m.file_size for m in members)
    if total > limit:
        raise HarnessError(
            f"{path}: unpacks to {total:,} bytes, more than the {limit:,} allowed "
            "(conformance.toml [containment] max_model_unpacked_bytes); refusing to unpack it"
        )
    return total

"""Names a manifest may list: plain relative paths that stay inside the manifest's folder.

Bundles, export artifacts and report folders come from other machines and other people, and
their manifests name the files the harness then opens, hashes and runs. A name such as
`../outside.txt`, `/etc/passwd` or a symlink that points out would let a manifest make the
harness read (and, through a size or hash mismatch, reveal) a file elsewhere. So a name is
refused by its text first (before anything is opened or even stat'ed), and then by where it
resolves, so a symlink out (anywhere on its way) is refused too.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.core.errors import IntegrityError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def why_not_plain(name: str) -> str | None:
    """Why `name` is not a plain relative POSIX path inside its folder, or None when it is."""
    if not name:
        return "an empty name"
    if _CONTROL.search(name):
        return "a control character in the name"
    if "\\" in name:
        return "a backslash in the name (use /)"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "a '..', '.' or empty step in the path"
    return None


def check_plain(name: str) -> str:
    """`name` if plain, else ValueError (pydantic reports it at the manifest's field)."""
    why = why_not_plain(name)
    if why is not None:
        raise ValueError(f"{name[:80]!r} is not a plain relative path inside the folder ({why})")
    return name


def inside(folder: Path, name: str, what: str) -> Path:
    """folder/name, once it is sure to resolve inside `folder` (no symlink out on its way)."""
    why = why_not_plain(name)
    if why is not None:
        raise IntegrityError(f"{folder}: its {what} manifest lists {name[:80]!r}: {why}; refusing it")
    path = folder / name
    root = folder.resolve()
    if not path.resolve().is_relative_to(root):
        raise IntegrityError(
            f"{path}: a symlink that leads out of {folder}; a {what} holds only its own files, refusing it"
        )
    return path

"""What ships for each target, in bytes and gzip bytes, against its budget."""

from __future__ import annotations

from harness.results.base import Record


class FileSize(Record):
    bytes: int
    gzip_bytes: int


class SizeEntry(Record):
    """What ships for one target ("web:tfjs", "ios:coreml") against its gzip budget; a target
    whose export failed has no sizes, its reason in `error`, and fails."""

    files: dict[str, FileSize] = {}
    bytes: int | None
    gzip_bytes: int | None
    budget_gzip_bytes: int
    passed: bool
    error: str | None = None

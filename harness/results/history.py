"""One line of reports/history.jsonl."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class HistoryEntry(BaseModel):
    """One line of reports/history.jsonl. Lenient on purpose: the file is append-only and
    holds lines written by older harnesses, so unknown keys are ignored, not refused."""

    model_config = ConfigDict(extra="ignore")

    finished_at: str | None = None
    bundle_hash: str | None = None
    hostname: str | None = None
    status: str | None = None
    verdict: str | None = None
    fingerprint: str | None = None  # Environment.fingerprint: speed is compared within one machine only
    runtimes: dict[str, HistoryPoint] = {}


class HistoryPoint(BaseModel):
    model_config = ConfigDict(extra="ignore")

    max_abs_diff: float | None = None
    p95_ms: float | None = None
    p50_ms: float | None = None
    reviews_per_second: float | None = None


HistoryEntry.model_rebuild()

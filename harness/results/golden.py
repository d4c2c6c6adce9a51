"""The golden cases' findings and the declared divergences a report records."""

from __future__ import annotations

from harness.results.base import Record


class Finding(Record):
    kind: str
    runtime: str
    case_id: str
    detail: str
    declared: str | None = None  # id of the known divergence (golden/known_divergences.toml) that covers it


class GoldenSummary(Record):
    passed: bool
    cases: int
    findings: list[Finding] = []  # the first 200
    unused_divergences: list[str] = []


class Divergence(Record):
    id: str
    kind: str
    runtimes: list[str]
    cases: list[str]
    input_class: str = ""
    cause: str
    link: str = ""

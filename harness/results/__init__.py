"""The typed results every stage produces, defined once: runtime rows and failures, artifacts,
agreement, gates, sizes, latency, golden findings, divergences, worst cases, and the report
that holds them (schema harness-report/2).

This layer sits right above `harness.core` and below everything that measures or judges
(`runtimes`, `run`, `check`) so those build these records directly instead of dicts or
look-alike dataclasses that a later step converts; the report, its views and the release
checks read the same classes. It imports pydantic and the core only, never a framework.
"""

from __future__ import annotations

from harness.results.base import Browser, Hex, Name, OneLine, Platform, Record, Step
from harness.results.gate import Gate, GateState, Waiver
from harness.results.golden import Divergence, Finding, GoldenSummary
from harness.results.history import HistoryEntry, HistoryPoint
from harness.results.latency import Latency, LatencySummary
from harness.results.machine import CaseCounts, Environment, SplitMetrics
from harness.results.provenance import CheckedInput, Evidence, Signature
from harness.results.report import (
    BROWSER_ORDER,
    ENGINE_LABEL,
    ERROR_GATE,
    GROUP_ORDER,
    PLATFORM_LABEL,
    PLATFORM_ORDER,
    SCHEMA,
    HeldOutDiffs,
    Report,
    RowVerdict,
    RuntimeGroup,
    Verdict,
)
from harness.results.runtime import (
    Agreement,
    Artifact,
    KnownLimitation,
    RuntimeFailure,
    RuntimeRow,
    RuntimeSpecInfo,
    Unavailable,
)
from harness.results.sizes import FileSize, SizeEntry
from harness.results.speed_trend import SpeedTrend
from harness.results.webapp import Download, MobileFigures, WebApp
from harness.results.worst_cases import LayerDiff, WorstCase

__all__ = [
    "BROWSER_ORDER",
    "ENGINE_LABEL",
    "ERROR_GATE",
    "GROUP_ORDER",
    "PLATFORM_LABEL",
    "PLATFORM_ORDER",
    "SCHEMA",
    "Agreement",
    "Artifact",
    "Browser",
    "CaseCounts",
    "CheckedInput",
    "Divergence",
    "Download",
    "Environment",
    "Evidence",
    "FileSize",
    "Finding",
    "Gate",
    "GateState",
    "GoldenSummary",
    "HeldOutDiffs",
    "Hex",
    "HistoryEntry",
    "HistoryPoint",
    "KnownLimitation",
    "Latency",
    "LatencySummary",
    "LayerDiff",
    "MobileFigures",
    "Name",
    "OneLine",
    "Platform",
    "Record",
    "Report",
    "RowVerdict",
    "RuntimeFailure",
    "RuntimeGroup",
    "RuntimeRow",
    "RuntimeSpecInfo",
    "Signature",
    "SizeEntry",
    "SpeedTrend",
    "SplitMetrics",
    "Step",
    "Unavailable",
    "Verdict",
    "Waiver",
    "WebApp",
    "WorstCase",
]

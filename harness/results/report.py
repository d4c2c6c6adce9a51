"""The report as a typed model: schema "harness-report/2".

report.json is what every later step reads (the HTML and JUnit views, `report merge`,
`signoff`, history), so it is one pydantic model instead of a dict read with guards in every
view: a wrong or missing field fails where the report is written or read, with its path, and
the views trust what they get. The JSON Schema committed in harness/report/ is generated from
these models (harness/report/schema.py), so tools outside Python can validate reports too.

The rules every reader shares live here as methods, so there is one of each: which gates
block, the verdict (pass, fail, incomplete), a runtime's own verdict, and how runtimes group
by the platform and browser engine they stand for. Conventions the writer keeps (checked on
validation): a runtime with status "error" has a failing `runs:<id>` gate with the reason, so
waivers, merge and JUnit treat it like any other gate; the stored verdict is the one these
rules give (build a Report without `verdict` and it is filled in from them).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated, Final, Literal, TypeGuard

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from harness.results.base import Browser, Platform, Record
from harness.results.gate import Gate
from harness.results.golden import Divergence, GoldenSummary
from harness.results.history import HistoryEntry, HistoryPoint
from harness.results.machine import CaseCounts, Environment, SplitMetrics
from harness.results.provenance import Evidence, Signature
from harness.results.runtime import RuntimeRow, RuntimeSpecInfo, Unavailable
from harness.results.sizes import SizeEntry
from harness.results.speed_trend import SpeedTrend
from harness.results.webapp import WebApp
from harness.results.worst_cases import WorstCase

SCHEMA: Final = "harness-report/2"
Verdict = Literal["pass", "fail", "incomplete"]
RowVerdict = Literal["pass", "fail", "error", "waived", "advisory", "n/a", "none"]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
ERROR_GATE = "runs"  # the gate kind that carries a runtime's export/load/run error

PLATFORM_ORDER: tuple[Platform, ...] = ("desktop", "web", "ios", "android")
BROWSER_ORDER: tuple[Browser, ...] = ("chromium", "firefox", "webkit")
PLATFORM_LABEL = {"desktop": "Desktop", "web": "Web", "ios": "iOS", "android": "Android"}
ENGINE_LABEL = {
    "chromium": "Chrome engine (Chromium)",
    "firefox": "Firefox engine (Gecko)",
    "webkit": "Safari engine (WebKit)",
}
GROUP_ORDER: tuple[RowVerdict, ...] = ("fail", "error", "waived", "advisory", "pass", "n/a", "none")


@dataclass(frozen=True)
class RuntimeGroup:
    """Runtimes that stand for the same platform and browser engine, with their joint verdict."""

    platform: Platform | None
    browser: Browser | None
    runtime_ids: tuple[str, ...]
    verdict: RowVerdict

    @property
    def label(self) -> str:
        if self.platform is None:
            return "Other"
        if self.browser is not None:
            return f"{PLATFORM_LABEL[self.platform]} · {ENGINE_LABEL[self.browser]}"
        return PLATFORM_LABEL[self.platform]


@dataclass(frozen=True)
class HeldOutDiffs:
    """A runtime's held-out scores beside the reference's; |diff| is inf where either is missing."""

    runtime_id: str
    row: RuntimeRow
    scores: list[float | None]
    diffs: list[float]

    @property
    def non_finite(self) -> int:
        return sum(1 for d in self.diffs if not math.isfinite(d))


def _finite(v: float | None) -> TypeGuard[float]:
    return v is not None and math.isfinite(v)


class Report(Record):
    """One run of `harness report` or `harness signoff`, or a merge of several machines' runs."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    schema_id: Literal["harness-report/2"] = Field(SCHEMA, alias="schema")
    kind: Literal["report", "signoff"]
    status: Literal["complete", "incomplete"]
    verdict: Verdict = "incomplete"  # left out in code: the one the rules give; in a file: required and checked
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    seconds: float | None = None
    interrupted_by: str | None = None  # SIGINT, SIGTERM
    bundle_hash: Sha256
    bundle_metrics: dict[str, SplitMetrics] = {}
    reference: str  # the runtime every other one is compared with (config.REFERENCE when it ran)
    requested: list[str] = []  # the runtime ids the user asked for, resolved
    environment: Environment
    machines: list[Environment] = []  # every machine of a merged report (this one first)
    cases: CaseCounts = CaseCounts()
    runtimes: dict[str, RuntimeRow] = {}  # runtime id -> results; the reference first
    unavailable: dict[str, Unavailable] = {}
    gates: list[Gate] = []
    sizes: dict[str, SizeEntry] = {}
    golden: GoldenSummary | None = None
    divergences: list[Divergence] = []
    worst_cases: list[WorstCase] = []
    webapp: WebApp | None = None
    merged_from: list[str] = []
    signature: Signature | None = None
    evidence: Evidence | None = None
    speed_trends: list[SpeedTrend] = []  # each speed figure against this machine's history (advisory)

    @model_validator(mode="after")
    def _consistent(self) -> Report:
        seen: set[str] = set()
        for g in self.gates:
            if g.id in seen:
                raise ValueError(f"gate {g.id!r} appears twice")
            seen.add(g.id)
        both = sorted(set(self.runtimes) & set(self.unavailable))
        if both:
            raise ValueError(f"runtime {both[0]!r} is both measured and unavailable")
        for rid, row in self.runtimes.items():
            gate = self.gate(ERROR_GATE, rid)
            if row.status == "error" and (gate is None or gate.passed):
                raise ValueError(f"runtime {rid!r} has status 'error' but no failing '{ERROR_GATE}:{rid}' gate")
        decided = self.decide_verdict()
        if "verdict" not in self.model_fields_set:
            self.verdict = decided
        elif self.verdict != decided:
            raise ValueError(
                f"verdict {self.verdict!r} does not follow from the status and gates (they give {decided!r})"
            )
        return self

    def revised(self, **changes: object) -> Report:
        """This report with `changes` applied (field names, not aliases), validated again, its
        verdict decided afresh by the rules: merge, the evidence check and waivers change gates."""
        fields = {name: value for name, value in self if name != "verdict"}
        return Report.model_validate({**fields, **changes})

    # ---- gates and verdicts ---------------------------------------------------------------

    def gate(self, kind: str, subject: str) -> Gate | None:
        return next((g for g in self.gates if g.gate == kind and g.subject == subject), None)

    def gates_by_subject(self) -> dict[str, dict[str, Gate]]:
        out: dict[str, dict[str, Gate]] = {}
        for g in self.gates:
            out.setdefault(g.subject, {})[g.gate] = g
        return out

    def blocking_gates(self) -> list[Gate]:
        """Required gates that did not pass and were not waived."""
        return [g for g in self.gates if g.blocking]

    def requested_ran(self) -> bool:
        """Did any runtime the user asked for run? (The reference runs even when not asked.)"""
        asked = self.requested or [*self.runtimes, *self.unavailable]
        return any(rid in self.runtimes and self.runtimes[rid].status == "ran" for rid in asked)

    def decide_verdict(self) -> Verdict:
        """One rule for report, merge and sign-off: an interrupted run is incomplete; a blocking
        gate fails; a run in which no requested runtime ran is incomplete, never a pass."""
        if self.status != "complete":
            return "incomplete"
        if self.blocking_gates():
            return "fail"
        return "pass" if self.requested_ran() else "incomplete"

    def runtime_verdict(self, runtime_id: str) -> RowVerdict:
        own = self.gates_by_subject().get(runtime_id, {})
        row = self.runtimes.get(runtime_id)
        error_gate = own.get(ERROR_GATE)
        if row is not None and row.status == "error" and not (error_gate and error_gate.state == "waived"):
            return "error"
        states = {g.state for g in own.values()}
        if "fail" in states:
            return "fail"
        if "waived" in states:
            return "waived"
        if runtime_id in self.unavailable and "pass" not in states:
            return "n/a"
        if "advisory" in states:
            return "advisory"
        return "pass" if states else "none"

    # ---- runtimes -----------------------------------------------------------------------

    def runtime_ids(self) -> list[str]:
        """Measured runtimes in report order, then those unavailable here."""
        return [*self.runtimes, *(rid for rid in self.unavailable if rid not in self.runtimes)]

    def spec_of(self, runtime_id: str) -> RuntimeSpecInfo | None:
        row = self.runtimes.get(runtime_id)
        if row is not None:
            return row.spec
        missing = self.unavailable.get(runtime_id)
        return missing.spec if missing is not None else None

    def groups(self) -> list[RuntimeGroup]:
        """Runtimes by platform, web ones by browser engine: desktop, web (Chromium, Firefox,
        WebKit), iOS, Android, then runtimes of no known spec."""
        buckets: dict[tuple[Platform | None, Browser | None], list[str]] = {}
        for rid in self.runtime_ids():
            spec = self.spec_of(rid)
            key: tuple[Platform | None, Browser | None] = (spec.platform, spec.browser) if spec else (None, None)
            buckets.setdefault(key, []).append(rid)

        def order(key: tuple[Platform | None, Browser | None]) -> tuple[int, int]:
            platform, browser = key
            p = PLATFORM_ORDER.index(platform) if platform else len(PLATFORM_ORDER)
            return p, BROWSER_ORDER.index(browser) if browser else -1

        out = []
        for key in sorted(buckets, key=order):
            ids = tuple(buckets[key])
            verdicts = {self.runtime_verdict(rid) for rid in ids}
            out.append(RuntimeGroup(key[0], key[1], ids, next(v for v in GROUP_ORDER if v in verdicts)))
        return out

    def size_gate_for(self, runtime_id: str) -> Gate | None:
        """The size gate of the artifact a runtime executes ("size:web:tfjs-u8" for tfjs-wasm@u8)."""
        spec = self.spec_of(runtime_id)
        if spec is None or spec.target is None:
            return None
        return next(
            (g for g in self.gates if g.gate == "size" and spec.target in (g.subject, g.subject.partition(":")[2])),
            None,
        )

    def all_machines(self) -> list[Environment]:
        return self.machines or [self.environment]

    def reference_scores(self) -> list[float | None]:
        row = self.runtimes.get(self.reference)
        return list(row.scores or []) if row is not None else []

    def compared(self) -> list[HeldOutDiffs]:
        """Every runtime with scores except the reference, beside the reference's scores."""
        ref = self.reference_scores()
        out = []
        for rid, row in self.runtimes.items():
            if rid == self.reference or not row.scores or not ref:
                continue
            diffs = [
                abs(b - a) if _finite(a) and _finite(b) else math.inf for a, b in zip(ref, row.scores, strict=False)
            ]
            diffs += [math.inf] * abs(len(ref) - len(row.scores))
            out.append(HeldOutDiffs(rid, row, list(row.scores), diffs))
        return out

    def history_entry(self) -> HistoryEntry:
        """This report as one line of reports/history.jsonl."""
        points = {
            rid: HistoryPoint(
                max_abs_diff=row.agreement.max_abs_diff if row.agreement else None,
                p95_ms=row.latency.single_ms.p95 if row.latency else None,
                p50_ms=row.latency.single_ms.p50 if row.latency else None,
                reviews_per_second=row.latency.batch_reviews_per_second if row.latency else None,
            )
            for rid, row in self.runtimes.items()
        }
        finished = self.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ") if self.finished_at else None
        return HistoryEntry(
            finished_at=finished,
            bundle_hash=self.bundle_hash,
            hostname=self.environment.hostname,
            status=self.status,
            verdict=self.verdict,
            runtimes=points,
            fingerprint=self.environment.fingerprint,
        )

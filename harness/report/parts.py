"""The leaf records of a harness-report/2 (everything but the Report itself, see model.py).

Each is a pydantic model with `extra="forbid"`, so a misspelt or stale field is an error
naming it rather than a value silently dropped; a field that may be added later (signature,
evidence, per-layer diffs) is declared here as optional instead of opening the model to
anything. Measured numbers that can be non-finite (NaN, infinity) are `float | None`: the
JSON writer turns them into null, so report.json stays strict JSON that any tool parses.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, JsonValue, StringConstraints, model_validator

from harness.core.limitations import describe

Platform = Literal["desktop", "web", "ios", "android"]
Browser = Literal["chromium", "firefox", "webkit"]
Step = Literal["export", "load", "tokenize", "run"]
OneLine = Annotated[str, StringConstraints(min_length=1, pattern=r"^[^\r\n]+$")]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9._-]*$")]
Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,128}$")]


class Record(BaseModel):
    """Base of every report record: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class SplitMetrics(Record):
    """One split of the bundle's own training record (metrics.json)."""

    accuracy: float
    loss: float | None = None
    n: int


class Environment(Record):
    """The machine a run used; a merged report lists one per machine."""

    hostname: str
    platform: str  # platform.platform(): "Linux-6.1.0-28-amd64-x86_64-with-glibc2.36"
    python: str
    machine: str  # "x86_64", "arm64"
    cpu_count: int | None = None
    cpu_model: str = ""
    memory_gb: float | None = None
    tool_versions: dict[str, str] = {}
    browsers: dict[Browser, str] = {}  # engine -> the version it reported ("Chromium 156.0.8078.114")

    @property
    def system(self) -> str:
        return self.platform.split("-")[0]

    @property
    def fingerprint(self) -> str:
        """Which machine this is, for comparing speed with its own history only: the host and
        what sets its speed (CPU model and count, memory, architecture)."""
        import hashlib

        key = "|".join(str(v) for v in (self.hostname, self.machine, self.cpu_model, self.cpu_count, self.memory_gb))
        return hashlib.sha256(key.encode()).hexdigest()[:16]


class RuntimeSpecInfo(Record):
    """What a runtime is, as data (the registry's RuntimeSpec as the report records it).

    `platform` is the platform it stands for (coreml-ref runs on Linux but stands for iOS);
    `browser` is the engine of a web runtime and null elsewhere."""

    family: Name  # keras, tfjs, coreml, tflite, ...
    backend: str | None = None  # cpu, wasm, webgl, webgpu; ref or native for Core ML
    precision: str  # float32, float16, uint8: picks the tolerance policy
    platform: Platform
    browser: Browser | None = None
    variant: str | None = None  # the id's @variant: f16, u8, fp32
    target: str | None = None  # the export target it executes (null: the bundle's model)
    tokenizer: str  # the tokenizer runtime of the app it stands for: py, js

    @model_validator(mode="after")
    def _browser_only_on_web(self) -> RuntimeSpecInfo:
        if (self.platform == "web") != (self.browser is not None):
            raise ValueError("browser is required for a web runtime and must be null for any other platform")
        return self


class KnownLimitation(Record):
    """The declared engine limitation a failure is (golden/known_limitations.toml)."""

    id: OneLine
    engine: OneLine  # the package and version that lacks it: "tensorflowjs 4.22.0"
    lacks: OneLine  # the op, kernel or feature: "TF op Erfc"
    cause: OneLine
    workaround: str = ""
    link: str = ""


class RuntimeFailure(Record):
    """Why a runtime produced no scores: the step and the engine's own words, one line, and the
    declared limitation it is, if any."""

    step: Step
    message: OneLine
    limitation: KnownLimitation | None = None

    def line(self) -> str:
        """What a view shows: `step: message`, or `step: known limitation ID: ...` for a declared one."""
        lim = self.limitation
        if lim is None:
            return f"{self.step}: {self.message}"
        return f"{self.step}: {describe(lim.id, lim.engine, lim.lacks, cause=lim.cause, workaround=lim.workaround)}"


class Agreement(Record):
    passed: bool
    max_abs_diff: float | None
    mean_abs_diff: float | None
    min_atol: float | None  # the smallest atol this runtime would have passed
    decision_agreement: float
    atol: float
    required_agreement: float
    flips: int
    reasons: list[str] = []


class LatencySummary(Record):
    p50: float
    p95: float
    n: int
    samples: list[float] = []  # ms, in the runtime, after warm-up


class Latency(Record):
    single_ms: LatencySummary
    load_seconds: float
    remeasured: bool = False  # reports before speed intervals: a failing budget was measured once more
    batch_reviews_per_second: float | None = None
    # speed intervals (docs/speed-gates.md): each figure's confidence interval [low, high]
    # (null: unbounded side), the throughput loop's batch, the calibration beside the runtime,
    # and the seconds the figures took
    confidence: float | None = None
    p50_interval: list[float | None] | None = None
    p95_interval: list[float | None] | None = None
    throughput_interval: list[float | None] | None = None
    throughput_batch: int | None = None
    throughput_batches: int | None = None
    calibration: dict[str, float | int | bool] | None = None
    seconds: float | None = None


class Artifact(Record):
    target: str
    artifact_hash: Hex
    bytes: int
    gzip_bytes: int
    recorded_by: dict[str, str] = {}  # shipped: converter and version the file records; exported: tool versions
    source: str | None = None  # shipped: the path it was adopted from (harness bundle --artifact)


class RuntimeRow(Record):
    """One runtime's results. A runtime that failed to export, load or run has status "error",
    the reason in `error` and null in every score field; the others still ran."""

    spec: RuntimeSpecInfo
    status: Literal["ran", "error"]
    error: RuntimeFailure | None = None
    machine: str  # hostname of the machine it ran on (a merged report has several)
    scores: list[float | None] | None = None  # held-out cases, in order; null = non-finite or missing
    accuracy: float | None = None
    agreement: Agreement | None = None
    latency: Latency | None = None
    batch_seconds: float | None = None  # the held-out batch, when latency was not measured
    artifact: Artifact | None = None
    artifact_origin: Literal["shipped", "exported"] | None = None  # the file a team ships, or the harness's export
    info: dict[str, JsonValue] = {}  # engine facts (browser version, wasm flavour, MIL ops, ...)

    @model_validator(mode="after")
    def _status_matches_fields(self) -> RuntimeRow:
        if self.status == "error":
            if self.error is None:
                raise ValueError("a runtime with status 'error' needs its error (step and message)")
            filled = [k for k in ("scores", "accuracy", "agreement", "latency") if getattr(self, k) is not None]
            if filled:
                raise ValueError(f"a runtime with status 'error' has no {', '.join(filled)} (they must be null)")
        elif self.error is not None:
            raise ValueError("a runtime that ran has no error (error must be null)")
        elif self.scores is None:
            raise ValueError("a runtime that ran has its scores")
        return self


class Unavailable(Record):
    """A runtime that could not run on this machine, and what would make it run."""

    reason: str
    install: str = ""
    spec: RuntimeSpecInfo | None = None  # null: an id the registry did not know


class Waiver(Record):
    reason: Annotated[str, StringConstraints(min_length=1)]


GateState = Literal["pass", "fail", "advisory", "waived"]


class Gate(Record):
    """One judged budget: the value beside its budget. A gate that could not be evaluated says
    so (`evaluated: false`, the reason in `detail`) and counts as not passed."""

    id: str  # "<gate>:<subject>", unique in a report
    gate: (
        str  # agreement, accuracy, latency_p50, latency_p95, throughput, load_time, size, golden, available, runs, ...
    )
    subject: str  # runtime id, size target ("web:tfjs"), "web-app", "suite"
    passed: bool
    evaluated: bool = True
    value: float | None = None
    budget: float | None = None
    unit: str = ""
    detail: str = ""
    required: bool = True  # False: advisory, shown but never fatal
    waived: Waiver | None = None
    # speed gates: the figure's confidence interval [low, high] (null: unbounded), its confidence,
    # the calibration factor the written budget was scaled by; inconclusive: the interval
    # straddled the budget, so the gate is advisory (docs/speed-gates.md)
    interval: list[float | None] | None = None
    confidence: float | None = None
    budget_factor: float | None = None
    inconclusive: bool = False

    @classmethod
    def make(
        cls,
        gate: str,
        subject: str,
        passed: bool,
        value: float | None = None,
        budget: float | None = None,
        unit: str = "",
        detail: str = "",
        required: bool = True,
        evaluated: bool = True,
    ) -> Gate:
        return cls(
            id=f"{gate}:{subject}",
            gate=gate,
            subject=subject,
            passed=passed,
            value=value,
            budget=budget,
            unit=unit,
            detail=detail,
            required=required,
            evaluated=evaluated,
        )

    @model_validator(mode="after")
    def _consistent(self) -> Gate:
        if self.id != f"{self.gate}:{self.subject}":
            raise ValueError(f"gate id {self.id!r} must be '<gate>:<subject>' ({self.gate}:{self.subject})")
        if not self.evaluated and (self.passed or not self.detail):
            raise ValueError("a gate that was not evaluated has passed false and its reason in detail")
        return self

    @property
    def state(self) -> GateState:
        if self.waived is not None:
            return "waived"
        if self.passed:
            return "pass"
        return "fail" if self.required else "advisory"

    @property
    def blocking(self) -> bool:
        """Required, not passed, not waived: what makes a verdict "fail"."""
        return self.state == "fail"


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


class LayerDiff(Record):
    """One layer of a worst case traced through a runtime (`harness compare --layers`)."""

    layer: str
    max_abs_diff: float | None  # null: the runtime cannot expose this tensor (detail says why)
    mean_abs_diff: float | None = None
    detail: str = ""
    over: bool = False  # above the runtime's per-tensor bar (WorstCase.layers_atol, plus its rtol)
    # Scale-free (harness/check/tensor_metrics.py); snr_db null: not compared, or identical (max_abs_diff 0).
    snr_db: float | None = None
    cosine: float | None = None
    min_atol: float | None = None  # the smallest atol that would pass with rtol 0
    min_rtol: float | None = None  # the smallest rtol that would pass with atol 0 (|diff| <= rtol * max |keras|)
    histogram: list[int] | None = None  # |diff| counts per decade: 0, <1e-7, <1e-6 ... <1e0, >=1
    inbound: list[str] | None = None  # the layers this one reads (its layer output only): the graph's edges


class WorstCase(Record):
    runtime: str
    case_id: str
    text: str
    reference: float | None
    score: float | None
    diff: float | None
    command: str | None = None  # the command that reproduces it
    layers_command: str | None = None  # the same case layer by layer (`harness compare --layers`)
    layers: list[LayerDiff] | None = None  # that view, for the worst case of a failing or reduced-precision runtime
    layers_atol: float | None = None  # the per-tensor bar the layers were held to: |diff| <= atol + rtol * max |keras|
    layers_rtol: float | None = None  # (conformance.toml [tolerance.<class>] layer_atol, layer_rtol)


class Download(Record):
    """What a first visit of the web app downloads, in bytes and gzip bytes."""

    app_bytes: int
    app_gzip_bytes: int
    model_bytes: int
    model_gzip_bytes: int
    wasm_bytes: int
    wasm_gzip_bytes: int
    total_bytes: int
    total_gzip_bytes: int


class MobileFigures(Record):
    """The app under the device profile (Lighthouse's mobile throttling on Chromium)."""

    profile: dict[str, JsonValue]
    time_to_first_prediction_ms: float
    time_to_first_prediction_samples_ms: list[float] = []
    wasm_single_ms: dict[str, float]


class WebApp(Record):
    variant: str
    download: Download
    gzip_download_bytes: int
    first_visit_gzip_bytes: float | None = None  # fetched by a cold visit before its first prediction
    mobile: MobileFigures | None = None
    time_to_first_prediction_ms: float | None = None
    model_ready_ms: float | None = None
    time_to_first_prediction_samples_ms: list[float] = []
    backend: str | None = None
    browser: str | None = None
    calibration: dict[str, float | int | bool] | None = None  # the kernel beside the visits (docs/speed-gates.md)


class CaseCounts(Record):
    held_out: int = 0
    golden: int | None = None


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

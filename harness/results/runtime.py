"""One runtime's outcome: what it is, the artifact it ran, its scores and agreement, or the
step and reason it could not run."""

from __future__ import annotations

from typing import Literal

from pydantic import JsonValue, model_validator

from harness.core.limitations import describe
from harness.results.base import Browser, Hex, Name, OneLine, Platform, Record, Step
from harness.results.latency import Latency


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

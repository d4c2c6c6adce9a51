"""A synthetic harness-report/2, built through the models, shaped like a real nightly report.

Eight runtimes of 1,080 held-out scores (desktop keras, five Chromium TF.js runtimes, two Core
ML evaluators standing for iOS), one failing agreement, one failing latency and one failing
size budget, two runtimes unavailable (one waived), a worst case with a <script> tag, a lone
surrogate and right-to-left text. `with_engines` adds Firefox and WebKit runtimes, one of
which failed to load, as the browser-engine issue will produce.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from harness.results import (
    Agreement,
    Artifact,
    CaseCounts,
    Divergence,
    Environment,
    FileSize,
    Gate,
    GoldenSummary,
    HistoryEntry,
    Latency,
    LatencySummary,
    Report,
    RuntimeFailure,
    RuntimeRow,
    RuntimeSpecInfo,
    SizeEntry,
    SplitMetrics,
    Unavailable,
    Waiver,
    WorstCase,
)

N_CASES = 1080
HOSTILE = "<script>alert('x')</script> lone \ud83d surrogate & \"quotes\" שלום عالم \x07 bell"
# (runtime id, precision, tokenizer, noise scale of |diff|, share of exact zeros, p50 ms)
RUNTIMES = [
    ("keras", "float32", "py", 0.0, 1.0, 1.6),
    ("tfjs-cpu", "float32", "js", 3e-8, 0.6, 4.2),
    ("tfjs-wasm", "float32", "js", 4e-8, 0.3, 0.41),
    ("tfjs-webgl", "float32", "js", 2e-7, 0.0, 38.0),
    ("tfjs-wasm@f16", "float16", "js", 4e-4, 0.0, 0.45),
    ("tfjs-wasm@u8", "uint8", "js", 9e-3, 0.0, 0.43),
    ("coreml-ref", "float16", "py", 6e-4, 0.0, 1.1),
    ("coreml-ref@fp32", "float32", "py", 5e-8, 0.1, 1.0),
]
WHY_MAC = "Core ML runs only on macOS"
HOW_MAC = "run on a Mac and merge: harness report merge A.json B.json"
BUDGETS = {"keras": (3, 10), "tfjs-cpu": (10, 30), "tfjs-webgl": (30, 60)}
TARGETS = {"tfjs": 1_500_000, "tfjs-f16": 800_000, "tfjs-u8": 500_000, "coreml": 800_000, "coreml-fp32": 1_500_000}
GZ = {"tfjs": 1_180_000, "tfjs-f16": 610_000, "tfjs-u8": 520_000, "coreml": 640_000, "coreml-fp32": 1_250_000}
WAIVER = "Linux-only release candidate; macOS run scheduled in the nightly (JIRA REL-42)"


def spec(rid: str, precision: str = "float32", tokenizer: str = "py") -> RuntimeSpecInfo:
    """The spec the registry would give `rid` (engine prefix "firefox:"/"webkit:" names the browser)."""
    engine, _, base = rid.rpartition(":")
    name, _, variant = base.partition("@")
    family, _, backend = name.partition("-")
    target = {"keras": None, "tfjs": "tfjs", "coreml": "coreml"}[family]
    if target and variant:
        target += {"f16": "-f16", "u8": "-u8", "fp32": "-fp32"}[variant]
    platform = {"keras": "desktop", "tfjs": "web", "coreml": "ios"}[family]
    browser = (engine or "chromium") if platform == "web" else None
    return RuntimeSpecInfo(family=family, backend=backend or None, precision=precision, platform=platform,
                           browser=browser, variant=variant or None, target=target, tokenizer=tokenizer)  # fmt: skip


ENV = Environment(
    hostname="ci-linux-7", platform="Linux-6.1.0-28-amd64-x86_64-with-glibc2.36", python="3.11.7", machine="x86_64",
    cpu_count=4, cpu_model="AMD EPYC 7763 64-Core Processor", memory_gb=15.6,
    tool_versions={"tensorflow": "2.19.0", "keras": "3.15.1", "tensorflowjs": "4.22.0", "coremltools": "9.0",
                   "@tensorflow/tfjs": "4.22.0"}, browsers={"chromium": "Chromium 131.0.6778.85"},
)  # fmt: skip


def _row(rid: str, precision: str, tok: str, scores: list[float], keras: list[float], p50: float,
         rng: random.Random) -> tuple[RuntimeRow, list[Gate]]:  # fmt: skip
    diffs = [abs(a - b) for a, b in zip(keras, scores, strict=True)]
    atol = 1e-4 if precision == "float32" else 0.05
    passed = max(diffs) <= atol
    samples = sorted(round(p50 * math.exp(rng.gauss(0, 0.25)), 4) for _ in range(200))
    p95 = samples[189]
    b50, b95 = BUDGETS.get(rid, (1, 5) if "wasm" in rid else (2, 10))
    accuracy = 0.78 + (0.001 if precision == "float32" else 0.0)
    reasons = [] if passed else [f"2 of {N_CASES} outside atol {atol:g}"]
    s = spec(rid, precision, tok)
    row = RuntimeRow(
        spec=s, status="ran", machine=ENV.hostname, scores=scores, accuracy=accuracy, info={"backend": s.backend},
        agreement=Agreement(passed=passed, max_abs_diff=max(diffs), mean_abs_diff=sum(diffs) / N_CASES,
                            min_atol=max(diffs), decision_agreement=1.0 if passed else 0.9991, atol=atol,
                            required_agreement=1.0 if precision == "float32" else 0.99, flips=0 if passed else 1,
                            reasons=reasons),
        latency=Latency(single_ms=LatencySummary(p50=samples[100], p95=p95, n=200, samples=samples),
                        batch_reviews_per_second=1000 / p50 * 8, load_seconds=0.8 + p50 / 20,
                        remeasured=rid == "tfjs-webgl"),
        artifact=Artifact(target=s.target, artifact_hash="ab" * 32, bytes=1, gzip_bytes=1) if s.target else None,
    )  # fmt: skip
    gates = [
        Gate.make("agreement", rid, passed, value=max(diffs), budget=atol, detail="; ".join(reasons)),
        Gate.make("accuracy", rid, True, value=accuracy, budget=0.75, detail=f"{accuracy:.4f} (keras 0.7810)"),
        Gate.make("latency_p50", rid, samples[100] <= b50, value=samples[100], budget=b50, unit="ms"),
        Gate.make(
            "latency_p95",
            rid,
            p95 <= b95,
            value=p95,
            budget=b95,
            unit="ms",
            detail="" if p95 <= b95 else "failed twice (re-measured once)",
        ),
        Gate.make("throughput", rid, True, value=1000 / p50 * 8, budget=200 if rid == "tfjs-webgl" else 500, unit="reviews/s"),
        Gate.make("load_time", rid, True, value=0.8 + p50 / 20, budget=15, unit="s"),
    ]  # fmt: skip
    return row, gates


def synthetic_report(status: str = "complete") -> Report:
    rng = random.Random(7)
    keras = [1 / (1 + math.exp(-rng.gauss(0, 3))) for _ in range(N_CASES)]
    runtimes: dict[str, RuntimeRow] = {}
    gates: list[Gate] = []
    for rid, precision, tok, noise, zeros, p50 in RUNTIMES:
        scores = [
            s if rng.random() < zeros else min(1.0, max(0.0, s + rng.gauss(0, noise) * (4 if rng.random() < 0.01 else 1)))
            for s in keras
        ]  # fmt: skip
        if rid == "tfjs-wasm@u8":  # one decision flips and one case is far off: this runtime fails agreement
            scores[17] = 1 - keras[17] if abs(keras[17] - 0.5) < 0.2 else keras[17] + 0.08
            scores[18] = keras[18] - 0.07 if keras[18] > 0.2 else keras[18] + 0.07
        runtimes[rid], own = _row(rid, precision, tok, scores, keras, p50, rng)
        gates += own
    sizes = {}
    for target, budget in TARGETS.items():
        key = ("ios:" if target.startswith("coreml") else "web:") + target
        gz = GZ[target]
        files = {"model.json": FileSize(bytes=9_000, gzip_bytes=1_500),
                 "group1-shard1of1.bin": FileSize(bytes=int(gz * 1.08), gzip_bytes=gz - 9_000)}  # fmt: skip
        sizes[key] = SizeEntry(files=files, bytes=int(gz * 1.1), gzip_bytes=gz, budget_gzip_bytes=budget, passed=gz <= budget)  # fmt: skip
        gates.append(Gate.make("size", key, gz <= budget, value=gz, budget=budget, unit="bytes gzip"))
    gates.append(
        Gate.make("golden", "suite", True, value=64, unit="cases", detail="64 golden cases, no undeclared divergence")
    )
    native = Gate.make("available", "coreml-native", False, detail=f"{WHY_MAC}; {HOW_MAC}")
    native.waived = Waiver(reason=WAIVER)
    gates.append(native)
    gates.append(Gate.make("available", "coreml-native@fp32", False, detail=f"{WHY_MAC}; {HOW_MAC}"))
    u8 = runtimes["tfjs-wasm@u8"].scores or []
    worst = [
        WorstCase(runtime="tfjs-wasm@u8", case_id="test-00017", text=HOSTILE, reference=keras[17], score=u8[17],
                  diff=abs(keras[17] - (u8[17] or 0)),
                  command="harness compare --runtimes keras,tfjs-wasm@u8 --json-text '\"<script>alert(1)</script> \\ud83d\"'"),
        WorstCase(runtime="coreml-ref", case_id="test-00418", text="an utterly tedious, shapeless mess " * 80,
                  reference=0.4971, score=0.5012, diff=0.0041, command="harness compare --runtimes keras,coreml-ref 'an utterly tedious'"),
    ]  # fmt: skip
    fields: dict[str, Any] = dict(
        kind="report", status="complete", verdict="fail",
        started_at=dt.datetime(2026, 11, 23, 2, 0, 3, tzinfo=dt.UTC), finished_at=dt.datetime(2026, 11, 23, 2, 11, 47, tzinfo=dt.UTC),
        seconds=704.2, bundle_hash="3f9a1c0d" * 8, reference="keras", requested=[*runtimes, "coreml-native", "coreml-native@fp32"],
        bundle_metrics={s: SplitMetrics(accuracy=a, loss=0.47, n=k) for s, a, k in (("train", 0.86, 8454), ("validation", 0.79, 1071), ("test", 0.78, N_CASES))},
        environment=ENV, machines=[ENV], cases=CaseCounts(held_out=N_CASES, golden=64), runtimes=runtimes,
        unavailable={rid: Unavailable(reason=WHY_MAC, install=HOW_MAC, spec=spec(rid, p)) for rid, p in (("coreml-native", "float16"), ("coreml-native@fp32", "float32"))},
        gates=gates, sizes=sizes, golden=GoldenSummary(passed=True, cases=64),
        divergences=[Divergence(id="nfkc-ligature-js", kind="tokens", runtimes=["js"], cases=["hard-ligature-fi"],
                                input_class="compatibility ligatures", cause="V8's Unicode 15 vs CPython's 15.1 <b>",
                                link="golden/known_divergences.toml#nfkc-ligature-js")],
        worst_cases=worst,
    )  # fmt: skip
    if status == "incomplete":
        for rid in ("coreml-ref", "coreml-ref@fp32"):
            del runtimes[rid]
        runtimes["tfjs-webgl"].latency = None
        fields.update(status="incomplete", verdict="incomplete", finished_at=None, golden=None, sizes={},
                      worst_cases=[], interrupted_by="SIGTERM",
                      gates=[g for g in gates if g.subject not in ("coreml-ref", "coreml-ref@fp32", "suite")])  # fmt: skip
    return Report(**fields)


def with_engines(report: Report) -> Report:
    """`report` plus Firefox and WebKit: firefox:tfjs-wasm ran and passed, webkit:tfjs-wasm failed
    to load, firefox:tfjs-webgl is unavailable (headless Firefox has no WebGL)."""
    data = report.model_copy(deep=True)
    rng = random.Random(11)
    keras = data.reference_scores()
    ff_scores = [s if s is None else min(1.0, s + rng.gauss(0, 3e-8)) for s in keras]
    row, gates = _row("firefox:tfjs-wasm", "float32", "js", ff_scores, keras, 0.52, rng)  # type: ignore[arg-type]
    data.runtimes["firefox:tfjs-wasm"] = row
    data.runtimes["webkit:tfjs-wasm"] = RuntimeRow(
        spec=spec("webkit:tfjs-wasm", "float32", "js"), status="error", machine=ENV.hostname,
        error=RuntimeFailure(step="load", message="kernel Einsum is not registered for backend wasm (TF.js 4.22)"),
    )  # fmt: skip
    data.unavailable["firefox:tfjs-webgl"] = Unavailable(
        reason="headless Firefox has no WebGL",
        install="run under Xvfb: make setup installs xvfb",
        spec=spec("firefox:tfjs-webgl", "float32", "js"),
    )
    data.gates += [
        *gates,
        Gate.make("runs", "webkit:tfjs-wasm", False, detail="load: kernel Einsum is not registered for backend wasm (TF.js 4.22)"),
        Gate.make("available", "firefox:tfjs-webgl", False, detail="headless Firefox has no WebGL", required=False),
    ]  # fmt: skip
    data.requested += ["firefox:tfjs-wasm", "webkit:tfjs-wasm", "firefox:tfjs-webgl"]
    data.environment.browsers.update(firefox="Firefox 153.0esr", webkit="WebKitGTK 2.50.6")
    return Report.model_validate(data.model_dump())


def history(points: int) -> list[HistoryEntry]:
    out = []
    for i in range(points):
        out.append(HistoryEntry.model_validate({
            "finished_at": f"2026-11-{22 - points + i:02d}T02:10:00Z", "bundle_hash": "0" * 64 if i < 2 else "3f9a1c0d" * 8,
            "hostname": "ci-linux-7", "verdict": "pass" if i % 2 == 0 else "fail",
            "runtimes": {rid: {"max_abs_diff": (1e-7 if "@" not in rid else 3e-3) * (1 + 0.3 * (i % 3)),
                               "p95_ms": p50 * (1.3 + 0.1 * i)} for rid, _, _, _, _, p50 in RUNTIMES if rid != "keras"},
        }))  # fmt: skip
    return out

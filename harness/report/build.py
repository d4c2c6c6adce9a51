"""`harness report`: the held-out split and the golden cases through every runtime, judged
against every gate, written as report.json (+ report.html, junit.xml) and one history line.

Reliability: every file is written atomically; SIGINT or SIGTERM mid-run still writes a
report marked "incomplete" holding what finished; the history line is appended whole,
under a lock; each run writes into its own folder unless --out is given.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.check import divergences, gates, golden
from harness.check.compare import judge
from harness.check.side_by_side import command_for
from harness.check.sizes import measure_sizes
from harness.core import bundle, config
from harness.core.cases import read_cases
from harness.core.errors import HarnessError
from harness.data import corpus
from harness.report import summary, writer
from harness.report.environment import describe
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.base import Runtime
from runtimes.failures import RuntimeFailed, RuntimeFailure, step
from runtimes.selection import select

SCHEMA = "harness-report/1"


@dataclass
class Options:
    runtimes: str = "matrix"
    latency: bool = True
    golden: bool = True
    sizes: bool = True
    webapp: bool = True
    kind: str = "report"
    require_all: bool = False  # sign-off: a runtime that cannot run here fails unless waived or merged


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _say(message: str) -> None:
    """Progress on a terminal (or with HARNESS_PROGRESS=1); quiet in CI logs."""
    if sys.stderr.isatty() or os.environ.get("HARNESS_PROGRESS") == "1":
        print(f"… {message}", file=sys.stderr, flush=True)


@contextmanager
def interrupts_as_keyboard() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C, so both leave an incomplete report behind."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _latency(engines: Engines, rid: str, row: np.ndarray, budget: dict[str, float]) -> dict[str, Any]:
    session = engines.session(rid)
    out: dict[str, Any] = {"remeasured": False, "load_seconds": round(session.load_seconds, 3)}
    for attempt in range(2):  # a failing budget is measured once more before it fails
        with step(rid, "run", engines.runtimes[rid].context()):
            samples = session.latency_ms(
                row, repeats=int(budget.get("repeats", 200)), warmup=int(budget.get("warmup", 20))
            )
        out["single_ms"] = {**gates.latency_summary(samples), "samples": [round(float(x), 4) for x in samples]}
        out["remeasured"] = attempt > 0
        if out["single_ms"]["p50"] <= budget["p50_ms"] and out["single_ms"]["p95"] <= budget["p95_ms"]:
            break
    return out


def _failed_row(rt: Runtime, failure: RuntimeFailure, machine: str) -> dict[str, Any]:
    """A runtime that could not export, load or run: its reason instead of its figures."""
    return {
        "spec": rt.spec.describe(), "precision": rt.spec.precision, "tokenizer": None, "machine": machine,
        "status": "error", "error": {"step": failure.step, "message": failure.message},
        "scores": None, "accuracy": None, "info": {}, "latency": None, "artifact": None, "agreement": None,
    }  # fmt: skip


def _fail(rows: dict[str, dict[str, Any]], engines: Engines, rid: str, failure: RuntimeFailure, machine: str) -> None:
    rows[rid] = _failed_row(engines.runtimes[rid], failure, machine)


def _typical_row(ids: np.ndarray, pad_id: int = 0) -> np.ndarray:
    """A review of median length: what a user typically types."""
    lengths = (ids != pad_id).sum(axis=1)
    return ids[int(np.argsort(lengths)[len(lengths) // 2])]


def build(b: bundle.Bundle, opts: Options, report: dict[str, Any]) -> None:
    """Fill `report` step by step, so an interruption leaves everything finished so far."""
    reviews = corpus.held_out(b)
    texts = [r.text for r in reviews]
    labels = np.asarray([r.label for r in reviews])
    selection = select(opts.runtimes, with_reference=True)
    reference = selection.reference
    report["reference"] = reference
    report["unavailable"] = selection.unavailable
    report["cases"] = {"held_out": len(reviews)}
    threshold = config.threshold()
    tokenizer_ids, _ = tokenizers.select("all")
    all_gates: list[gates.Gate] = []
    report["gates"] = []
    machine = report["environment"]["hostname"]
    with Engines(b, selection.runtimes, tokenizer_ids) as engines:
        ids_by_tok: dict[str, np.ndarray] = {}
        rows: dict[str, dict[str, Any]] = report["runtimes"]
        acc_budget = gates.accuracy_budget()
        for rt in selection.runtimes:
            _say(f"{rt.id}: held-out scores")
            try:
                tok, ids = engines.app_ids(rt.id, texts, ids_by_tok)
                result = engines.run(rt.id, ids)
            except RuntimeFailed as e:
                _fail(rows, engines, rt.id, e.failure, machine)
                continue
            scores = result.scores
            art = engines.artifacts.get(rt.id)
            rows[rt.id] = {
                "spec": rt.spec.describe(), "precision": rt.spec.precision, "tokenizer": tok, "machine": machine,
                "status": "ran", "error": None,
                "scores": [round(float(s), 7) for s in scores],
                "accuracy": round(float(np.mean((scores > threshold) == (labels == 1))), 6),
                "info": engines.info.get(rt.id, {}), "latency": None,
                "artifact": {"target": art["target"], "artifact_hash": art["artifact_hash"],
                             "bytes": sum(f["bytes"] for f in art["files"].values()),
                             "gzip_bytes": sum(f["gzip_bytes"] for f in art["files"].values())} if art else None,
                "batch_seconds": round(result.seconds, 4),
            }  # fmt: skip
        ran = {rid: row for rid, row in rows.items() if row["status"] == "ran"}
        if reference not in ran:  # nothing can be judged: every runtime is in error
            failure = engines.failures[reference]
            for rid in list(rows):
                if rid != reference and rows[rid]["status"] == "ran":
                    _fail(
                        rows,
                        engines,
                        rid,
                        RuntimeFailure(rid, failure.step, f"the reference {reference} failed"),
                        machine,
                    )
            ran = {}
        ref = np.asarray(ran[reference]["scores"]) if ran else np.zeros(0)
        for rid, row in ran.items():
            cmp = judge(engines, rid, ref, np.asarray(row["scores"]))
            tol = engines.tolerance(rid)
            row["agreement"] = {
                "passed": cmp.passed, "max_abs_diff": cmp.max_abs_diff, "mean_abs_diff": cmp.mean_abs_diff,
                "min_atol": cmp.min_atol, "decision_agreement": cmp.agreement, "atol": tol.atol,
                "required_agreement": tol.agreement, "flips": len(cmp.flips), "reasons": cmp.reasons,
            }  # fmt: skip
            detail = "; ".join(cmp.reasons) or f"agreement {cmp.agreement:.4f}"
            all_gates.append(gates.Gate("agreement", rid, cmp.passed, cmp.max_abs_diff, tol.atol, "", detail))
            all_gates.append(
                gates.accuracy_gate(rid, row["precision"], row["accuracy"], ran[reference]["accuracy"], acc_budget)
            )
        report["worst_cases"] = _worst_cases(reviews, ran, reference)
        report["gates"] = [g.as_dict() for g in all_gates]
        if opts.latency and ran:
            row_ids = _typical_row(ids_by_tok[tokenizers.REFERENCE])
            for rid, row in ran.items():
                _say(f"{rid}: latency")
                budget = gates.latency_budget(rid)
                try:
                    row["latency"] = _latency(engines, rid, row_ids, budget)
                except RuntimeFailed as e:
                    row["latency"] = None
                    row["error"] = {"step": e.failure.step, "message": f"latency: {e.failure.message}"}
                    continue
                row["latency"]["batch_reviews_per_second"] = (
                    round(len(texts) / row.pop("batch_seconds"), 1) if row.get("batch_seconds") else None
                )
                all_gates.extend(gates.latency_gates(rid, row["latency"], budget))
                report["gates"] = [g.as_dict() for g in all_gates]
        for row in rows.values():
            row.pop("batch_seconds", None)
        if opts.golden:
            _say("golden cases")
            all_gates.extend(_golden(b, engines, report, opts.require_all))
        report["environment"]["browser"] = next(
            (i.get("browser") for i in engines.info.values() if i.get("browser")), None
        )
        for rid, row in rows.items():  # one gate per runtime: it ran, or the step and reason it did not
            err = row.get("error")
            detail = f"{err['step']}: {err['message']}" if err else "exported, loaded and ran"
            all_gates.append(gates.Gate("runs", rid, err is None, detail=detail))
    everything = opts.runtimes.strip() in ("all", "matrix")
    targets = {rt.spec.target for rt in selection.runtimes}
    if opts.sizes:
        _say("sizes")  # what the selected runtimes ship (a macOS run of Core ML measures only the .mlpackage)
        budgets = {k: v for k, v in gates.size_budgets().items() if everything or k.partition(":")[2] in targets}
        report["sizes"] = measure_sizes(b, budgets)
        all_gates.extend(
            gates.Gate(
                "size",
                t,
                s["passed"],
                s["gzip_bytes"],
                s["budget_gzip_bytes"],
                "gzip bytes",
                s.get("error", ""),
                evaluated="error" not in s,
            )  # fmt: skip
            for t, s in report["sizes"].items()
        )
    if opts.webapp and (everything or any(rt.spec.platform == "web" for rt in selection.runtimes)):
        _say("web app: build and time to first prediction")
        from harness.app import measure

        try:
            with step("web-app", "run"):
                report["webapp"] = measure.figures(b)
            all_gates.extend(gates.webapp_gates(report["webapp"]))
        except RuntimeFailed as e:  # the app cannot be built or scored with this bundle's export
            report["webapp"] = None
            all_gates.append(gates.Gate("size", "web-app", False, detail=e.failure.line(), evaluated=False))
    for rid, why in selection.unavailable.items():
        all_gates.append(gates.Gate("available", rid, False, detail=why, required=opts.require_all))
    report["gates"] = [g.as_dict() for g in all_gates]
    report["verdict"] = gates.verdict(report["gates"])


def _golden(b: bundle.Bundle, engines: Engines, report: dict[str, Any], require: bool) -> list[gates.Gate]:
    if not golden.expected_path(b).is_file():  # a foreign bundle nobody made a golden file for
        why = f"no golden file for bundle {b.hash[:12]}; create it with `{golden.update_command(b)}`"
        report["golden"] = None
        return [gates.Gate("golden", "suite", False, detail=why, evaluated=False, required=require)]
    expected = golden.load_current(b)
    cases = read_cases(golden.TEXTS)
    known = divergences.load()
    result = golden.check(b, engines, cases, expected, known)
    report["cases"]["golden"] = len(cases)
    report["golden"] = {
        "passed": result.passed, "cases": len(cases), "unused_divergences": result.unused_divergences,
        "findings": [{"kind": f.kind, "runtime": f.runtime, "case_id": f.case_id, "detail": f.detail, "declared": f.declared} for f in result.findings[:200]],
    }  # fmt: skip
    report["divergences"] = [
        {
            "id": d.id,
            "kind": d.kind,
            "runtimes": list(d.runtimes),
            "cases": list(d.cases),
            "input_class": d.input_class,
            "cause": d.cause,
            "link": d.link,
        }
        for d in known
    ]
    out = []
    for subject in [*engines.runtime_ids, *engines.tokenizer_ids]:
        if subject in result.errors:
            out.append(gates.Gate("golden", subject, False, detail=result.errors[subject].line()))
            continue
        bad = [f for f in result.undeclared if f.runtime == subject]
        detail = (
            f"{len(bad)} golden case(s) differ, first {bad[0].case_id}: {bad[0].detail}"
            if bad
            else f"{len(cases)} cases"
        )
        out.append(gates.Gate("golden", subject, not bad, float(len(bad)), 0.0, "cases", detail))
    if result.unused_divergences:
        out.append(
            gates.Gate(
                "golden",
                "known_divergences",
                False,
                detail=f"declared but not seen: {', '.join(result.unused_divergences)}",
            )
        )
    return out


def _worst_cases(
    reviews: list[corpus.Review], rows: dict[str, dict[str, Any]], reference: str, per_runtime: int = 3
) -> list[dict[str, Any]]:
    if reference not in rows:
        return []
    ref = np.asarray(rows[reference]["scores"])
    out: list[dict[str, Any]] = []
    for rid, row in rows.items():
        if rid == reference:
            continue
        scores = np.asarray(row["scores"])
        diff = np.abs(scores - ref)
        for i in np.argsort(-diff)[:per_runtime]:
            r = reviews[int(i)]
            out.append({"runtime": rid, "case_id": r.id, "text": r.text, "reference": float(ref[i]), "score": float(scores[i]),
                        "diff": float(diff[i]), "command": command_for(r.text, [reference, rid])})  # fmt: skip
    return sorted(out, key=lambda w: -float(w["diff"]))[:20]


def new_report(b: bundle.Bundle, kind: str) -> dict[str, Any]:
    env = describe()
    return {
        "schema": SCHEMA, "status": "incomplete", "kind": kind, "started_at": _now(), "finished_at": None, "seconds": None,
        "bundle_hash": b.hash, "bundle_metrics": b.metrics().get("splits", {}), "environment": env, "machines": [env],
        "cases": {}, "runtimes": {}, "unavailable": {}, "gates": [], "sizes": {}, "golden": None, "divergences": [],
        "worst_cases": [], "verdict": "fail",
    }  # fmt: skip


def run(b: bundle.Bundle, opts: Options) -> dict[str, Any]:
    """Build a report; on SIGINT/SIGTERM return what finished, marked incomplete."""
    report = new_report(b, opts.kind)
    started = time.perf_counter()
    with interrupts_as_keyboard():
        try:
            build(b, opts, report)
            report["status"] = "complete"
        except KeyboardInterrupt as e:
            report["status"] = "incomplete"
            report["interrupted_by"] = str(e) or "SIGINT"
            report["verdict"] = "fail"
    report["finished_at"] = _now()
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def run_report(bundle_dir: str | None, selection: str, out: Path | None) -> int:
    if out is not None and out.exists() and not out.is_dir():
        raise HarnessError(f"{out}: --out must be a folder, and this is a file")
    select(selection, with_reference=True)  # unknown ids are refused before anything runs
    b = bundle.load(bundle_dir)
    report = run(b, Options(runtimes=selection))
    target = out or writer.default_out()
    writer.write(report, target)
    summary.print_summary(report, target)
    if report["status"] != "complete":
        return 130
    return 0 if report["verdict"] == "pass" else 1

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

from harness import atomic, bundle, config, corpus, divergences, gates, golden, history, tokenizer_runtimes
from harness.cases import read_cases
from harness.compare_cmd import command_for
from harness.engines import Engines
from harness.environment import describe
from harness.errors import HarnessError
from harness.paths import REPO
from harness.sizes import measure_sizes
from runtimes import registry

SCHEMA = "harness-report/1"
REPORTS = Path(os.environ.get("HARNESS_REPORTS", REPO / "reports"))
HISTORY = REPORTS / "history.jsonl"


@dataclass
class Options:
    runtimes: str = "all"
    latency: bool = True
    golden: bool = True
    sizes: bool = True
    webapp: bool = True
    kind: str = "report"
    require_all: bool = False  # sign-off: a runtime that cannot run here fails unless waived or merged


def select(selection: str) -> tuple[list[Any], dict[str, str]]:
    """Runtimes to run (reference first) and, for those that cannot run here, why."""
    ids = config.matrix() if selection == "all" else [r.id for r in registry.resolve(selection)]
    run, unavailable = [], {}
    for rid in ids:
        try:
            rt = registry.get(rid)
            ok = rt.availability()
        except HarnessError as e:
            unavailable[rid] = str(e)
            continue
        if ok.ok:
            run.append(rt)
        else:
            unavailable[rid] = f"{ok.reason}; {ok.install}"
    if config.REFERENCE not in [r.id for r in run]:
        run.insert(0, registry.get(config.REFERENCE))
    return run, unavailable


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
        samples = session.latency_ms(row, repeats=int(budget.get("repeats", 200)), warmup=int(budget.get("warmup", 20)))
        out["single_ms"] = {**gates.latency_summary(samples), "samples": [round(float(x), 4) for x in samples]}
        out["remeasured"] = attempt > 0
        if out["single_ms"]["p50"] <= budget["p50_ms"] and out["single_ms"]["p95"] <= budget["p95_ms"]:
            break
    return out


def _typical_row(ids: np.ndarray, pad_id: int = 0) -> np.ndarray:
    """A review of median length: what a user typically types."""
    lengths = (ids != pad_id).sum(axis=1)
    return ids[int(np.argsort(lengths)[len(lengths) // 2])]


def build(b: bundle.Bundle, opts: Options, report: dict[str, Any]) -> None:
    """Fill `report` step by step, so an interruption leaves everything finished so far."""
    reviews = bundle.held_out(b)
    texts = [r.text for r in reviews]
    labels = np.asarray([r.label for r in reviews])
    runtimes, unavailable = select(opts.runtimes)
    report["unavailable"] = unavailable
    report["cases"] = {"held_out": len(reviews)}
    threshold = config.threshold()
    tokenizers = tokenizer_runtimes.resolve("all")
    all_gates: list[gates.Gate] = []
    report["gates"] = []
    with Engines(b, [r.id for r in runtimes], tokenizers) as engines:
        ids_by_tok: dict[str, np.ndarray] = {}
        rows: dict[str, dict[str, Any]] = report["runtimes"]
        acc_budget = gates.accuracy_budget()
        for rt in runtimes:
            _say(f"{rt.id}: held-out scores")
            tok, ids = engines.app_ids(rt.id, texts, ids_by_tok)
            result = engines.run(rt.id, ids)
            scores = result.scores
            art = engines.artifacts.get(rt.id)
            rows[rt.id] = {
                "precision": rt.spec.precision, "tokenizer": tok, "machine": report["environment"]["hostname"],
                "scores": [round(float(s), 7) for s in scores],
                "accuracy": round(float(np.mean((scores > threshold) == (labels == 1))), 6),
                "info": engines.info.get(rt.id, {}), "latency": None,
                "artifact": {"target": art["target"], "artifact_hash": art["artifact_hash"],
                             "bytes": sum(f["bytes"] for f in art["files"].values()),
                             "gzip_bytes": sum(f["gzip_bytes"] for f in art["files"].values())} if art else None,
                "batch_seconds": round(result.seconds, 4),
            }  # fmt: skip
        ref = np.asarray(rows["keras"]["scores"])
        for rid, row in rows.items():
            cmp = engines.compare(rid, ref, np.asarray(row["scores"]))
            tol = engines.tolerance(rid)
            row["agreement"] = {
                "passed": cmp.passed, "max_abs_diff": cmp.max_abs_diff, "mean_abs_diff": cmp.mean_abs_diff,
                "min_atol": cmp.min_atol, "decision_agreement": cmp.agreement, "atol": tol.atol,
                "required_agreement": tol.agreement, "flips": len(cmp.flips), "reasons": cmp.reasons,
            }  # fmt: skip
            all_gates.append(
                gates.Gate(
                    "agreement",
                    rid,
                    cmp.passed,
                    cmp.max_abs_diff,
                    tol.atol,
                    "",
                    "; ".join(cmp.reasons) or f"agreement {cmp.agreement:.4f}",
                )
            )
            all_gates.append(
                gates.accuracy_gate(rid, row["precision"], row["accuracy"], rows["keras"]["accuracy"], acc_budget)
            )
        report["worst_cases"] = _worst_cases(reviews, rows)
        report["gates"] = [g.as_dict() for g in all_gates]
        if opts.latency:
            row_ids = _typical_row(ids_by_tok["py"])
            for rid, row in rows.items():
                _say(f"{rid}: latency")
                budget = gates.latency_budget(rid)
                row["latency"] = _latency(engines, rid, row_ids, budget)
                row["latency"]["batch_reviews_per_second"] = (
                    round(len(texts) / row.pop("batch_seconds"), 1) if row.get("batch_seconds") else None
                )
                all_gates.extend(gates.latency_gates(rid, row["latency"], budget))
                report["gates"] = [g.as_dict() for g in all_gates]
        if opts.golden:
            _say("golden cases")
            all_gates.extend(_golden(b, engines, report))
        report["environment"]["browser"] = next(
            (i.get("browser") for i in engines.info.values() if i.get("browser")), None
        )
    everything = opts.runtimes == "all"
    targets = {r.spec.target for r in runtimes}
    if opts.sizes:
        _say("sizes")  # what the selected runtimes ship (a macOS run of Core ML measures only the .mlpackage)
        budgets = {k: v for k, v in gates.size_budgets().items() if everything or k.partition(":")[2] in targets}
        report["sizes"] = measure_sizes(b, budgets)
        all_gates.extend(
            gates.Gate("size", t, s["passed"], s["gzip_bytes"], s["budget_gzip_bytes"], "gzip bytes")
            for t, s in report["sizes"].items()
        )
    if opts.webapp and (everything or any(r.id.startswith("tfjs-") for r in runtimes)):
        _say("web app: build and time to first prediction")
        from harness import webapp

        report["webapp"] = webapp.figures(b)
        all_gates.extend(gates.webapp_gates(report["webapp"]))
    for rid, why in unavailable.items():
        all_gates.append(gates.Gate("available", rid, False, detail=why, required=opts.require_all))
    report["gates"] = [g.as_dict() for g in all_gates]
    report["verdict"] = gates.verdict(report["gates"])


def _golden(b: bundle.Bundle, engines: Engines, report: dict[str, Any]) -> list[gates.Gate]:
    expected = golden.read_expected()
    golden.ensure_current(b, expected)
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
    reviews: list[corpus.Review], rows: dict[str, dict[str, Any]], per_runtime: int = 3
) -> list[dict[str, Any]]:
    ref = np.asarray(rows["keras"]["scores"])
    out: list[dict[str, Any]] = []
    for rid, row in rows.items():
        if rid == "keras":
            continue
        scores = np.asarray(row["scores"])
        diff = np.abs(scores - ref)
        for i in np.argsort(-diff)[:per_runtime]:
            r = reviews[int(i)]
            out.append({"runtime": rid, "case_id": r.id, "text": r.text, "reference": float(ref[i]), "score": float(scores[i]),
                        "diff": float(diff[i]), "command": command_for(r.text, ["keras", rid])})  # fmt: skip
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


def default_out() -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return REPORTS / "runs" / f"{stamp}-{os.getpid()}"


def write(report: dict[str, Any], out: Path, history_path: Path | None = HISTORY) -> Path:
    """report.json, report.html, junit.xml (each atomically), then the history line."""
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(out / "report.json", report)
    from harness import report_html, report_junit

    hist = history.read(history_path) if history_path else []
    current = [history.entry(report)] if history_path else []
    atomic.write_text(out / "report.html", report_html.render(report, hist + current))
    atomic.write_text(out / "junit.xml", report_junit.render(report))
    if history_path:
        history.append(history_path, report)
    _point_latest(out)
    return out


def _point_latest(out: Path) -> None:
    """reports/latest -> the newest run folder, swapped atomically."""
    if not out.resolve().is_relative_to((REPORTS / "runs").resolve()):
        return
    link = REPORTS / "latest"
    tmp = REPORTS / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(out.resolve().relative_to(REPORTS.resolve()))
    if link.exists() and not link.is_symlink():
        return  # a real folder someone made: leave it alone
    os.replace(tmp, link)


def print_summary(report: dict[str, Any], out: Path) -> None:
    print(
        f"{report['kind']} {report['status']}: bundle {report['bundle_hash'][:12]}, {report['cases'].get('held_out', 0)} held-out reviews, {report['seconds']} s"
    )
    trained = report.get("bundle_metrics") or {}
    if trained:  # the bundle's own training record (metrics.json)
        print(
            "  bundle metrics: "
            + ", ".join(f"{split} accuracy {m['accuracy']:.4f} (n={m['n']})" for split, m in trained.items())
        )
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for g in report["gates"]:
        by_subject.setdefault(g["subject"], []).append(g)
    for subject, gs in by_subject.items():
        failed = gates.blocking(gs)
        waived = [g for g in gs if g["waived"]]
        verdict = "FAIL" if failed else "waived" if waived else "pass" if all(g["passed"] for g in gs) else "n/a"
        row = report["runtimes"].get(subject, {})
        extra = ""
        if row:
            lat = (row.get("latency") or {}).get("single_ms") or {}
            extra = f"max|diff| {row['agreement']['max_abs_diff']:.2e}  acc {row['accuracy']:.4f}" + (
                f"  p50 {lat['p50']:.2f} ms  p95 {lat['p95']:.2f} ms" if lat else ""
            )
        why = "; ".join(f"{g['gate']}: {g['detail'] or g['value']}" for g in failed)
        print(f"  {subject:<22} {verdict:<6} {extra}{('  ' + why) if why else ''}")
    print(f"verdict: {report['verdict'].upper()}")
    written = [str(out / n) for n in ("report.json", "report.html", "junit.xml") if (out / n).is_file()]
    print(f"wrote {', '.join(written)}")


def run_report(bundle_dir: str | None, selection: str, out: Path | None) -> int:
    if out is not None and out.exists() and not out.is_dir():
        raise HarnessError(f"{out}: --out must be a folder, and this is a file")
    b = bundle.load(bundle_dir)
    report = run(b, Options(runtimes=selection))
    target = out or default_out()
    write(report, target)
    print_summary(report, target)
    if report["status"] != "complete":
        return 130
    return 0 if report["verdict"] == "pass" else 1

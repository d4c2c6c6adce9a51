"""`harness report`: the held-out split and the golden cases through every runtime, judged
against every gate, written as report.json (+ report.html, junit.xml) and one history line.

The report is built step by step from typed records (harness.results: rows, gates, sizes, ...)
held in a mapping of the Report's fields, so an interruption keeps everything that finished;
it becomes a `Report` (schema harness-report/2) when it is done, which checks it again: a row,
gate or verdict that does not add up fails here, not in a reader.

Reliability: every file is written atomically; SIGINT or SIGTERM mid-run still writes a
report marked "incomplete" holding what finished; the history line is appended whole,
under a lock; each run writes into its own folder unless --out is given.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.check import gates
from harness.check.sizes import measure_sizes
from harness.core import bundle
from harness.core.cases import read_cases
from harness.data import corpus
from harness.report import speed_trends, summary, worst_layers, writer
from harness.report.environment import describe
from harness.report.golden_gates import golden_gates
from harness.report.runtime_rows import agreement_gates, held_out_rows, latency_gates, worst_cases
from harness.results import (
    ERROR_GATE,
    SCHEMA,
    CaseCounts,
    Environment,
    Evidence,
    Gate,
    Report,
    RuntimeRow,
    RuntimeSpecInfo,
    SizeEntry,
    Unavailable,
    WebApp,
)
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.browser.host import BrowserHost
from runtimes.failures import RuntimeFailed, step
from runtimes.selection import Selection, select


@dataclass
class Options:
    runtimes: str = "matrix"
    latency: bool = True
    golden: bool = True
    sizes: bool = True
    webapp: bool = True
    layers: bool = True  # the per-layer view of the worst cases (worst_layers.py)
    kind: str = "report"
    require_all: bool = False  # sign-off: a runtime that cannot run here fails unless waived or merged


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _say(message: str) -> None:
    """Progress on a terminal (or with HARNESS_PROGRESS=1); quiet in CI logs."""
    if sys.stderr.isatty() or os.environ.get("HARNESS_PROGRESS") == "1":
        print(f"… {message}", file=sys.stderr, flush=True)


def build(model_bundle: bundle.Bundle, opts: Options, report: dict[str, Any]) -> None:
    """Fill `report` step by step with typed records, so an interruption leaves everything
    finished so far; `run` validates the whole as a `Report`."""
    selection = select(opts.runtimes, with_reference=True)
    report["reference"] = selection.reference
    report["requested"] = selection.requested
    report["unavailable"] = _unavailable(selection)

    def add(found: list[Gate]) -> None:  # gates land in the report as they are judged
        report["gates"].extend(found)

    def unavailable_gates() -> list[Gate]:
        return [
            Gate.make("available", rid, False, detail=str(m), required=opts.require_all)
            for rid, m in selection.unavailable.items()
        ]

    if not any(rid in selection.ids for rid in selection.requested):  # nothing asked for can run here
        add(unavailable_gates())
        return
    reviews = corpus.held_out(model_bundle)
    report["cases"] = CaseCounts(held_out=len(reviews))
    tokenizer_ids, _ = tokenizers.select("all", model_bundle)

    machine = report["environment"].hostname
    rows: dict[str, RuntimeRow] = report["runtimes"]
    with Engines(model_bundle, selection.runtimes, tokenizer_ids) as engines:
        engines.prepare()
        ids_by_tok: dict[str, np.ndarray] = {}
        held_out_rows(engines, reviews, machine=machine, ids_by_tok=ids_by_tok, rows=rows, on_progress=_say)
        report["evidence"] = Evidence(
            artifacts={r.artifact.target: r.artifact.artifact_hash for r in rows.values() if r.artifact}
        )
        add(agreement_gates(engines, rows, ids_by_tok))
        report["worst_cases"] = worst_cases(reviews, rows, selection.reference)
        if opts.layers:
            worst_layers.attach(engines, report["worst_cases"], rows, on_progress=_say)
        if opts.latency and tokenizers.REFERENCE in ids_by_tok:
            add(latency_gates(engines, rows, ids_by_tok, on_progress=_say))
        if opts.golden:
            _say("golden cases")
            add(golden_gates(model_bundle, engines, report, require=opts.require_all))
    report["environment"].browsers = _browsers()
    for rid, row in rows.items():  # one gate per runtime: it ran, or the step and reason it did not
        detail = row.error.line() if row.error else "exported, loaded and ran"
        add([Gate.make(ERROR_GATE, rid, row.error is None, detail=detail)])
    everything = opts.runtimes.strip() in ("all", "matrix")
    if opts.sizes:
        _say("sizes")  # what the selected runtimes ship (a macOS run of Core ML measures only the .mlpackage)
        targets = {rt.spec.target for rt in selection.runtimes}
        budgets = {k: v for k, v in gates.size_budgets().items() if everything or k.partition(":")[2] in targets}
        sizes = {t: SizeEntry.model_validate(s) for t, s in measure_sizes(model_bundle, budgets).items()}
        report["sizes"] = sizes
        add([_size_gate(target, entry) for target, entry in sizes.items()])
    if opts.webapp and (everything or any(rt.spec.platform == "web" for rt in selection.runtimes)):
        _say("web app: build and time to first prediction")
        add(_webapp(model_bundle, report))
    add(unavailable_gates())


def _size_gate(target: str, entry: SizeEntry) -> Gate:
    return Gate.make(
        "size",
        target,
        entry.passed,
        value=entry.gzip_bytes,
        budget=entry.budget_gzip_bytes,
        unit="gzip bytes",
        detail=entry.error or "",
        evaluated=entry.error is None,
    )


def _unavailable(selection: Selection) -> dict[str, Unavailable]:
    from runtimes import registry

    return {
        rid: Unavailable(
            reason=m.reason, install=m.install, spec=RuntimeSpecInfo.model_validate(registry.spec(rid).describe())
        )
        for rid, m in selection.unavailable.items()
    }


def _browsers() -> dict[str, str]:
    """Engine -> the version each browser this run launched reported."""
    host = BrowserHost.current()
    if host is None:
        return {}
    return {engine: str(d.facts.get("browser", "")) for engine, d in host.drivers.items() if d.facts}


def _webapp(model_bundle: bundle.Bundle, report: dict[str, Any]) -> list[Gate]:
    from harness.app import measure
    from harness.core.tokenizer.kinds import HARNESS

    report["webapp"] = None
    if model_bundle.tokenizer_kind != HARNESS:  # apps/web reads only the harness's own tokenizer.json
        why = (
            f"apps/web ships the harness's own tokenizer and this bundle's is {model_bundle.tokenizer_kind}; "
            "the team's app is measured through its app tokenizer (the js tokenizer runtime)"
        )
        return [Gate.make("size", "web-app", False, detail=why, evaluated=False, required=False)]  # advisory
    try:
        with step("web-app", "run"):
            figures = measure.figures(model_bundle, mobile_runs=1)  # `make bench` visits more often
            figures["calibration"] = _calibration()  # after the visits: the load they ran under
    except RuntimeFailed as e:  # the app cannot be built or scored with this bundle's export
        return [Gate.make("size", "web-app", False, detail=e.failure.line(), evaluated=False)]
    report["webapp"] = WebApp.model_validate(figures)
    return gates.webapp_gates(figures)


def _calibration() -> dict[str, Any]:
    """The calibration kernel's factors now (harness/core/calibration.py), for wall-clock budgets."""
    from harness.core import calibration, speed_policy
    from harness.run import speed

    policy = speed_policy.load()
    cal = calibration.measure(policy.calibration_seconds)
    return speed.scale(policy, cal, absolute=False).record(cal)


def new_report(model_bundle: bundle.Bundle, kind: str) -> dict[str, Any]:
    """The report's fields before anything ran: what an interruption at once would write."""
    env = Environment.model_validate(describe())
    return {
        "schema": SCHEMA,
        "status": "incomplete",
        "kind": kind,
        "started_at": _now(),
        "finished_at": None,
        "seconds": None,
        "bundle_hash": model_bundle.hash,
        "bundle_metrics": model_bundle.metrics().get("splits", {}),
        "reference": "",
        "environment": env,
        "machines": [env],
        "cases": CaseCounts(),
        "runtimes": {},
        "unavailable": {},
        "gates": [],
        "sizes": {},
        "golden": None,
        "divergences": [],
        "worst_cases": [],
    }


def run(model_bundle: bundle.Bundle, opts: Options) -> Report:
    """Build a report; on SIGINT/SIGTERM return what finished, marked incomplete."""
    data = new_report(model_bundle, opts.kind)
    started = time.perf_counter()
    try:
        build(model_bundle, opts, data)
        data["status"] = "complete"
    except KeyboardInterrupt as e:
        data["status"] = "incomplete"
        data["interrupted_by"] = str(e) or "SIGINT"
        _close_interrupted(data)
    data["finished_at"] = _now()
    data["seconds"] = round(time.perf_counter() - started, 2)
    return Report.model_validate(data)


def _close_interrupted(data: dict[str, Any]) -> None:
    """What an interruption left half-made: rows without a judged outcome stay as they are
    (scores only), and an error row keeps its `runs` gate so the report still validates."""
    done = {g.id for g in data["gates"]}
    rows: dict[str, RuntimeRow] = data["runtimes"]
    for rid, row in rows.items():
        if row.error is not None and f"{ERROR_GATE}:{rid}" not in done:
            data["gates"].append(Gate.make(ERROR_GATE, rid, False, detail=row.error.line()))


NOTHING_RAN = "incomplete: no requested runtime ran"


def nothing_ran_line(report: Report) -> str:
    """The one line a report in which no requested runtime ran ends with, naming why."""
    why = "; ".join(f"{rid}: {m.reason}" for rid, m in report.unavailable.items() if rid in report.requested)
    return f"{NOTHING_RAN} ({why})" if why else NOTHING_RAN


def preflight(model_bundle: bundle.Bundle) -> None:
    """What would otherwise fail only after every runtime ran: the golden texts, and a golden
    file of this bundle that is stale (made for another bundle or other texts)."""
    from harness.check import golden

    read_cases(golden.TEXTS)
    if golden.expected_path(model_bundle).is_file():
        golden.load_current(model_bundle)


def run_report(
    bundle_dir: str | None, selection: str, out: Path | None, *, sign: Callable[[Report], Report] | None = None
) -> int:
    """`harness report`: everything is checked (the --out folder, writable and ours, runtime ids, the bundle) before
    any runtime starts; the report goes to its own folder, or --out (see writer). A complete
    report is passed through `sign` when given: the CLI hands in harness.release.signing's, after
    checking the key, so the report layer needs no knowledge of release trust."""
    writer.check_out(out if out is not None else writer.default_out())  # writable, and ours, before measuring
    select(selection, with_reference=True)  # unknown ids are refused before anything runs
    model_bundle = bundle.load(bundle_dir)
    preflight(model_bundle)
    report = run(model_bundle, Options(runtimes=selection))
    report = speed_trends.attach(report, writer.HISTORY)
    if sign is not None and report.status == "complete":
        report = sign(report)
    target = writer.write(report, out or writer.default_out())
    summary.print_summary(report, target)
    if out is not None and target != out:
        print(
            f"harness report: the complete report in {out} is kept; this interrupted run is in {target}",
            file=sys.stderr,
        )
    if report.status != "complete":
        return 130
    if report.verdict == "incomplete":
        print(f"harness report: {nothing_ran_line(report)}", file=sys.stderr)
        return 1
    return 0 if report.verdict == "pass" else 1

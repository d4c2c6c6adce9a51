"""`harness signoff`: the release gate. The full matrix, every gate, the conformance suite
with the sign-off Hypothesis profile; a record a release manager can file.

A runtime that cannot run here (coreml-native on Linux) must be covered by a merged report
from a machine that has it (`--with macos/report.json`) or waived with a recorded reason.
A `--with` report counts only as evidence that adds up (signed by an allowed signer, its
scores and artifacts this bundle's; see evidence.py), and every check that needs no runtime
comes first: the bundle, the --with reports, the runtime ids and every waiver id (against
the gates this run will produce) are refused before anything runs.
Exit 0 only if every required gate passed or was waived.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.check import apple_ops, gates
from harness.core import atomic, bundle
from harness.core.errors import HarnessError
from harness.core.paths import REPO
from harness.release import evidence, merge, signing
from harness.report import build as report
from harness.report import writer
from harness.results import Gate, Report, Waiver
from runtimes import tokenizers
from runtimes.selection import Selection, select

SCHEMA = "harness-signoff/1"


def parse_waivers(ids: list[str], reasons: list[str]) -> dict[str, str]:
    if len(ids) != len(reasons):
        raise HarnessError(f"each --waive needs its own --reason (got {len(ids)} waivers and {len(reasons)} reasons)")
    for i, r in zip(ids, reasons, strict=True):
        if not r.strip():
            raise HarnessError(f"--waive {i}: the reason must not be empty")
    return dict(zip(ids, reasons, strict=True))


def run_suite(runtime_ids: list[str], profile: str, junit: Path) -> dict[str, Any]:
    """The conformance suite in a child pytest, with the given Hypothesis profile."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "cases"),
        "-m",
        "conformance",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        f"--runtimes={','.join(runtime_ids)}",
    ]
    env = {**os.environ, "HARNESS_PROFILE": profile}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    tail = (proc.stdout.strip().splitlines() or [""])[-1]
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if junit.is_file():
        root = ET.parse(junit).getroot()
        suite = root.find("testsuite") if root.tag == "testsuites" else root
        if suite is not None:
            counts = {k: int(suite.get(k, 0)) for k in counts}
    return {"exit_code": proc.returncode, "summary": tail, "junit": junit.name, "profile": profile, **counts}


RUNTIME_GATES = ("agreement", "accuracy", "latency_p50", "latency_p95", "load_time", "throughput", "golden", "runs")
SUITE_GATES = (
    "conformance:suite",
    "golden:suite",
    "golden:known_divergences",
    "size:web-app",
    "first_prediction:web-app",
)


def expected_gates(selection: Selection, others: list[Report]) -> set[str]:
    """Every gate id (and subject) this sign-off can produce, known before anything runs."""
    ids = {f"{kind}:{rid}" for rid in selection.ids for kind in RUNTIME_GATES}
    if apple_ops.SUBJECT in selection.ids:
        ids.add(f"apple_ops:{apple_ops.SUBJECT}")
    ids |= {f"available:{rid}" for rid in selection.unavailable}
    ids |= {f"golden:{tok}" for tok in tokenizers.SPECS}
    ids |= {f"size:{t}" for t in gates.size_budgets()}
    ids |= set(SUITE_GATES)
    for r in others:
        ids |= {g.id for g in r.gates} | {f"{kind}:{rid}" for rid in r.runtimes for kind in RUNTIME_GATES}
    return ids | {i.partition(":")[2] for i in ids}


def check_waivers(waivers: dict[str, str], expected: set[str]) -> None:
    for key in waivers:
        if key not in expected:
            raise HarnessError(
                f"--waive {key}: matches no gate this sign-off produces (ids look like 'available:coreml-native'; "
                "a runtime id waives all its gates)"
            )


def _waive(judged: list[Gate], waivers: dict[str, str]) -> list[dict[str, Any]]:
    """Mark each failing gate a waiver names as waived, with its reason; what signoff.json records."""
    records = []
    for key, reason in waivers.items():
        hits = [g for g in judged if key in (g.id, g.subject)]
        if not hits:
            raise HarnessError(
                f"--waive {key}: matches no gate (ids look like 'available:coreml-native'; a runtime id "
                "waives all its gates)"
            )
        for g in hits:
            if not g.passed:
                g.waived = Waiver(reason=reason)
        records.append({"id": key, "reason": reason, "gates": [g.id for g in hits if g.waived]})
    return records


def run_signoff(
    bundle_dir: str | None,
    out: Path,
    waivers: dict[str, str],
    *,
    with_reports: list[str],
    profile: str,
    runtimes: str,
    allow_unsigned: bool = False,
    key: str | None = None,
    apple_ops_summary: Path | None = None,
) -> int:
    writer.check_out(out)
    if key:
        signing.check_key(key)
    selection = select(runtimes, with_reference=True)
    model_bundle = bundle.load(bundle_dir)
    report.preflight(model_bundle)
    checked = evidence.load_inputs(
        with_reports, model_bundle, allow_unsigned=allow_unsigned
    )  # refused here, before anything runs
    check_waivers(waivers, expected_gates(selection, [r for _, r, _ in checked]))
    rep = report.run(model_bundle, report.Options(runtimes=runtimes, kind="signoff", require_all=True))
    if rep.status != "complete":
        where = writer.write(rep, out)
        print(f"signoff interrupted; partial report in {where}", file=sys.stderr)
        return 130
    if checked:
        rep = merge.merge([(out / "report.json", rep), *((p, r) for p, r, _ in checked)])
        rep = merge.with_inputs(rep, [record for _, _, record in checked])
    here = rep.environment.hostname
    ran_here = [rid for rid, row in rep.runtimes.items() if row.machine == here and row.status == "ran"]
    out.mkdir(parents=True, exist_ok=True)
    suite = run_suite(ran_here, profile, out / "conformance-junit.xml")
    passed = suite["exit_code"] == 0
    judged = [g.model_copy() for g in rep.gates]  # waivers mark these, not the report's own
    judged.append(
        Gate.make(
            "conformance",
            "suite",
            passed,
            value=float(suite["failures"] + suite["errors"]),
            budget=0.0,
            unit="failures",
            detail=f"pytest -m conformance ({profile} profile): {suite['summary']}",
        )
    )
    if apple_ops.SUBJECT in ran_here:  # coreml-ref vouched for by Apple's own op tests (make apple-ops)
        judged.append(apple_ops.gate(apple_ops_summary or apple_ops.SUMMARY))
    waiver_records = _waive(judged, waivers)
    rep = rep.revised(kind="signoff", gates=judged)  # the model's one rule decides, after the waivers
    if key:
        rep = signing.signed(rep, key)
    writer.write(rep, out)
    record = {
        "schema": SCHEMA,
        "verdict": rep.verdict,
        "bundle_hash": rep.bundle_hash,
        "signed_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "by": getpass.getuser(),
        "machines": [m.model_dump(mode="json") for m in rep.machines],
        "tool_versions": rep.environment.tool_versions,
        "artifacts": {row.artifact.target: row.artifact.artifact_hash for row in rep.runtimes.values() if row.artifact},
        "gates": [g.model_dump(mode="json") for g in rep.gates],
        "waivers": waiver_records,
        "conformance_suite": suite,
        "merged_from": rep.merged_from,
        "report": "report.json",
        "allow_unsigned": allow_unsigned,
        "inputs": [r.model_dump(mode="json") for _, _, r in checked],
    }
    atomic.write_json(out / "signoff.json", record)
    for g in rep.blocking_gates():
        print(f"FAIL {g.id}: {g.detail or g.value}")
    for w in waiver_records:
        print(f"waived {w['id']} ({', '.join(w['gates']) or 'nothing failed'}): {w['reason']}")
    for r in checked:
        if not r[2].signed:
            print(f"accepted unsigned (--allow-unsigned): {r[2].file}", file=sys.stderr)
    print(f"signoff {rep.verdict.upper()}: {out / 'signoff.json'}")
    return 0 if rep.verdict == "pass" else 1

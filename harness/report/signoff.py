"""`harness signoff`: the release gate. The full matrix, every gate, the conformance suite
with the sign-off Hypothesis profile; a record a release manager can file.

A runtime that cannot run here (coreml-native on Linux) must be covered by a merged report
from a machine that has it (`--with macos/report.json`) or waived with a recorded reason.
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

from harness.check import gates
from harness.core import atomic, bundle
from harness.core.errors import HarnessError
from harness.core.paths import REPO
from harness.report import build as report
from harness.report import merge, writer
from harness.report.model import Report

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
    cmd = [sys.executable, "-m", "pytest", str(REPO / "cases"), "-m", "conformance", "-q", "-p", "no:cacheprovider",
           f"--junitxml={junit}", f"--runtimes={','.join(runtime_ids)}"]  # fmt: skip
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


def _waive(gate_dicts: list[dict[str, Any]], waivers: dict[str, str]) -> list[dict[str, Any]]:
    records = []
    for key, reason in waivers.items():
        hits = [g for g in gate_dicts if key in (g["id"], g["subject"])]
        if not hits:
            raise HarnessError(
                f"--waive {key}: matches no gate (ids look like 'available:coreml-native'; a runtime id waives all its gates)"
            )
        for g in hits:
            if not g["passed"]:
                g["waived"] = {"reason": reason}
        records.append({"id": key, "reason": reason, "gates": [g["id"] for g in hits if g.get("waived")]})
    return records


def run_signoff(
    bundle_dir: str | None, out: Path, waivers: dict[str, str], with_reports: list[str], profile: str, runtimes: str
) -> int:
    b = bundle.load(bundle_dir)
    others = [(Path(p), merge.load(Path(p))) for p in with_reports]
    rep = report.run(b, report.Options(runtimes=runtimes, kind="signoff", require_all=True))
    if rep.status != "complete":
        writer.write(rep, out)
        print(f"signoff interrupted; partial report in {out}", file=sys.stderr)
        return 130
    if others:
        rep = merge.merge([(out / "report.json", rep), *others])
    data = rep.model_dump(mode="json", by_alias=True)
    data["kind"] = "signoff"
    here = data["environment"]["hostname"]
    ran_here = [rid for rid, row in data["runtimes"].items() if row["machine"] == here and row["status"] == "ran"]
    out.mkdir(parents=True, exist_ok=True)
    suite = run_suite(ran_here, profile, out / "conformance-junit.xml")
    passed = suite["exit_code"] == 0
    data["gates"].append(gates.Gate("conformance", "suite", passed, float(suite["failures"] + suite["errors"]), 0.0, "failures",
                                    f"pytest -m conformance ({profile} profile): {suite['summary']}").as_dict())  # fmt: skip
    waiver_records = _waive(data["gates"], waivers)
    data.pop("verdict", None)  # the model's one rule decides, after the waivers
    rep = Report.model_validate(data)
    writer.write(rep, out)
    record = {
        "schema": SCHEMA, "verdict": rep.verdict, "bundle_hash": rep.bundle_hash,
        "signed_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "by": getpass.getuser(),
        "machines": data["machines"], "tool_versions": data["environment"]["tool_versions"],
        "artifacts": {row.artifact.target: row.artifact.artifact_hash for row in rep.runtimes.values() if row.artifact},
        "gates": [g.model_dump(mode="json") for g in rep.gates], "waivers": waiver_records, "conformance_suite": suite,
        "merged_from": rep.merged_from, "report": "report.json",
    }  # fmt: skip
    atomic.write_json(out / "signoff.json", record)
    for g in rep.blocking_gates():
        print(f"FAIL {g.id}: {g.detail or g.value}")
    for w in waiver_records:
        print(f"waived {w['id']} ({', '.join(w['gates']) or 'nothing failed'}): {w['reason']}")
    print(f"signoff {rep.verdict.upper()}: {out / 'signoff.json'}")
    return 0 if rep.verdict == "pass" else 1

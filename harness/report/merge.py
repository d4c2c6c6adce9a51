"""`harness report merge A.json B.json --out DIR`: one report from several machines.

Only reports of the same bundle hash merge (anything else would compare different models).
A runtime measured on one machine covers its "unavailable" entry on another (e.g. macOS
runs coreml-native, Linux cannot), and the verdict is recomputed over the merged gates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.check.gates import verdict
from harness.core.errors import HarnessError
from harness.report.build import SCHEMA

REQUIRED_KEYS = ("bundle_hash", "runtimes", "gates", "environment")


def load(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarnessError(f"{path}: no such report") from None
    except (OSError, UnicodeDecodeError) as e:
        raise HarnessError(f"{path}: cannot read it as a report ({e.__class__.__name__})") from None
    except json.JSONDecodeError as e:
        raise HarnessError(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise HarnessError(
            f"{path}: not a {SCHEMA} report (schema {report.get('schema') if isinstance(report, dict) else None!r})"
        )
    missing = [k for k in REQUIRED_KEYS if k not in report]
    if missing:
        raise HarnessError(f"{path}: report lacks {', '.join(missing)}")
    return report


def merge(reports: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    if len(reports) < 2:
        raise HarnessError("merge needs at least two reports")
    (first_path, first), *rest = reports
    for path, r in rest:
        if r["bundle_hash"] != first["bundle_hash"]:
            raise HarnessError(
                f"refusing to merge {path} (bundle {r['bundle_hash'][:12]}) with {first_path} (bundle {first['bundle_hash'][:12]}): different models"
            )
    merged = json.loads(json.dumps(first))
    merged["merged_from"] = [str(p) for p, _ in reports]
    merged["machines"] = [m for _, r in reports for m in r.get("machines", [r.get("environment")])]
    merged["status"] = "complete" if all(r.get("status") == "complete" for _, r in reports) else "incomplete"
    for _, r in rest:
        for rid, row in r.get("runtimes", {}).items():
            if rid not in merged["runtimes"]:
                merged["runtimes"][rid] = row
        merged["sizes"] = {**r.get("sizes", {}), **merged.get("sizes", {})}
    measured = set(merged["runtimes"])
    merged["unavailable"] = {
        rid: why for _, r in reports for rid, why in r.get("unavailable", {}).items() if rid not in measured
    }
    gates: dict[str, dict[str, Any]] = {}
    for _, r in reports:
        for g in r.get("gates", []):
            if g["gate"] == "available" and g["subject"] in measured:
                continue  # another machine ran it
            if g["id"] not in gates or not g["passed"]:  # a failure on any machine stays a failure
                gates[g["id"]] = g
    merged["gates"] = list(gates.values())
    merged["verdict"] = verdict(merged["gates"], merged["status"])
    return merged

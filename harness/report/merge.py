"""`harness report merge A.json B.json --out DIR`: one report from several machines.

Only reports of the same bundle hash merge (anything else would compare different models).
A runtime measured on one machine covers its "unavailable" entry on another (e.g. macOS
runs coreml-native, Linux cannot), and the verdict is recomputed over the merged gates by
the report model's one rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.report import schema
from harness.report.model import Report


def load(path: Path) -> Report:
    """A report.json validated against the committed schema; the first problem in one line."""
    return schema.read(path)


def merge(reports: list[tuple[Path, Report]]) -> Report:
    if len(reports) < 2:
        raise HarnessError("merge needs at least two reports")
    (first_path, first), *rest = reports
    for path, r in rest:
        if r.bundle_hash != first.bundle_hash:
            raise HarnessError(
                f"refusing to merge {path} (bundle {r.bundle_hash[:12]}) with {first_path} "
                f"(bundle {first.bundle_hash[:12]}): different models"
            )
    data = [r.model_dump(mode="json", by_alias=True) for _, r in reports]  # plain data, merged, then validated
    merged: dict[str, Any] = {**data[0]}
    merged["merged_from"] = [str(p) for p, _ in reports]
    merged["machines"] = [m for d in data for m in (d["machines"] or [d["environment"]])]
    merged["status"] = "complete" if all(d["status"] == "complete" for d in data) else "incomplete"
    merged["requested"] = list(dict.fromkeys(rid for d in data for rid in d["requested"]))
    merged["runtimes"] = dict(data[0]["runtimes"])
    for d in data[1:]:
        for rid, row in d["runtimes"].items():
            merged["runtimes"].setdefault(rid, row)
        merged["sizes"] = {**d["sizes"], **merged["sizes"]}
    measured = set(merged["runtimes"])
    merged["unavailable"] = {
        rid: why for d in data for rid, why in d["unavailable"].items() if rid not in measured
    }  # fmt: skip
    gates: dict[str, dict[str, Any]] = {}
    for d in data:
        for g in d["gates"]:
            if g["gate"] == "available" and g["subject"] in measured:
                continue  # another machine ran it
            if g["id"] not in gates or not g["passed"]:  # a failure on any machine stays a failure
                gates[g["id"]] = g
    merged["gates"] = list(gates.values())
    merged.pop("verdict", None)  # recomputed from the merged gates
    return Report.model_validate(merged)

"""`harness report merge A.json B.json --out DIR`: one report from several machines.

Only reports of the same bundle hash merge (anything else would compare different models).
A runtime measured on one machine covers its "unavailable" entry on another (e.g. macOS
runs coreml-native, Linux cannot), and the verdict is recomputed over the merged gates by
the report model's one rule. The same report given twice is refused, and so are two reports
of the same runtime that disagree (scores beyond that runtime's tolerance, another artifact).
Before merging, the CLI checks every input as evidence (harness/release/evidence.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from harness.core import config
from harness.core.errors import HarnessError
from harness.report import schema
from harness.report.model import CheckedInput, Report, RuntimeRow


def check_out(out: Path, inputs: list[Path]) -> None:
    """`merge --out` never overwrites an input (nor writes into a folder that is not a report's)."""
    from harness.report import writer

    for p in inputs:
        if p.resolve().parent == out.resolve() or p.resolve() == out.resolve():
            raise HarnessError(
                f"--out {out}: {p} is one of the inputs; refusing to overwrite it (choose another --out)"
            )
    writer.check_out(out)


def with_inputs(report: Report, records: list[CheckedInput]) -> Report:
    """The merged report with the inputs as they were checked recorded in its evidence."""
    data = report.model_dump(mode="json", by_alias=True)
    evidence = data.get("evidence") or {}
    evidence["inputs"] = [r.model_dump(mode="json") for r in records]
    data["evidence"] = evidence
    data.pop("verdict", None)
    return Report.model_validate(data)


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
    _refuse_repeats_and_disagreements(reports)
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
    merged["unavailable"] = {rid: why for d in data for rid, why in d["unavailable"].items() if rid not in measured}
    gates: dict[str, dict[str, Any]] = {}
    for d in data:
        for g in d["gates"]:
            if g["gate"] == "available" and g["subject"] in measured:
                continue  # another machine ran it
            if g["id"] not in gates or not g["passed"]:  # a failure on any machine stays a failure
                gates[g["id"]] = g
    merged["gates"] = list(gates.values())
    merged["evidence"] = _merged_evidence(data)
    merged["signature"] = None  # a merge is a new document: sign it with `report merge --sign`
    merged.pop("verdict", None)  # recomputed from the merged gates
    return Report.model_validate(merged)


def _refuse_repeats_and_disagreements(reports: list[tuple[Path, Report]]) -> None:
    seen: dict[str, Path] = {}
    rows: dict[str, tuple[Path, RuntimeRow]] = {}
    for path, r in reports:
        key = schema.dumps(r)
        if key in seen:
            raise HarnessError(f"refusing to merge {path}: the same report as {seen[key]}, given twice")
        seen[key] = path
        for rid, row in r.runtimes.items():
            if rid in rows:
                why = disagreement(rid, rows[rid][1], row)
                if why:
                    raise HarnessError(f"refusing to merge: {rid} in {rows[rid][0]} and in {path} disagree ({why})")
            else:
                rows[rid] = (path, row)


def disagreement(rid: str, a: RuntimeRow, b: RuntimeRow) -> str:
    """Why two results of the same runtime cannot both be true ("" if they can)."""
    if a.status != b.status:
        return f"one {a.status}, the other {b.status}"
    if a.artifact and b.artifact and a.artifact.artifact_hash != b.artifact.artifact_hash:
        return f"artifacts {a.artifact.artifact_hash[:12]} and {b.artifact.artifact_hash[:12]}"
    if a.scores is None or b.scores is None:
        return ""
    x = np.asarray([np.nan if v is None else v for v in a.scores], dtype=np.float64)
    y = np.asarray([np.nan if v is None else v for v in b.scores], dtype=np.float64)
    if x.shape != y.shape:
        return f"{len(x)} and {len(y)} held-out scores"
    atol = config.tolerance(rid, a.spec.precision).atol
    diff = np.where(np.isfinite(x) & np.isfinite(y), np.abs(x - y), np.where(np.isnan(x) & np.isnan(y), 0.0, np.inf))
    if diff.size and float(diff.max()) > atol:
        i = int(diff.argmax())
        return f"held-out case {i}: {a.scores[i]} vs {b.scores[i]}, more than its atol {atol:g}"
    return ""


def _merged_evidence(data: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Every input's evidence in one block; the first one's golden cases (they must all match)."""
    found = [d["evidence"] for d in data if d.get("evidence")]
    if not found:
        return None
    out: dict[str, Any] = {
        "golden_cases": [],
        "golden_texts_sha256": None,
        "golden_scores": {},
        "golden_ids_sha256": {},
        "artifacts": {},
        "inputs": [],
    }
    for ev in found:
        if ev["golden_cases"]:
            if out["golden_cases"] and ev["golden_cases"] != out["golden_cases"]:
                raise HarnessError("refusing to merge: the reports were made with different golden cases")
            out["golden_cases"], out["golden_texts_sha256"] = ev["golden_cases"], ev["golden_texts_sha256"]
        for key in ("golden_scores", "golden_ids_sha256", "artifacts"):
            for k, v in ev[key].items():
                if key == "artifacts" and out[key].get(k, v) != v:
                    raise HarnessError(f"refusing to merge: two different {k} artifacts ({out[key][k][:12]}, {v[:12]})")
                out[key].setdefault(k, v)
        out["inputs"] += ev.get("inputs", [])
    return out

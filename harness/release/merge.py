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

import numpy as np

from harness.core import config
from harness.core.errors import HarnessError
from harness.report import schema
from harness.results import CheckedInput, Evidence, Gate, Report, RuntimeRow


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
    evidence = (report.evidence or Evidence()).model_copy(update={"inputs": list(records)})
    return report.revised(evidence=evidence)


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
    measured_somewhere = [r for _, r in reports]
    runtimes = dict(first.runtimes)
    sizes = dict(first.sizes)
    for r in measured_somewhere[1:]:
        for rid, row in r.runtimes.items():
            runtimes.setdefault(rid, row)
        sizes = {**r.sizes, **sizes}
    gates: dict[str, Gate] = {}
    for r in measured_somewhere:
        for g in r.gates:
            if g.gate == "available" and g.subject in runtimes:
                continue  # another machine ran it
            if g.id not in gates or not g.passed:  # a failure on any machine stays a failure
                gates[g.id] = g
    return first.revised(  # the verdict is recomputed from the merged gates
        merged_from=[str(p) for p, _ in reports],
        machines=[m for r in measured_somewhere for m in r.all_machines()],
        status="complete" if all(r.status == "complete" for r in measured_somewhere) else "incomplete",
        requested=list(dict.fromkeys(rid for r in measured_somewhere for rid in r.requested)),
        runtimes=runtimes,
        sizes=sizes,
        unavailable={rid: why for r in measured_somewhere for rid, why in r.unavailable.items() if rid not in runtimes},
        gates=list(gates.values()),
        evidence=_merged_evidence(measured_somewhere),
        signature=None,  # a merge is a new document: sign it with `report merge --sign`
    )


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


def _merged_evidence(reports: list[Report]) -> Evidence | None:
    """Every input's evidence in one block; the first one's golden cases (they must all match)."""
    found = [r.evidence for r in reports if r.evidence is not None]
    if not found:
        return None
    out = Evidence()
    for ev in found:
        if ev.golden_cases:
            if out.golden_cases and ev.golden_cases != out.golden_cases:
                raise HarnessError("refusing to merge: the reports were made with different golden cases")
            out.golden_cases, out.golden_texts_sha256 = ev.golden_cases, ev.golden_texts_sha256
        for rid, scores in ev.golden_scores.items():
            out.golden_scores.setdefault(rid, scores)
        for tok, digest in ev.golden_ids_sha256.items():
            out.golden_ids_sha256.setdefault(tok, digest)
        for target, artifact_hash in ev.artifacts.items():
            earlier = out.artifacts.setdefault(target, artifact_hash)
            if earlier != artifact_hash:
                raise HarnessError(
                    f"refusing to merge: two different {target} artifacts ({earlier[:12]}, {artifact_hash[:12]})"
                )
        out.inputs += ev.inputs
    return out

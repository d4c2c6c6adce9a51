"""The report's golden section: every runtime and tokenizer against the bundle's golden file."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.check import divergences, gates, golden
from harness.core import float16_ids
from harness.core.bundle import Bundle
from harness.core.cases import read_cases
from harness.results import Evidence, Gate, GoldenSummary
from harness.run.engines import Engines


def golden_gates(model_bundle: Bundle, engines: Engines, report: dict[str, Any], *, require: bool) -> list[Gate]:
    """One golden gate per runtime and tokenizer; not evaluated (with the reason) for a bundle
    that has no golden file of its own."""
    if not golden.expected_path(model_bundle).is_file():
        command = golden.update_command(model_bundle)
        why = f"no golden file for bundle {model_bundle.hash[:12]}; create it with `{command}`"
        report["golden"] = None
        return [Gate.make("golden", "suite", False, detail=why, evaluated=False, required=require)]
    expected = golden.load_current(model_bundle)
    cases = read_cases(golden.TEXTS)
    known = divergences.load()
    result = golden.check(model_bundle, engines, cases, expected=expected, known=known)
    report["cases"].golden = len(cases)
    evidence = report.get("evidence") or Evidence()
    report["evidence"] = evidence.model_copy(
        update={
            "golden_cases": [c.id for c in cases],
            "golden_texts_sha256": golden.texts_hash(golden.TEXTS),
            "golden_scores": {rid: [float(x) for x in s] for rid, s in result.scores.items()},
            "golden_ids_sha256": dict(result.ids_sha256),
        }
    )
    report["golden"] = GoldenSummary(
        passed=result.passed,
        cases=len(cases),
        unused_divergences=result.unused_divergences,
        findings=result.findings[:200],
    )
    report["divergences"] = [d.record() for d in known]
    out = []
    for subject in [*engines.runtime_ids, *engines.tokenizer_ids]:
        if subject in result.errors:
            out.append(Gate.make("golden", subject, False, detail=result.errors[subject].line()))
            continue
        bad = [f for f in result.undeclared if f.runtime == subject]
        detail = (
            f"{len(bad)} golden case(s) differ, first {bad[0].case_id}: {bad[0].detail}"
            if bad
            else f"{len(cases)} cases"
        )
        gate = Gate.make("golden", subject, not bad, value=float(len(bad)), budget=0.0, unit="cases", detail=detail)
        spec = engines.runtimes[subject].spec if subject in engines.runtimes else None
        if bad and spec is not None and spec.options.get("float16_ids"):  # webgl16: say which ids did it
            rounded = sum(bool(float16_ids.rounded(np.asarray(expected.ids[f.case_id])).any()) for f in bad)
            gate.detail = (
                f"cause: {rounded} of the {len(bad)} hold ids above {float16_ids.EXACT_MAX} rounded before "
                f"the lookup (float16 textures); {gate.detail}"
            )
        why = gates.advisory(subject)
        if why:
            gate.required, gate.detail = False, f"{gate.detail}; advisory: {why}"
        out.append(gate)
    if result.unused_divergences:
        unused = ", ".join(result.unused_divergences)
        out.append(Gate.make("golden", "known_divergences", False, detail=f"declared but not seen: {unused}"))
    return out

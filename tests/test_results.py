"""The results layer (harness/results/): each record defined once, checked when the report
that holds it is validated, and a report revised through the model decides its verdict again."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from pydantic import ValidationError
from report_sample import synthetic_report

from harness.core.paths import REPO
from harness.results import Gate, Report, Waiver

CLASS = re.compile(r"^class (\w+)", re.MULTILINE)  # module-level classes


def test_no_class_is_defined_twice_under_one_name() -> None:
    """Two classes with one name in harness/ or runtimes/ are twins (or a name that does not say
    how they differ): the reader cannot tell from a name which one a module means."""
    where: dict[str, list[str]] = defaultdict(list)
    for root in ("harness", "runtimes"):
        for path in sorted((REPO / root).rglob("*.py")):
            for name in CLASS.findall(path.read_text(encoding="utf-8")):
                where[name].append(str(Path(path).relative_to(REPO)))
    twins = {name: paths for name, paths in where.items() if len(paths) > 1}
    assert not twins, twins


def test_a_record_filled_in_after_it_was_made_is_checked_with_the_report() -> None:
    report = synthetic_report()
    data = {name: value for name, value in report if name != "verdict"}
    data["gates"][0].value = "fast"  # assignment is not validated; the report that holds the gate is
    data["runtimes"]["keras"].status = "finished"
    with pytest.raises(ValidationError) as raised:
        Report.model_validate(data)
    wrong = {".".join(str(p) for p in e["loc"]) for e in raised.value.errors()}
    assert {"gates.0.value", "runtimes.keras.status"} <= wrong, wrong


def test_gate_make_takes_its_figures_by_keyword_and_derives_the_id() -> None:
    gate = Gate.make("latency_p50", "tfjs-wasm", False, value=3.5, budget=2.0, unit="ms", detail="slow")
    assert (gate.id, gate.value, gate.budget, gate.state) == ("latency_p50:tfjs-wasm", 3.5, 2.0, "fail")
    with pytest.raises(TypeError):
        Gate.make("latency_p50", "tfjs-wasm", False, 3.5)  # type: ignore[misc]


def test_a_revised_report_decides_its_verdict_again() -> None:
    report = synthetic_report()
    assert report.verdict == "fail" and report.blocking_gates()
    waived = [g.model_copy(update={"waived": Waiver(reason="release note")}) if g.blocking else g for g in report.gates]
    revised = report.revised(gates=waived)
    assert revised.verdict == "pass" and not revised.blocking_gates()
    assert report.verdict == "fail"  # the original is untouched
    interrupted = report.revised(status="incomplete", interrupted_by="SIGINT")
    assert interrupted.verdict == "incomplete"

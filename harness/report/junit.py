"""junit.xml: the report's gates as JUnit test cases, for CI dashboards (Jenkins, GitLab, GitHub).

One <testsuite> per subject (a runtime, a size target, the suite), one <testcase> per gate:
classname `harness.<subject>`, name = the gate kind. A required failing gate is a <failure>
with the value, the budget and the detail (a gate that could not be evaluated too: it did
not pass); a runtime that could not export, load or run a model (its `runs` gate) is an
<error>, since the test could not run at all; a waived gate, a failing advisory gate and a
runtime that could not run here are <skipped> with the reason, so nothing disappears
silently. An incomplete report adds one <error> case, so a CI page never shows it green.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from harness.report.fmt import clean
from harness.results import ERROR_GATE, Gate, Report, RuntimeRow


def render(report: Report) -> str:
    suites: dict[str, list[ET.Element]] = {}
    for g in report.gates:
        suites.setdefault(g.subject, []).append(_case(g, report.runtimes.get(g.subject)))
    covered = {g.subject for g in report.gates if g.gate == "available"}
    for rid, missing in report.unavailable.items():
        if rid not in covered:
            case = _element("testcase", classname=f"harness.{rid}", name="available", time="0")
            why = "; ".join(x for x in (missing.reason, missing.install) if x)
            _element("skipped", case, message=f"not run on this machine: {why}")
            suites.setdefault(rid, []).append(case)
    if report.status == "incomplete":
        why = report.interrupted_by or "interrupted"
        suites.setdefault("report", []).append(
            _error_case("complete", f"report incomplete: the run stopped ({why}) before it finished")
        )
    elif report.verdict == "incomplete":
        asked = ", ".join(report.requested) or "none"
        suites.setdefault("report", []).append(
            _error_case("requested", f"incomplete: no requested runtime ran ({asked})")
        )

    root = _element("testsuites", name=f"harness {report.kind}")
    stamp = (report.finished_at or report.started_at).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for subject, cases in suites.items():
        suite = _element("testsuite", root, name=subject, timestamp=stamp, hostname=report.environment.hostname)
        props = _element("properties", suite)
        for key, value in (("bundle_hash", report.bundle_hash), ("status", report.status), ("verdict", report.verdict)):
            _element("property", props, name=key, value=value)
        suite.extend(cases)
        _count(suite, cases)
        suite.set("time", "0")
    _count(root, [c for s in root for c in s if c.tag == "testcase"])
    root.set("time", f"{report.seconds:.3f}" if report.seconds is not None else "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(g: Gate, row: RuntimeRow | None) -> ET.Element:
    case = _element("testcase", classname=f"harness.{g.subject}", name=g.gate, time="0")
    unit = f" {g.unit}" if g.unit else ""
    measured = ", ".join(f"{k} {v}{unit}" for k, v in (("value", g.value), ("budget", g.budget)) if v is not None)
    detail = g.detail if g.evaluated else f"not evaluated: {g.detail}"
    if g.waived is not None:
        _element("skipped", case, message=f"waived: {g.waived.reason}")
    elif not g.passed and not g.required:
        _element("skipped", case, message=f"advisory gate failed (not required): {detail or measured}")
    elif not g.passed and g.gate == ERROR_GATE:
        error = row.error if row is not None else None
        message = error.line() if error else detail or "the runtime did not run"
        _element("error", case, message=message, type=error.step if error else "run")
    elif not g.passed:
        failure = _element("failure", case, message=detail or measured or "failed", type=g.gate)
        failure.text = clean("\n".join(x for x in (g.id, measured, detail) if x))
    if (measured or detail) and g.waived is None:
        out = _element("system-out", case)
        out.text = clean("; ".join(x for x in (measured, detail) if x))
    return case


def _error_case(name: str, message: str) -> ET.Element:
    case = _element("testcase", classname="harness.report", name=name, time="0")
    _element("error", case, message=message, type="incomplete")
    return case


def _element(tag: str, parent: ET.Element | None = None, **attrs: str) -> ET.Element:
    clean_attrs = {k: clean(v) for k, v in attrs.items()}
    return ET.SubElement(parent, tag, clean_attrs) if parent is not None else ET.Element(tag, clean_attrs)


def _count(node: ET.Element, cases: list[ET.Element]) -> None:
    node.set("tests", str(len(cases)))
    for attr, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        node.set(attr, str(sum(1 for c in cases if c.find(tag) is not None)))

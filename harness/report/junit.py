"""junit.xml: the report's gates as JUnit test cases, for CI dashboards (Jenkins, GitLab, GitHub).

One <testsuite> per subject (a runtime, a size target, the suite), one <testcase> per gate:
classname `harness.<subject>`, name = the gate kind. A required failing gate is a <failure>
with the value, the budget and the detail; a waived gate, a failing advisory gate and a
runtime that could not run here are <skipped> with the reason, so nothing disappears
silently. An incomplete report adds one <error> case, so a CI page never shows it green.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from harness.report.svg import clean, finite


def render(report: dict[str, Any]) -> str:
    r = report if isinstance(report, dict) else {}
    env: dict[str, Any] = r["environment"] if isinstance(r.get("environment"), dict) else {}
    suites: dict[str, list[ET.Element]] = {}
    gates = [g for g in (r.get("gates") or []) if isinstance(g, dict)]
    for g in gates:
        subject = str(g.get("subject") or "report")
        suites.setdefault(subject, []).append(_case(subject, str(g.get("gate") or g.get("id") or "gate"), g))
    covered = {str(g.get("subject")) for g in gates if g.get("gate") == "available"}
    unavailable: dict[str, Any] = r["unavailable"] if isinstance(r.get("unavailable"), dict) else {}
    for rid, why in unavailable.items():
        if rid not in covered:
            case = _element("testcase", classname=f"harness.{rid}", name="available", time="0")
            _element("skipped", case, message=f"not run on this machine: {why}")
            suites.setdefault(rid, []).append(case)
    if r.get("status") == "incomplete":
        case = _element("testcase", classname="harness.report", name="complete", time="0")
        _element(
            "error",
            case,
            message=f"report incomplete: the run stopped ({r.get('interrupted_by') or 'interrupted'}) before it finished",
            type="incomplete",
        )
        suites.setdefault("report", []).append(case)

    root = _element("testsuites", name=f"harness {r.get('kind') or 'report'}")
    stamp = _timestamp(r.get("finished_at") or r.get("started_at"))
    for subject, cases in suites.items():
        suite = _element("testsuite", root, name=subject, timestamp=stamp, hostname=str(env.get("hostname") or ""))
        props = _element("properties", suite)
        for key in ("bundle_hash", "status", "verdict"):
            _element("property", props, name=key, value=str(r.get(key)))
        suite.extend(cases)
        _count(suite, cases)
        suite.set("time", "0")
    _count(root, [c for s in root for c in s if c.tag == "testcase"])
    root.set("time", f"{float(r['seconds']):.3f}" if finite(r.get("seconds")) else "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(subject: str, gate: str, g: dict[str, Any]) -> ET.Element:
    case = _element("testcase", classname=f"harness.{subject}", name=gate, time="0")
    unit = f" {g['unit']}" if g.get("unit") else ""
    measured = ", ".join(f"{key} {g[key]}{unit}" for key in ("value", "budget") if g.get(key) is not None)
    detail = str(g.get("detail") or "")
    waived: dict[str, Any] | None = g["waived"] if isinstance(g.get("waived"), dict) else None
    if waived:
        _element("skipped", case, message=f"waived: {waived.get('reason', '')}")
    elif g.get("passed") is False and g.get("required", True) is False:
        _element("skipped", case, message=f"advisory gate failed (not required): {detail or measured}")
    elif g.get("passed") is False:
        failure = _element("failure", case, message=detail or measured or "failed", type=gate)
        failure.text = clean("\n".join(x for x in (str(g.get("id") or ""), measured, detail) if x))
    elif g.get("passed") is not True:
        _element("skipped", case, message="not judged in this run")
    if (measured or detail) and not waived:
        out = _element("system-out", case)
        out.text = clean("; ".join(x for x in (measured, detail) if x))
    return case


def _element(tag: str, parent: ET.Element | None = None, **attrs: str) -> ET.Element:
    clean_attrs = {k: clean(v) for k, v in attrs.items()}
    return ET.SubElement(parent, tag, clean_attrs) if parent is not None else ET.Element(tag, clean_attrs)


def _count(node: ET.Element, cases: list[ET.Element]) -> None:
    node.set("tests", str(len(cases)))
    for attr, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        node.set(attr, str(sum(1 for c in cases if c.find(tag) is not None)))


def _timestamp(ts: Any) -> str:
    """JUnit's schema wants a timestamp without zone (ISO 8601, UTC here)."""
    try:
        when = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    except ValueError:
        when = datetime.now(UTC)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")

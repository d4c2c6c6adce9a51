"""The sign-off's word on coreml-ref: the summary of the latest full replay of Apple's MIL op
tests (`make apple-ops`), judged as a gate.

coreml-ref stands in for Core ML on Linux, so a release that trusts it needs Apple's oracle
to have passed for the very code and coremltools that the release runs: the replay records
both (a fingerprint of runtimes/coreml_ref's sources and the coremltools version), and a
summary made for other code, a partial one or a sample is not that evidence.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from harness.core import json_reader
from harness.core.errors import HarnessError
from harness.core.paths import REPO
from harness.core.versions import dist_version
from harness.results import Gate

SUMMARY = REPO / "reports" / "apple-ops" / "summary.json"
SOURCES = REPO / "runtimes" / "coreml_ref"
SUBJECT = "coreml-ref"
HOW = "run `make apple-ops` (the full replay) on this checkout"


def fingerprint(sources: Path = SOURCES) -> str:
    """sha256 over coreml-ref's Python sources (path and bytes, in path order)."""
    digest = hashlib.sha256()
    for path in sorted(sources.rglob("*.py")):
        digest.update(path.relative_to(sources).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def provenance(sample: bool) -> dict[str, Any]:
    """What a replay summary records about what it checked (written by tests/apple_ops/replay.py)."""
    return {"coreml_ref_sha256": fingerprint(), "coremltools": dist_version("coremltools"), "sample": sample}


def gate(summary: Path = SUMMARY) -> Gate:
    def fail(detail: str) -> Gate:
        return Gate.make("apple_ops", SUBJECT, False, budget=0.0, unit="mismatches", detail=detail)

    if not summary.is_file():
        return fail(f"no replay summary at {summary}; {HOW}")
    try:
        data = json_reader.read_file(summary, "replay summary")
        totals = data["totals"]
        bad = sum(int(t["mismatched"]) + int(t["error"]) for t in totals.values())
        passed = sum(int(t["passed"]) for t in totals.values())
    except HarnessError as e:
        return fail(f"{e}; {HOW}")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return fail(f"{summary}: not a replay summary ({type(e).__name__}: {e}); {HOW}")
    if data.get("interrupted"):
        return fail(f"{summary}: the replay was interrupted (partial summary); {HOW}")
    if data.get("sample", True):
        return fail(f"{summary}: a sample or partial replay, not the full one; {HOW}")
    here = provenance(sample=False)
    for key, what in (("coreml_ref_sha256", "coreml-ref sources"), ("coremltools", "coremltools")):
        if data.get(key) != here[key]:
            return fail(f"{summary}: made for other {what} ({str(data.get(key))[:12]}, here {here[key][:12]}); {HOW}")
    detail = f"{passed} of Apple's op test cases passed (fp16 + fp32), {bad} mismatched or errors"
    return Gate.make("apple_ops", SUBJECT, bad == 0, value=float(bad), budget=0.0, unit="mismatches", detail=detail)

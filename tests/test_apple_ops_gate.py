"""The sign-off's apple_ops gate: only a complete, full replay made for this coreml-ref and this
coremltools vouches for coreml-ref; anything else fails with what to run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.check import apple_ops
from harness.release.signoff import expected_gates
from runtimes.selection import select


def summary(tmp_path: Path, **changes: Any) -> Path:
    data = {
        "totals": {"fp16": {"passed": 4311, "mismatched": 0, "error": 0}, "fp32": {"passed": 4317, "mismatched": 0, "error": 0}},
        "interrupted": False,
        **apple_ops.provenance(sample=False),
        **changes,
    }  # fmt: skip
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(data))
    return path


def test_a_full_replay_of_this_code_passes(tmp_path: Path) -> None:
    g = apple_ops.gate(summary(tmp_path))
    assert g.passed and g.id == "apple_ops:coreml-ref" and g.value == 0
    assert "8628 of Apple's op test cases passed" in g.detail


def test_a_mismatch_fails(tmp_path: Path) -> None:
    totals = {"fp16": {"passed": 10, "mismatched": 1, "error": 0}}
    g = apple_ops.gate(summary(tmp_path, totals=totals))
    assert not g.passed and g.value == 1


def test_what_is_not_the_evidence_fails_with_what_to_run(tmp_path: Path) -> None:
    cases = {
        "no replay summary": None,
        "interrupted": {"interrupted": True},
        "a sample or partial replay": {"sample": True},
        "made for other coreml-ref sources": {"coreml_ref_sha256": "0" * 64},
        "made for other coremltools": {"coremltools": "8.3"},
        "not a replay summary": {"totals": []},
    }
    for words, changes in cases.items():
        path = tmp_path / "absent.json" if changes is None else summary(tmp_path, **changes)
        g = apple_ops.gate(path)
        assert not g.passed and words in g.detail and "make apple-ops" in g.detail, (words, g.detail)


def test_the_fingerprint_follows_the_sources(tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "a.py").write_text("x = 1\n")
    before = apple_ops.fingerprint(tmp_path)
    (tmp_path / "ops" / "a.py").write_text("x = 2\n")
    assert apple_ops.fingerprint(tmp_path) != before


def test_a_signoff_with_coreml_ref_can_waive_the_gate_by_id() -> None:
    assert "apple_ops:coreml-ref" in expected_gates(select("keras,coreml-ref", with_reference=True), [])
    assert "apple_ops:coreml-ref" not in expected_gates(select("keras", with_reference=True), [])

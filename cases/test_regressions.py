"""Replays golden/regressions.jsonl: every input a property test ever shrunk to."""

from __future__ import annotations

import json

import pytest

from harness.check import properties

from .conftest import REGRESSIONS


def _entries() -> list:
    if not REGRESSIONS.is_file():
        return [pytest.param(None, id="no-regressions-yet")]
    rows = [json.loads(line) for line in REGRESSIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [pytest.param(r, id=r["id"]) for r in rows] or [pytest.param(None, id="no-regressions-yet")]


@pytest.mark.parametrize("entry", _entries())
def test_regression_replays(engines, entry):
    if entry is None:
        assert not REGRESSIONS.exists() or not REGRESSIONS.read_text().strip()
        return
    texts = [entry["text"]]
    found = properties.tokenizer_disagreements(engines, texts) + properties.pipeline_disagreements(engines, texts)
    assert not found, properties.report(found)

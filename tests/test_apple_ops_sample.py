"""Apple's own MIL op tests, the fixed sample (tests/apple_ops/sample.txt), replayed against coreml-ref.

Every sampled case passed when the sample was made (one per op and precision, see
tests/apple_ops/sample.py), so any mismatch, evaluator error or new refusal fails this test.
The full replay is `python -m tests.apple_ops.replay` (its own make target: it takes far longer).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.apple_ops import sample

pytestmark = [pytest.mark.coreml, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


def test_apple_op_test_sample_passes_in_coreml_ref(tmp_path):
    pytest.importorskip("coremltools")
    pytest.importorskip("PIL", reason="the op tests' utilities import Pillow (make setup installs it)")
    summary = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.apple_ops.replay", "--sample", "--summary", str(summary)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    tail = (proc.stdout[-4000:] + proc.stderr[-2000:]).strip()
    assert summary.is_file(), tail
    data = json.loads(summary.read_text())
    passed = {c["test"].split("#")[0] for c in data["cases"] if c["status"] == "passed"}
    missing = [t for t in sample.read() if t not in passed]
    assert not missing, f"{len(missing)} sampled cases no longer pass, e.g. {missing[:3]}\n{tail}"
    assert proc.returncode == 0, tail

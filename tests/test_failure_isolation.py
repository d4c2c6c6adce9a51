"""One runtime that cannot run a model is that runtime's result, never the end of the command.

The model here is a real one the converters refuse: a Dense layer with exact gelu becomes the
TF op Erfc, which neither tensorflowjs 4.22 nor coremltools 9.0 converts, while Keras runs it.
Every command that runs several runtimes must print the others' results, name the failing
runtime with its step in one line, and exit 1. Both refusals are declared engine limitations
(golden/known_limitations.toml: tfjs-erfc, coreml-erfc), so every view shows the limitation,
its cause and its workaround rather than a bare error; the report keeps the engine's own words.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.core.paths import REPO

pytestmark = [pytest.mark.browser, pytest.mark.coreml, pytest.mark.slow]
RUNTIMES = "keras,tfjs-wasm,coreml-ref"
FAILING = ("tfjs-wasm", "coreml-ref")
LIMITATION = {"tfjs-wasm": "tfjs-erfc", "coreml-ref": "coreml-erfc"}


@pytest.fixture(scope="module")
def gelu_bundle(tmp_path_factory) -> Path:
    from runtimes.frameworks import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(3)
    inputs = keras.Input(shape=(48,), dtype="int32")
    x = keras.layers.Embedding(8930, 8)(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dense(8, activation="gelu")(x)  # exact gelu: the TF op Erfc
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    folder = tmp_path_factory.mktemp("gelu")
    model.save(folder / "gelu.keras")
    out = folder / "bundle"
    assert main(["bundle", "--model", str(folder / "gelu.keras"), "--out", str(out)]) == 0
    return out


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _failure_lines(err: str, command: str) -> dict[str, str]:
    lines = [line for line in err.splitlines() if line.startswith(f"harness {command}: ") and ": export: " in line]
    return {line.split(": ")[1]: line for line in lines}


def test_predict_prints_the_others_and_one_line_per_failure(gelu_bundle, capsys):
    code, out, err = _run(
        capsys, "predict", "--bundle", str(gelu_bundle), "--runtimes", RUNTIMES, "a witty film", "dull"
    )
    assert code == 1, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["arg-1", "arg-2"]
    for row in rows:
        assert set(row["scores"]) == {"keras"} and 0.0 <= row["scores"]["keras"] <= 1.0
        assert set(row["errors"]) == set(FAILING)
        assert row["errors"]["tfjs-wasm"].startswith(
            "export: known limitation tfjs-erfc: tensorflowjs 4.22.0 lacks TF op Erfc"
        )
        assert row["errors"]["coreml-ref"].startswith(
            "export: known limitation coreml-erfc: coremltools 9.0 lacks TF op Erfc"
        )
        assert all("Workaround: gelu with approximate=True" in row["errors"][rid] for rid in FAILING)
        assert all("\n" not in why for why in row["errors"].values())
    assert set(_failure_lines(err, "predict")) == set(FAILING)
    assert "Traceback" not in err


def test_compare_shows_error_rows_beside_the_scores(gelu_bundle, capsys):
    code, out, err = _run(
        capsys, "compare", "--bundle", str(gelu_bundle), "--runtimes", RUNTIMES, "--tokenizers", "py", "a witty film"
    )
    assert code == 1, err
    keras_row = next(line for line in out.splitlines() if line.strip().startswith("keras "))
    assert float(keras_row.split()[1]) >= 0.0
    for rid in FAILING:
        row = next(line for line in out.splitlines() if line.strip().startswith(f"{rid} "))
        assert "ERROR" in row and f"export: known limitation {LIMITATION[rid]}:" in row and "Erfc" in row


def test_golden_check_marks_the_runtime_error_and_checks_the_rest(gelu_bundle, capsys):
    code, _, err = _run(capsys, "golden", "update", "--bundle", str(gelu_bundle))
    assert code == 0, err
    assert (gelu_bundle / "expected.jsonl").is_file()  # the bundle's own file, not golden/expected.jsonl
    code, out, err = _run(
        capsys, "golden", "check", "--bundle", str(gelu_bundle), "--runtimes", RUNTIMES, "--tokenizers", "py"
    )
    assert code == 1, err
    lines = out.splitlines()
    assert any(line.startswith("keras ") and " pass " in f" {line} " for line in lines)
    for rid in FAILING:
        assert any(
            line.startswith(f"{rid} ") and f"ERROR export: known limitation {LIMITATION[rid]}:" in line
            for line in lines
        ), out
    assert "2 runtime(s) could not run" in lines[-1]


def test_report_is_written_with_the_runtime_in_error(gelu_bundle, tmp_path, capsys, monkeypatch):
    from harness.report import writer

    monkeypatch.setattr(writer, "REPORTS", tmp_path / "reports")
    monkeypatch.setattr(writer, "HISTORY", tmp_path / "reports" / "history.jsonl")
    out = tmp_path / "report"
    code, printed, err = _run(capsys, "report", "--bundle", str(gelu_bundle), "--runtimes", RUNTIMES, "--out", str(out))
    assert code == 1, err
    rep = json.loads((out / "report.json").read_text())
    assert rep["runtimes"]["keras"]["status"] == "ran"
    for rid in FAILING:
        row = rep["runtimes"][rid]
        assert row["status"] == "error" and row["error"]["step"] == "export" and "Erfc" in row["error"]["message"]
        assert "cannot convert it" in row["error"]["message"], "the report keeps the engine's own words"
        limitation = row["error"]["limitation"]
        assert limitation["id"] == LIMITATION[rid] and limitation["lacks"] == "TF op Erfc" and limitation["workaround"]
        assert row["scores"] is None
        runs = next(g for g in rep["gates"] if g["id"] == f"runs:{rid}")
        assert not runs["passed"] and f"known limitation {LIMITATION[rid]}:" in runs["detail"]
    junit = (out / "junit.xml").read_text()
    assert all(f"known limitation {lim}:" in junit for lim in LIMITATION.values())
    html = (out / "report.html").read_text()
    assert all(f"known limitation {lim}:" in html for lim in LIMITATION.values())
    assert rep["verdict"] == "fail" and (out / "report.html").is_file() and (out / "junit.xml").is_file()
    assert any(rid in line and "FAIL" in line for rid in FAILING for line in printed.splitlines())


def test_conformance_suite_fails_that_runtime_with_its_reason(gelu_bundle):
    """pytest -m conformance --runtimes ...: keras passes its checks, each failing runtime fails
    `test_runtime_exports_loads_and_runs` with the step and the engine's words."""
    cmd = [sys.executable, "-m", "pytest", "cases", "-m", "conformance", "-q", "-p", "no:cacheprovider",
           "--runtimes", RUNTIMES, "--bundle", str(gelu_bundle), "-k", "test_runtime_exports_loads_and_runs or test_golden_scores"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    report = proc.stdout
    assert proc.returncode == 1, report[-3000:]
    for rid in FAILING:
        assert f"test_runtime_exports_loads_and_runs[{rid}]" in report
        assert f"{rid}: export: known limitation {LIMITATION[rid]}:" in report and "Erfc" in report
    assert "test_runtime_exports_loads_and_runs[keras] PASSED" in report or "4 failed" in report or "passed" in report

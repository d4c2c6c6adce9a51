"""Reports, history, merging and sign-off: the records a release manager files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from harness import cli
from harness.core import bundle
from harness.core.errors import HarnessError
from harness.core.paths import REPO
from harness.release import merge
from harness.report import history
from harness.results import Gate

FAST = "keras,coreml-ref@fp32,tfjs-wasm@u8"


@pytest.fixture(scope="module")
def reports_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("reports")
        mp.setenv("HARNESS_REPORTS", str(path))
        from harness.report import writer as report_module

        mp.setattr(report_module, "REPORTS", path)
        mp.setattr(report_module, "HISTORY", path / "history.jsonl")
        yield path


@pytest.fixture(scope="module")
def fast_report(reports_dir, reference_bundle):
    from harness.report import build as report
    from harness.report import writer

    rep = report.run(reference_bundle, report.Options(runtimes=FAST))
    out = writer.write(rep, reports_dir / "runs" / "first", history_path=reports_dir / "history.jsonl")
    return json.loads((out / "report.json").read_text()), out


def _model(data: dict):
    """A report's JSON data as the typed Report (what merge and signoff take)."""
    from harness.results import Report

    return Report.model_validate(data)


def test_report_has_every_section_and_gate(fast_report):
    rep, out = fast_report
    assert rep["schema"] == "harness-report/2" and rep["status"] == "complete" and rep["reference"] == "keras"
    assert all(row["status"] == "ran" and row["spec"]["platform"] for row in rep["runtimes"].values())
    assert rep["runtimes"]["tfjs-wasm@u8"]["spec"]["browser"] == "chromium"
    assert rep["environment"]["browsers"]["chromium"].startswith("Chromium ")
    assert set(rep["runtimes"]) == {"keras", "coreml-ref@fp32", "tfjs-wasm@u8"}
    kinds = {g["gate"] for g in rep["gates"]}
    assert {
        "agreement",
        "accuracy",
        "latency_p50",
        "latency_p95",
        "throughput",
        "load_time",
        "size",
        "golden",
        "runs",
    } <= kinds
    lat = rep["runtimes"]["coreml-ref@fp32"]["latency"]
    assert lat["single_ms"]["n"] >= 100 and lat["single_ms"]["p50"] <= lat["single_ms"]["p95"]
    assert rep["environment"]["cpu_count"] and rep["environment"]["tool_versions"]["tensorflow"] != "absent"
    assert set(rep["sizes"]) == {"web:tfjs-u8", "ios:coreml-fp32"}  # what the selected runtimes ship
    assert rep["golden"]["cases"] >= 1000
    assert rep["webapp"]["gzip_download_bytes"] > 0 and rep["webapp"]["time_to_first_prediction_ms"] > 0
    assert {"size:web-app", "first_prediction:web-app"} <= {g["id"] for g in rep["gates"]}
    assert json.loads((out / "report.json").read_text())["bundle_hash"] == rep["bundle_hash"]


def test_history_is_append_only(fast_report, reports_dir, reference_bundle):
    from harness.report import build as report
    from harness.report import writer

    path = reports_dir / "history.jsonl"
    before = path.read_text()
    rep = report.run(
        reference_bundle, report.Options(runtimes="keras", latency=False, golden=False, sizes=False, webapp=False)
    )
    writer.write(rep, reports_dir / "runs" / "second", history_path=path)
    after = path.read_text()
    assert after.startswith(before) and len(after.splitlines()) == len(before.splitlines()) + 1
    assert history.read(path)[-1].runtimes["keras"].max_abs_diff == 0


def test_latest_points_at_the_newest_run(fast_report, reports_dir):
    latest = reports_dir / "latest"
    assert latest.is_symlink() and (latest / "report.json").is_file()


def test_history_reader_skips_a_torn_line(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"verdict": "pass"}\n{"verdict": "pa')
    assert [e.verdict for e in history.read(path)] == ["pass"]


def test_merge_refuses_different_bundles(fast_report, tmp_path):
    rep, _ = fast_report
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(rep))
    b.write_text(json.dumps({**rep, "bundle_hash": "f" * 64}))
    with pytest.raises(HarnessError, match="refusing to merge .*different models"):
        merge.merge([(a, merge.load(a)), (b, merge.load(b))])
    assert cli.main(["report", "merge", str(a), str(b), "--out", str(tmp_path / "m")]) == 2
    assert not (tmp_path / "m" / "report.json").exists()


def test_merge_covers_a_runtime_another_machine_ran(fast_report, tmp_path):
    rep, _ = fast_report
    linux = json.loads(json.dumps(rep))
    mac = json.loads(json.dumps(rep))
    mac["environment"] = {**mac["environment"], "hostname": "a-mac"}
    mac["machines"] = [mac["environment"]]
    mac["runtimes"] = {"coreml-native": {**rep["runtimes"]["coreml-ref@fp32"], "machine": "a-mac"}}
    native = dict(mac["runtimes"]["coreml-native"]["spec"], backend="native")
    mac["runtimes"]["coreml-native"]["spec"] = native
    mac["gates"] = [g for g in mac["gates"] if g["subject"] == "suite"]
    mac["requested"] = ["coreml-native"]
    mac.pop("verdict")
    merged = merge.merge([(tmp_path / "linux.json", _model(linux)), (tmp_path / "mac.json", _model(mac))])
    assert "coreml-native" in merged.runtimes and "coreml-native" not in merged.unavailable
    assert not any(g.id == "available:coreml-native" for g in merged.gates)
    assert {m.hostname for m in merged.machines} == {rep["environment"]["hostname"], "a-mac"}


def test_sigterm_midway_leaves_an_incomplete_report_and_valid_history(tmp_path):
    env = {**os.environ, "HARNESS_REPORTS": str(tmp_path), "HARNESS_PROGRESS": "1"}
    (tmp_path / "history.jsonl").write_text('{"verdict": "pass", "status": "complete"}\n')
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "report", "--runtimes", "keras,coreml-ref,coreml-ref@fp32", "--out", str(out)],
                            cwd=REPO, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)  # fmt: skip
    deadline = time.time() + 120
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until keras has finished and the next runtime started
        if "coreml-ref: held-out scores" in line or time.time() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    rep = json.loads((out / "report.json").read_text())
    assert rep["status"] == "incomplete" and rep["interrupted_by"] == "SIGTERM" and rep["verdict"] == "incomplete"
    assert "keras" in rep["runtimes"]
    rows = history.read(tmp_path / "history.jsonl")
    assert len(rows) == 2 and rows[-1].status == "incomplete"
    assert all(json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines())


def test_signoff_waiver_without_reason_or_unknown_gate_is_refused(tmp_path):
    assert cli.main(["signoff", "--waive", "coreml-native", "--out", str(tmp_path)]) == 2
    from harness.release import signoff

    with pytest.raises(HarnessError, match="matches no gate"):
        signoff._waive(
            [Gate.make("available", "coreml-native", False, detail="not on macOS")], {"coreml-nativ": "typo"}
        )


def test_merge_keeps_a_failure_from_any_machine(fast_report, tmp_path):
    rep, _ = fast_report
    other = json.loads(json.dumps(rep))
    other["environment"] = {**other["environment"], "hostname": "second"}
    gate = next(g for g in other["gates"] if g["id"] == "latency_p95:keras")
    gate["passed"] = False
    other.pop("verdict")
    merged = merge.merge([(tmp_path / "a.json", _model(rep)), (tmp_path / "b.json", _model(other))])
    assert next(g for g in merged.gates if g.id == "latency_p95:keras").passed is False
    assert merged.verdict == "fail"


def test_merge_refuses_what_is_not_a_report(tmp_path):
    (tmp_path / "partial.json").write_text(json.dumps({"schema": "harness-report/2"}))
    with pytest.raises(HarnessError, match=r"partial.json: \$: missing required field"):
        merge.load(tmp_path / "partial.json")
    (tmp_path / "old.json").write_text(json.dumps({"schema": "harness-report/1"}))
    with pytest.raises(HarnessError, match="an older harness wrote it"):
        merge.load(tmp_path / "old.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(HarnessError, match=r"binary.json:1: not UTF-8 \(byte 0 is 0xff\)"):
        merge.load(tmp_path / "binary.json")
    with pytest.raises(HarnessError, match=r"cannot read the report \(Is a directory\)"):
        merge.load(tmp_path)


def test_report_out_must_be_a_folder_and_repeats_positive(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert cli.main(["report", "--runtimes", "keras", "--out", str(tmp_path / "file")]) == 2
    assert "--out must be a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli.main(["bench", "--repeats", "0"])
    assert e.value.code == 2


def test_a_named_runtime_that_cannot_run_here_is_an_error(capsys):
    assert cli.main(["golden", "check", "--runtimes", "coreml-native", "--tokenizers", "py"]) == 2
    assert "coreml-native cannot run here" in capsys.readouterr().err


def test_summary_prints_the_bundle_metrics_and_each_verdict(fast_report, capsys):
    from harness.report.summary import print_summary

    rep, out = fast_report
    print_summary(_model(rep), out)
    text = capsys.readouterr().out
    held_out = bundle.load(None).metrics()["splits"]["test"]["accuracy"]
    assert "bundle metrics: train accuracy" in text and f"test accuracy {held_out:.4f}" in text
    assert "keras" in text and f"verdict: {rep['verdict'].upper()}" in text

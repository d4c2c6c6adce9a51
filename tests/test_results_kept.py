"""Results are never lost and nothing runs before everything is checked (issue 16).

The interruption tests run the real command in a child process and send it SIGINT while a
runtime is being measured: an earlier complete report (in --out, or as reports/latest) must
come out byte for byte unchanged, and the interrupted run must be written elsewhere and say
where. The rest are the issue's probes of refusals that must come before any runtime starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from report_sample import synthetic_report

from harness import cli
from harness.core.paths import REPO
from harness.report import writer

ENV = {**os.environ, "HARNESS_PROGRESS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}


def complete_report_in(folder: Path) -> bytes:
    """A complete report folder (the synthetic nightly report), as `harness report` writes one."""
    writer.write(synthetic_report(), folder, history_path=None)
    return (folder / "report.json").read_bytes()


def interrupted(argv: list[str], reports: Path, wait_for: str) -> subprocess.CompletedProcess[str]:
    """Run `harness ARGV`, SIGINT it once `wait_for` appears on its stderr; its output."""
    env = {**ENV, "HARNESS_REPORTS": str(reports)}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *argv], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 180
    for line in proc.stderr:
        seen.append(line)
        if wait_for in line or time.monotonic() > deadline:
            break
    assert any(wait_for in line for line in seen), "".join(seen)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(seen) + err)


def test_an_interrupted_run_never_replaces_a_complete_report_in_out(tmp_path: Path) -> None:
    out = tmp_path / "nightly"
    before = complete_report_in(out)
    done = interrupted(["report", "--runtimes", "keras,coreml-ref", "--out", str(out)], tmp_path / "reports",
                       "coreml-ref: held-out scores")  # fmt: skip
    assert done.returncode == 130, done.stderr
    assert (out / "report.json").read_bytes() == before  # the complete report is kept, byte for byte
    kept = next(line for line in done.stderr.splitlines() if "is kept" in line)
    partial = Path(kept.rsplit(" is in ", 1)[1])
    assert partial.parent == out.parent and partial.name.startswith("nightly.incomplete-")
    rep = json.loads((partial / "report.json").read_text())
    assert rep["status"] == "incomplete" and rep["interrupted_by"] == "SIGINT" and "keras" in rep["runtimes"]
    assert "Traceback" not in done.stderr


def test_an_interrupted_run_leaves_reports_latest_on_the_last_complete_run(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    old = reports / "runs" / "20260101T000000Z-1"
    complete_report_in(old)
    (reports / "latest").symlink_to(Path("runs") / old.name)
    done = interrupted(["report", "--runtimes", "keras,coreml-ref"], reports, "coreml-ref: held-out scores")
    assert done.returncode == 130, done.stderr
    assert os.readlink(reports / "latest") == f"runs/{old.name}"
    runs = sorted(p.name for p in (reports / "runs").iterdir())
    assert len(runs) == 2  # the interrupted run has its own folder
    new = next(p for p in (reports / "runs").iterdir() if p != old)
    assert json.loads((new / "report.json").read_text())["status"] == "incomplete"


def test_out_refuses_a_folder_that_is_not_a_report_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    (folder / "report.json").write_text("{}")
    started = time.monotonic()
    assert cli.main(["report", "--runtimes", "keras", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a report folder (it holds notes.txt)" in err
    assert time.monotonic() - started < 10  # refused before anything ran
    assert (folder / "report.json").read_text() == "{}" and (folder / "notes.txt").read_text() == "my notes"


def test_no_requested_runtime_can_run_is_incomplete(tmp_path: Path) -> None:
    """The issue's probe: `harness report --runtimes coreml-native` on Linux was PASS, exit 0."""
    if sys.platform == "darwin":
        pytest.skip("coreml-native runs here")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "report", "--runtimes", "coreml-native"], cwd=REPO,
                          env={**ENV, "HARNESS_REPORTS": str(tmp_path)}, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "harness report: incomplete: no requested runtime ran (coreml-native: " in proc.stderr
    assert "verdict: INCOMPLETE" in proc.stdout
    assert not (tmp_path / "latest").exists()  # never the latest report
    (run,) = (tmp_path / "runs").iterdir()
    rep = json.loads((run / "report.json").read_text())
    assert rep["verdict"] == "incomplete" and rep["runtimes"] == {} and "coreml-native" in rep["unavailable"]


def test_an_unknown_waiver_is_refused_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    rc = cli.main(
        ["signoff", "--runtimes", "keras", "--waive", "UNKNOWN", "--reason", "x", "--out", str(tmp_path / "s")]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--waive UNKNOWN: matches no gate this sign-off produces" in err
    assert time.monotonic() - started < 30 and not (tmp_path / "s").exists()
    # A gate id or runtime id the run will produce is accepted (checked without running anything).
    from harness.release import signoff
    from runtimes.selection import select

    expected = signoff.expected_gates(select("keras,coreml-native", with_reference=True), [])
    for key in ("available:coreml-native", "coreml-native", "latency_p95:keras", "golden:js", "size:web:tfjs-u8"):
        signoff.check_waivers({key: "why"}, expected)


@pytest.mark.browser
def test_a_double_ctrl_c_prints_no_traceback_and_leaves_no_browser(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        "".join(json.dumps({"id": i, "text": f"a film, number {i}, quite good"}) + "\n" for i in range(20_000))
    )
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "predict", "--runtimes", "tfjs-wasm", "--input", str(cases)],
                            cwd=REPO, env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first batch is out: the browser is up
    assert first.startswith('{"id": "0"'), first
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children, "expected a browser"
    for _ in range(3):  # Ctrl-C, then again while the browser closes
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().endswith("harness predict: interrupted")
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, alive


@pytest.mark.browser
def test_a_double_ctrl_c_during_a_report_keeps_what_finished_and_prints_no_traceback(tmp_path: Path) -> None:
    """The report catches the first Ctrl-C to write what finished; more Ctrl-C while it writes
    and while the browser closes change nothing."""
    out = tmp_path / "r"
    env = {**ENV, "HARNESS_REPORTS": str(tmp_path / "reports")}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "report", "--runtimes", "tfjs-wasm", "--out", str(out)],
                            cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        if "tfjs-wasm: latency" in line:
            break
    children = psutil.Process(proc.pid).children(recursive=True)
    for _ in range(6):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.25)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    rep = json.loads((out / "report.json").read_text())
    assert rep["status"] == "incomplete" and rep["runtimes"]["tfjs-wasm"]["status"] == "ran"
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, alive


# ---------------------------------------------------------------------------------------
# issue 28: --out is checked for writability and ownership (by content) before any work
# ---------------------------------------------------------------------------------------


def test_a_users_own_report_json_in_out_is_kept_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    mine = b'{"my": "data"}'
    (folder / "report.json").write_bytes(mine)
    started = time.monotonic()
    assert cli.main(["report", "--runtimes", "keras", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "its report.json was not written by the harness" in err, err
    assert time.monotonic() - started < 10
    assert (folder / "report.json").read_bytes() == mine and {p.name for p in folder.iterdir()} == {"report.json"}


@pytest.fixture()
def immutable(tmp_path: Path):
    """A folder even root cannot write into (chattr +i), made writable again after the test."""
    folder = tmp_path / "locked"
    folder.mkdir()
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not available here ({made.stderr.strip()}); an unwritable folder cannot be made")
    yield folder
    subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_an_unwritable_out_is_refused_in_one_line_before_any_work(immutable: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "report", "--runtimes", "keras", "--out", str(immutable / "report")],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert f"{immutable / 'report'}: cannot write there ({immutable}: Operation not permitted)" in proc.stderr
    assert elapsed < 10, elapsed


def test_a_finished_report_survives_a_failed_final_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, immutable: Path
) -> None:
    """--out was fine when checked and became unwritable while the run measured (check_out is
    skipped to stand for that race): the report lands in a new run folder, which the error names."""
    from harness.core.errors import HarnessError

    monkeypatch.setattr(writer, "check_out", lambda out: None)
    monkeypatch.setattr(writer, "REPORTS", tmp_path / "reports")
    with pytest.raises(HarnessError, match=r"cannot write the report there \(.*\); it is kept in (\S+)") as e:
        writer.write(synthetic_report(), immutable / "report", history_path=None)
    kept = Path(str(e.value).rsplit("it is kept in ", 1)[1])
    assert kept.is_relative_to(tmp_path / "reports" / "runs")
    assert json.loads((kept / "report.json").read_text())["bundle_hash"] == synthetic_report().bundle_hash

"""`harness repro`: a folder that reproduces one disagreement without the harness (harness/check/repro.py).

The folder's own run.py, run from another directory, prints the score the harness printed, to
the last digit: coreml-ref (numpy evaluator copied under vendor/) and tfjs-wasm@u8 (its own
server and a headless Chromium), both nightly (each runs the harness, then the folder, in a
fresh process); make test keeps the refusals.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import cli

CASE = "mr-17"  # golden/texts.jsonl's first case


def cli_run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def reproduce(tmp_path: Path, runtime: str) -> None:
    folder = tmp_path / "repro"
    rc, out, err = cli_run("repro", "--runtime", runtime, "--case", CASE, "--out", str(folder))
    assert rc == 0, err
    printed = out.splitlines()[0].split(": ", 1)[1].split()[0]  # "<runtime>: <score>  (keras: ...)"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = [sys.executable, str(folder / "run.py")]
    proc = subprocess.run(command, cwd=elsewhere, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[0] == printed  # the same float, every digit
    repro = json.loads((folder / "repro.json").read_text())
    assert repr(repro["score"]) == printed and repro["case_id"] == CASE and len(repro["ids"]) == 48
    readme = (folder / "README.md").read_text()
    for part in ("## To reproduce", "## Expected and actual", "## Environment", printed, str(repro["ids"])):
        assert part in readme
    assert not list(tmp_path.glob(".repro.*")), "the staging folder was left behind"


@pytest.mark.nightly  # ~30-70 s here: the harness's run plus coremltools imported again by run.py
@pytest.mark.coreml
def test_coreml_ref_repro_prints_the_harness_score(tmp_path):
    reproduce(tmp_path, "coreml-ref")
    vendor = tmp_path / "repro" / "vendor"
    assert (vendor / "runtimes" / "coreml_ref" / "evaluator.py").is_file()
    assert "Vendored" in (vendor / "runtimes" / "coreml_ref" / "__init__.py").read_text()  # no harness behind it


@pytest.mark.nightly
@pytest.mark.browser
def test_tfjs_wasm_u8_repro_prints_the_harness_score(tmp_path):
    reproduce(tmp_path, "tfjs-wasm@u8")
    assert (tmp_path / "repro" / "lib" / "tfjs-backend-wasm-threaded-simd.wasm").is_file()


def test_repro_refuses_what_it_cannot_do(tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("earlier work")
    rc, _, err = cli_run("repro", "--runtime", "coreml-ref", "--case", CASE, "--out", str(taken))
    assert rc == 2 and "never overwrites" in err and len(err.strip().splitlines()) == 1
    assert (taken / "notes.txt").read_text() == "earlier work"
    rc, _, err = cli_run("repro", "--runtime", "keras", "--case", CASE, "--out", str(tmp_path / "k"))
    assert rc == 2 and "repro writes tfjs, coreml runtimes" in err
    rc, _, err = cli_run("repro", "--runtime", "coreml-ref", "--case", "no-such-case", "--out", str(tmp_path / "n"))
    assert rc == 2 and "no case with id 'no-such-case'" in err

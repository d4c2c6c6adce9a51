"""Every page call has a deadline in every engine, and one case's exception never loses
another case's result (issue 28). The app tokenizer modules here are the issue's probes: an
`encode` that never returns (a synchronous loop, which a page's own timer cannot interrupt)
and a thrown object whose toString throws. Each runs the real CLI in a child process, real
browsers, with the deadline shortened through HARNESS_PAGE_CALL_SECONDS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.core.paths import REPO
from runtimes.tokenizers import browser as tokenizer_browser

pytestmark = pytest.mark.browser
DEADLINE_S = 5


def tokenize(module: Path, runtimes: str, *texts: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "HARNESS_PAGE_CALL_SECONDS": str(DEADLINE_S)}
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "tokenize",
            "--app-tokenizer",
            f"{module}:encode",
            "--runtimes",
            runtimes,
            *texts,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, time.monotonic() - started


def needs(runtime: str) -> None:
    ok = tokenizer_browser.availability(runtime)
    if not ok.ok:
        pytest.skip(f"tokenizer runtime {runtime} unavailable: {ok.reason}")


@pytest.mark.parametrize(
    "runtime",
    ["js", pytest.param("firefox:js", marks=pytest.mark.nightly), pytest.param("webkit:js", marks=pytest.mark.nightly)],
)
def test_an_endless_module_fails_its_runtime_within_the_deadline(tmp_path: Path, runtime: str) -> None:
    needs(runtime)
    module = tmp_path / "endless.js"
    module.write_text("export function encode(text) { while (true) {} }\n")
    proc, seconds = tokenize(module, f"py,{runtime}", "a good film")
    assert proc.returncode == 1, proc.stderr
    row = json.loads(proc.stdout.splitlines()[0])
    assert row["ids"]["py"]  # the other runtime's result is kept
    assert (
        row["errors"][runtime] == f"tokenize: browser: the page did not return within {DEADLINE_S} s (page discarded)"
    )
    assert "Traceback" not in proc.stderr
    assert seconds < 120, seconds  # browser start-up plus the deadline and the watchdog's grace, on a loaded machine


def test_a_thrown_object_that_cannot_be_described_costs_only_its_case(tmp_path: Path) -> None:
    needs("js")
    module = tmp_path / "weird.js"
    module.write_text(
        "export function encode(text) {\n"
        "  if (text === 'weird') throw { get message() { throw 1; }, toString() { throw 2; } };\n"
        "  if (text === 'odd') throw Object.create(null);\n"
        "  return [1, 2, 3];\n"
        "}\n"
    )
    proc, _ = tokenize(module, "js", "fine", "weird", "odd", "also fine")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 4, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    by_text = dict(zip(["fine", "weird", "odd", "also fine"], rows, strict=True))
    for ok in ("fine", "also fine"):
        assert by_text[ok]["ids"]["js"][:3] == [1, 2, 3], by_text[ok]
    for bad in ("weird", "odd"):
        assert "cannot be described" in json.dumps(by_text[bad]), by_text[bad]

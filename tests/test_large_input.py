"""Large inputs in bounded memory (issue 16): predict and tokenize read their input in
batches and print each batch as it is done, so memory stays flat however many cases come.

Memory is measured on the real command in a child process (harness/bench/memory.py, which
`make bench` runs on 100,000 cases). Here, 24 batches (49,152 cases) per runtime: the first
batches warm TensorFlow's allocator and glibc's arenas (about +100 MB for keras, flat from about
the 10th batch on), so the bound is on the steady state: the peak while the last third of the
output was written may exceed the middle third's by less than 20 MB in the harness process's
resident set (a leak of 1.3 kB a case would add 20 MB over a third) and by less than 100 MB in
the browser's (its garbage collector's swing).
The resident set of a process that imports TensorFlow starts near 700 MB (430 MB of it shared
libraries), so the absolute bound (1.2 GB) only catches keeping the input whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.bench import memory
from harness.core import bundle
from harness.core.paths import REFERENCE_BUNDLE, REPO
from harness.run import predict
from harness.run.tokenize import BATCH
from runtimes import registry


def test_tokenize_streams_in_order_across_batches(tmp_path: Path) -> None:
    tok = bundle.load(REFERENCE_BUNDLE).tokenizer()
    texts = [f"review {i}: a {'good' if i % 2 else 'dull'} film" for i in range(2 * BATCH + 7)]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)))
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "tokenize", "--runtimes", "py", "--input", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(len(texts))]
    assert [r["ids"]["py"] for r in rows] == tok.encode_batch(texts)


MANY = 24 * predict.BATCH


@pytest.fixture(scope="module")
def many_cases(tmp_path_factory: pytest.TempPathFactory, test_split: list) -> Path:
    return memory.write_cases(tmp_path_factory.mktemp("large") / "cases.jsonl", [r.text for r in test_split], MANY)


@pytest.mark.slow
@pytest.mark.nightly  # make bench measures the same on 100,000 cases
@pytest.mark.parametrize("runtime", memory.RUNTIMES)
def test_many_cases_in_bounded_memory(runtime: str, many_cases: Path) -> None:
    if registry.spec(runtime).browser:
        from runtimes.browser import host

        if not host.availability().ok:
            pytest.skip(f"no browser here: {host.availability().reason}")
    run = memory.measure(runtime, many_cases, MANY)
    assert run["exit_code"] == 0, run.get("error")
    assert run["lines_out"] == MANY
    assert run["peak_rss_mb"] < 1200, run
    assert run["steady_growth_rss_mb"] < 20, run
    assert run.get("steady_growth_browser_rss_mb", 0) < 100, run

"""Large inputs in bounded memory (issue 16): predict and tokenize read their input in
batches and print each batch as it is done, so 100,000 cases cost about what 1,000 do.

Memory is measured on the real command in a child process (harness/bench/memory.py, the
figures `make bench` prints): the harness process's private memory must stay under 600 MB and
grow by less than 100 MB from 1,000 to 100,000 cases; for the TF.js runtime the browser's
memory must not grow with the input either (its floor is Chromium's own, about 450 MB PSS).
The RSS of a process that imports TensorFlow starts near 700 MB (430 MB of it shared
libraries), which no batching can lower; the bound is on what the input adds.
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
from harness.run.tokenize import BATCH


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


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory, test_split: list) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("large")
    texts = [r.text for r in test_split]
    return {n: memory.write_cases(folder / f"{n}.jsonl", texts, n) for n in (memory.BASELINE, memory.LARGE)}


@pytest.mark.slow
@pytest.mark.parametrize("runtime", memory.RUNTIMES)
def test_100000_cases_in_bounded_memory(runtime: str, cases: dict[int, Path]) -> None:
    if runtime.startswith("tfjs"):
        from runtimes.browser import host

        if not host.availability().ok:
            pytest.skip("no browser here")
    few = memory.measure(runtime, cases[memory.BASELINE], memory.BASELINE)
    many = memory.measure(runtime, cases[memory.LARGE], memory.LARGE)
    assert few["exit_code"] == many["exit_code"] == 0, many.get("error")
    assert many["lines_out"] == memory.LARGE
    assert many["peak_private_mb"] < 600, many
    assert many["peak_private_mb"] - few["peak_private_mb"] < 100, (few, many)
    if "peak_browser_pss_mb" in many:
        assert many["peak_browser_pss_mb"] - few["peak_browser_pss_mb"] < 300, (few, many)

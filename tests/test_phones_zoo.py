"""The model zoo through the phone runtimes: webgl16 (float16 textures) and LiteRT's ARM kernels.

Each zoo kind (harness/data/zoo.py) is bundled and predicted through the real CLI on a few dozen
held-out reviews, on keras, `tfjs-webgl16`, `arm64:tflite` and `arm64:tflite-fp16@f16`. The arm64
rows must be within their tolerance policy. webgl16 rows are judged on the reviews whose ids
float16 keeps (predict marks the others `rounded_ids`): the feed-forward kinds must agree there
within float16-storage; the recurrent kinds' figures are shown (float16 storage accumulates
through 12 unrolled steps). Nightly: every kind costs an export per target, Chromium and three
qemu starts.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import cli
from harness.check.compare import compare
from harness.core import bundle, config
from harness.core.paths import REFERENCE_BUNDLE
from harness.data import zoo
from runtimes import registry
from runtimes.selection import select

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.nightly]

LENGTH = 12
N_REVIEWS = 36
PHONES = ("tfjs-webgl16", "arm64:tflite", "arm64:tflite-fp16@f16")
FEED_FORWARD = ("cnn", "fasttext", "attention")
UNAVAILABLE = {rid: str(why) for rid, why in select(",".join(PHONES)).unavailable.items()}


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory, test_split: list[Any]) -> Path:
    path = tmp_path_factory.mktemp("phones-zoo") / "cases.jsonl"
    path.write_text("".join(json.dumps({"id": r.id, "text": r.text}) + "\n" for r in test_split[:N_REVIEWS]))
    return path


@pytest.mark.parametrize("kind", zoo.ZOO)
def test_zoo_model_on_the_phone_runtimes(kind: str, cases: Path, tmp_path: Path, monkeypatch, terminal_summary):
    ready = [rid for rid in PHONES if rid not in UNAVAILABLE]
    if not ready:
        pytest.skip(f"no phone runtime can run here: {UNAVAILABLE}")
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    vocab = bundle.load(REFERENCE_BUNDLE).signature().vocab_size
    model = zoo.save(kind, vocab, LENGTH, folder=tmp_path)
    out = tmp_path / "bundle"
    short = ("--tokenizer", str(REFERENCE_BUNDLE / "tokenizer.json"), "--maxlen", str(LENGTH))
    rc, _, err = _cli("bundle", "--model", str(model), *short, "--out", str(out))
    assert rc == 0, err
    rc, stdout, err = _cli("predict", "--runtimes", ",".join(["keras", *ready]), "--bundle", str(out),
                           "--input", str(cases))  # fmt: skip
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert rows and not rows[0].get("errors"), err
    ref = np.asarray([r["scores"]["keras"] for r in rows])
    figures = []
    for rid in ready:
        got = np.asarray([r["scores"][rid] for r in rows])
        tol = config.tolerance(rid, registry.spec(rid).precision)
        if rid == "tfjs-webgl16":
            kept = np.asarray([rid not in r.get("rounded_ids", []) for r in rows])
            assert (~kept).any() and "float16 textures round" in err  # the zoo shares the 10,000-id vocabulary
            diff = float(np.abs(got - ref)[kept].max()) if kept.any() else 0.0
            figures.append(f"{rid} {diff:.1e} on {int(kept.sum())} unrounded")
            if kind in FEED_FORWARD:
                assert diff <= tol.atol, f"{kind} on {rid}: {diff:.3g} on reviews whose ids float16 keeps"
            continue
        cmp = compare(rid, ref, got, tol=tol, threshold=config.threshold())
        figures.append(f"{rid} {cmp.max_abs_diff:.1e}")
        assert cmp.passed, f"{kind} on {rid}: {'; '.join(cmp.reasons)}"
    terminal_summary.append(f"phones zoo {kind}: " + ", ".join(figures))

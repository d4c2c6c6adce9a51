"""What the harness prints is strict JSON, and every runtime id is discoverable.

A float16 export of a model whose hidden layer overflows float16 (values beyond 65504 become
inf, and inf - inf is NaN) gives NaN scores; they must be that runtime's failure, named, and
never a `NaN` token in the output (jq and JSON.parse refuse it)."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import cli
from harness.core import bundle, strict_json
from harness.core.paths import REFERENCE_BUNDLE

TOKENIZER_IDS = ("py", "pyodide", "js", "firefox:js", "webkit:js")


def cli_run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def strict_loads(line: str) -> Any:
    """json.loads that refuses NaN and Infinity, as jq and JSON.parse do."""

    def refuse(token: str) -> Any:
        raise ValueError(f"not JSON: {token}")

    return json.loads(line, parse_constant=refuse)


def test_strict_json_writes_null_for_non_finite() -> None:
    text = strict_json.dumps({"a": float("nan"), "b": [1.0, float("inf")], "c": (float("-inf"),)})
    assert strict_loads(text) == {"a": None, "b": [1.0, None], "c": [None]}


def test_runtimes_lists_tokenizer_runtimes_with_their_kind() -> None:
    rc, out, err = cli_run("runtimes", "--json")
    assert rc == 0, err
    rows = {r["id"]: r for r in map(strict_loads, out.splitlines())}
    for tid in TOKENIZER_IDS:
        assert rows[tid]["kind"] == "tokenizer", rows[tid]
        assert rows[tid]["available"] or (rows[tid]["reason"] and rows[tid]["install"]), rows[tid]
    assert rows["webkit:js"]["browser"] == "webkit" and rows["pyodide"]["implementation"] == "pyodide"
    assert rows["keras"]["kind"] == "model" and rows["tfjs-wasm"]["kind"] == "model"
    rc, out, err = cli_run("runtimes")
    assert rc == 0, err
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("  ")}
    assert {"pyodide", "webkit:js", "keras", "tfjs-wasm"} <= listed


@pytest.fixture(scope="module")
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("harness-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(cache))
        yield cache


def overflowing_model(vocab_size: int, length: int) -> Any:
    """Scores 0.5 in float32 for every input; in float16 the hidden units overflow to +inf
    and -inf, and the output sums them: NaN."""
    from runtimes.frameworks import import_keras

    keras = import_keras()
    inputs = keras.Input(shape=(length,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab_size, 2, embeddings_initializer="ones")(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)  # [1, 1] for every review
    x = keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant([[6e4, -6e4], [6e4, -6e4]]))(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", kernel_initializer="ones")(x)  # 1.2e5 - 1.2e5
    return keras.Model(inputs, outputs, name="fp16_overflow")


@pytest.fixture(scope="module")
def overflow_bundle(tmp_path_factory: pytest.TempPathFactory, tmp_cache: Path) -> Path:
    sig = bundle.load(REFERENCE_BUNDLE).signature()
    folder = tmp_path_factory.mktemp("overflow")
    model = overflowing_model(sig.vocab_size, sig.length)
    ids = np.zeros((2, sig.length), dtype=np.int32)
    assert np.allclose(model.predict(ids, verbose=0), 0.5)  # float32: no overflow
    model.save(folder / "overflow.keras")
    out = folder / "bundle"
    rc, _, err = cli_run(
        "bundle", "--model", str(folder / "overflow.keras"), "--like", str(REFERENCE_BUNDLE), "--out", str(out)
    )
    assert rc == 0, err
    return out


@pytest.mark.coreml
def test_float16_overflow_is_a_named_failure_in_valid_json(overflow_bundle: Path) -> None:
    rc, out, err = cli_run(
        "predict", "--bundle", str(overflow_bundle), "--runtimes", "keras,coreml-ref", "a fine film", "a dull film"
    )
    assert rc == 1, err  # a runtime failed
    rows = [strict_loads(line) for line in out.splitlines()]  # every line parses as strict JSON
    assert [r["id"] for r in rows] == ["arg-1", "arg-2"]
    for row in rows:
        assert row["scores"] == {"keras": 0.5}
        assert row["errors"]["coreml-ref"].startswith("run: output is NaN for 2 of 2 inputs"), row
        assert "float16 overflow?" in row["errors"]["coreml-ref"]
    assert "coreml-ref: run: output is NaN" in err

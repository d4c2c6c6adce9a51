"""`harness doctor` (and the check `harness bundle` prints): does a model ship to every runtime?

Real models, real converters and engines: a zoo LSTM that ships everywhere (with the rewrites
and paths each export took), and exact gelu, which the limitations file rules out for TF.js
and Core ML (predicted from the model file without converting, or tried with --try-known).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import cli
from harness.check.doctor import what_lacks
from harness.core import bundle
from harness.core.paths import REFERENCE_BUNDLE
from harness.data import zoo

LENGTH = 8
# the reference tokenizer, keeping LENGTH ids (harness bundle --tokenizer FILE --maxlen N)
SHORT = ("--tokenizer", str(REFERENCE_BUNDLE / "tokenizer.json"), "--maxlen", str(LENGTH))


def cli_run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    folder = tmp_path_factory.mktemp("doctor")
    vocab = bundle.load(REFERENCE_BUNDLE).signature().vocab_size
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(folder / "cache"))
        yield {kind: zoo.save(kind, vocab, LENGTH, folder=folder) for kind in ("gelu", "lstm")}


def rows_of(stdout: str) -> dict[str, dict]:
    return {row["runtime"]: row for row in map(json.loads, stdout.splitlines())}


def test_what_an_engine_lacks_is_read_from_its_words() -> None:
    assert (
        what_lacks("cannot convert it (Unsupported Ops in the model before optimization: Erfc, Foo)")
        == "TF op(s) Erfc, Foo"
    )
    assert what_lacks("Kernel 'Einsum' not registered for backend 'wasm'") == "kernel Einsum on backend wasm"
    assert what_lacks("m.mlpackage: ML Program op 'square' (ln_1) is not implemented by coreml-ref") == "MIL op square"
    assert what_lacks("Conversion for TF op 'Erfc' not implemented.") == "TF op Erfc"
    assert what_lacks("something else") == ""


@pytest.mark.coreml
def test_exact_gelu_is_predicted_without_converting(models: dict[str, Path]) -> None:
    rc, out, err = cli_run("doctor", "--model", str(models["gelu"]), *SHORT, "--json",
                           "--runtimes", "keras,tfjs-wasm@u8,coreml-ref,coreml-native")  # fmt: skip
    assert rc == 1, err
    rows = rows_of(out)
    assert rows["keras"]["result"] == "runs"
    for rid, lim, engine in (
        ("tfjs-wasm@u8", "tfjs-erfc", "tensorflowjs 4.22.0"),
        ("coreml-ref", "coreml-erfc", "coremltools 9.0"),
    ):
        row = rows[rid]
        assert (row["result"], row["limitation"], row["engine"], row["lacks"]) == (
            "predicted",
            lim,
            engine,
            "TF op Erfc",
        )
        assert "predicted from activation:gelu; not tried" in row["detail"] and row["seconds"] == 0.0
    assert rows["coreml-native"]["result"] in ("unavailable", "runs")  # runs only on macOS


@pytest.mark.browser
@pytest.mark.coreml
@pytest.mark.slow
def test_try_known_really_tries_and_the_table_names_cause_and_workaround(models: dict[str, Path]) -> None:
    rc, out, err = cli_run("doctor", "--model", str(models["gelu"]), *SHORT, "--try-known",
                           "--runtimes", "keras,tfjs-wasm,coreml-ref@fp32")  # fmt: skip
    assert rc == 1, err
    lines = out.splitlines()
    wasm = next(line for line in lines if line.strip().startswith("tfjs-wasm "))
    assert (
        wasm.split()[1:3] == ["NO", "-"]
        and "export: known limitation tfjs-erfc: tensorflowjs 4.22.0 lacks TF op Erfc" in wasm
    )
    assert "not tried" not in wasm
    note = next(line for line in lines if line.strip().startswith("tfjs-erfc:"))
    assert "Workaround: gelu with approximate=True" in note
    assert lines[-1].strip() == "1 of 3 runtime(s) run it; 2 cannot (2 known limitation(s))"


@pytest.mark.browser
@pytest.mark.coreml
@pytest.mark.slow
def test_an_lstm_ships_and_bundle_prints_the_same_check(models: dict[str, Path], tmp_path: Path) -> None:
    out_dir = tmp_path / "bundle"
    rc, out, err = cli_run("bundle", "--model", str(models["lstm"]), *SHORT, "--doctor", "--out", str(out_dir),
                           "--runtimes", "keras,tfjs-wasm,coreml-ref@fp32")  # fmt: skip
    assert rc == 0, err
    assert json.loads(out) == {"bundle": str(out_dir), "bundle_hash": bundle.load(out_dir).hash}, "stdout stays JSON"
    assert "will " in err and "harness doctor" in err and "3 of 3 runtime(s) run it" in err, err
    rc, out, err = cli_run(
        "doctor", "--bundle", str(out_dir), "--json", "--runtimes", "keras,tfjs-wasm,coreml-ref@fp32"
    )
    assert rc == 0, err
    rows = rows_of(out)
    assert all(r["result"] == "runs" for r in rows.values())
    for rid in ("tfjs-wasm", "coreml-ref@fp32"):
        assert rows[rid]["within_tolerance"] is True and rows[rid]["max_abs_diff"] <= 1e-4
    assert "execute; rewrites: unroll, unfuse_matmul" in rows["tfjs-wasm"]["detail"]
    assert rows["tfjs-wasm"]["engine"].startswith("TF.js 4.22.0")
    assert "recurrent: LSTM fused" in rows["coreml-ref@fp32"]["detail"]


def test_doctor_needs_exactly_one_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor"]) == 2
    assert "give the model to check" in capsys.readouterr().err

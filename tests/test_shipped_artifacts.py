"""`harness bundle --artifact TARGET=PATH`: the files a team ships, adopted and tested as they are.

The shipped files here are real converter output made outside the bundle (the reference
model's .tflite and TF.js graph model, copied out of the export cache to a folder of their own,
as a team's build would leave them). The adopted copy must stand in for the export (never
rebuilt), score within policy beside keras, be refused with one line when a byte changes, and
say in the report row where it came from and what the file records about its converter.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness import cli, export
from harness.core import bundle, config, shipped
from harness.core.paths import REFERENCE_BUNDLE
from runtimes import registry

GOLDEN_TEXTS = REFERENCE_BUNDLE.parent / "texts.jsonl"


def cli_run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def team_files(tmp_path_factory: pytest.TempPathFactory, reference_bundle: bundle.Bundle) -> dict[str, Path]:
    """The reference model's .tflite and TF.js graph model, where a team's build would leave them."""
    out = tmp_path_factory.mktemp("team-build")
    tflite = export.export(reference_bundle, "tflite")
    shutil.copyfile(tflite.main_file("model.tflite"), out / "sentiment.tflite")
    web = out / "web" / "model"
    shutil.copytree(export.export(reference_bundle, "tfjs").path, web)
    (web / "artifact.json").unlink()  # the harness's own record, not part of what ships
    ios = out / "ios" / "Sentiment.mlpackage"
    shutil.copytree(export.export(reference_bundle, "coreml-fp32").main_file("model.mlpackage"), ios)
    return {"tflite": out / "sentiment.tflite", "tfjs": web / "model.json", "mlpackage": ios}


@pytest.fixture(scope="module")
def shipped_bundle(tmp_path_factory: pytest.TempPathFactory, team_files: dict[str, Path]) -> Path:
    out = tmp_path_factory.mktemp("shipped") / "bundle"
    rc, _, err = cli_run(
        "bundle",
        "--model",
        str(REFERENCE_BUNDLE / "model.keras"),
        "--like",
        str(REFERENCE_BUNDLE),
        "--out",
        str(out),
        "--artifact",
        f"tflite={team_files['tflite']}",
        "--artifact",
        f"tfjs={team_files['tfjs']}",
        "--artifact",
        f"coreml-fp32={team_files['mlpackage']}",
    )
    assert rc == 0, err
    return out


def test_the_adopted_file_is_the_artifact_and_is_never_rebuilt(shipped_bundle: Path, team_files: dict[str, Path]):
    b = bundle.load(shipped_bundle)
    assert shipped.targets(b) == ["coreml-fp32", "tfjs", "tflite"]
    art = export.export(b, "tflite", force=True)  # --force rebuilds exports, never a shipped file
    assert art.path == shipped_bundle / "shipped" / "tflite"
    assert art.main_file("x").read_bytes() == team_files["tflite"].read_bytes()
    assert art.manifest["artifact_origin"] == "shipped"
    assert art.manifest["recorded_by"]["min_runtime_version"]  # what the flatbuffer says made it
    web = export.export(b, "tfjs")
    assert web.manifest["recorded_by"]["convertedBy"].startswith("TensorFlow.js Converter")
    assert sorted(web.files) == ["group1-shard1of1.bin", "model.json"]
    ios = export.export(b, "coreml-fp32")
    assert ios.manifest["model_format"] == "coreml mlProgram" and ios.manifest["main"] == "Sentiment.mlpackage"
    assert ios.manifest["recorded_by"]["coremltools"] and ios.manifest["recorded_by"]["source"].startswith("tensorflow")
    fresh = export.export(b, "tflite", fresh=True)  # what --compare-export runs beside it
    assert shipped.origin(fresh.manifest) == "exported" and fresh.path != art.path


@pytest.mark.parametrize("runtime", ["tflite", "coreml-ref@fp32"])
def test_shipped_files_score_within_policy_on_the_golden_cases(shipped_bundle: Path, runtime: str):
    rc, out, err = cli_run(
        "predict", "--bundle", str(shipped_bundle), "--runtimes", f"keras,{runtime}", "--input", str(GOLDEN_TEXTS)
    )
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    keras = np.array([r["scores"]["keras"] for r in rows])
    got = np.array([r["scores"][runtime] for r in rows])
    assert len(rows) >= 50
    tol = config.tolerance(runtime, registry.spec(runtime).precision)
    assert float(np.abs(keras - got).max()) <= tol.atol


def test_a_changed_byte_in_an_adopted_artifact_is_refused_before_anything_runs(shipped_bundle: Path, tmp_path: Path):
    edited = tmp_path / "edited"
    shutil.copytree(shipped_bundle, edited)
    shard = edited / "shipped" / "tfjs" / "group1-shard1of1.bin"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    rc, out, err = cli_run("predict", "--bundle", str(edited), "--runtimes", "keras,tfjs-wasm", "a fine film")
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "group1-shard1of1.bin" in err and "sha256" in err


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("tflite={tfjs}", "a tfjs file cannot be the tflite artifact"),
        ("tfjs={tflite}", "a tflite file cannot be the tfjs artifact"),
        ("tfjs-u4={tflite}", "unknown export target 'tfjs-u4'"),
        ("tfjs-layers={tfjs}", "a TF.js graph-model; the tfjs-layers runtimes load a layers-model"),
        ("tflite", "expected TARGET=PATH"),
        ("tflite={missing}", "no such file"),
    ],
)
def test_a_wrong_artifact_is_refused_in_one_line(team_files: dict[str, Path], tmp_path: Path, option: str, words: str):
    value = option.format(**{k: str(v) for k, v in team_files.items()}, missing=tmp_path / "nope.tflite")
    rc, _, err = cli_run(
        "bundle", "--model", str(REFERENCE_BUNDLE / "model.keras"), "--out", str(tmp_path / "b"), "--artifact", value
    )
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert words in err
    assert not (tmp_path / "b").exists()


def test_report_rows_say_where_the_artifact_came_from(shipped_bundle: Path, test_split):
    from harness.report.runtime_rows import held_out_rows
    from harness.results import RuntimeRow
    from harness.run.engines import Engines

    b = bundle.load(shipped_bundle)
    runtimes = [registry.get(rid) for rid in ("keras", "tflite", "tflite#exported")]
    rows: dict[str, RuntimeRow] = {}
    with Engines(b, runtimes) as engines:
        held_out_rows(engines, test_split[:40], machine="here", ids_by_tok={}, rows=rows, on_progress=lambda _: None)
    assert rows["keras"].artifact_origin is None
    assert rows["tflite"].artifact_origin == "shipped"
    assert rows["tflite"].artifact is not None and rows["tflite"].artifact.source is not None
    assert rows["tflite"].artifact.source.endswith("sentiment.tflite")
    assert rows["tflite#exported"].artifact_origin == "exported"
    assert rows["tflite#exported"].artifact is not None and rows["tflite#exported"].artifact.recorded_by["tensorflow"]
    for row in rows.values():
        RuntimeRow.model_validate(row.model_dump())  # the report schema takes them


def test_compare_export_adds_a_fresh_export_beside_each_shipped_runtime(shipped_bundle: Path):
    from harness.cli.report import with_fresh_exports
    from harness.core.errors import HarnessError

    got = with_fresh_exports(str(shipped_bundle), "keras,tflite,tfjs-wasm@u8,tfjs-cpu")
    assert got == "keras,tflite,tflite#exported,tfjs-wasm@u8,tfjs-cpu,tfjs-cpu#exported"
    with pytest.raises(HarnessError, match="adopted no artifact"):
        with_fresh_exports(None, "keras,tflite")


def test_a_keras3_model_has_no_layers_model_and_says_why(reference_bundle: bundle.Bundle):
    from harness.core.errors import HarnessError
    from runtimes.failures import RuntimeFailed, step

    with pytest.raises(HarnessError, match=r"Keras 3 writes `batch_shape`.*tfjs#8328"):
        export.export(reference_bundle, "tfjs-layers")
    with pytest.raises(RuntimeFailed) as failed, step("tfjs-layers-wasm", "export"):
        export.export(reference_bundle, "tfjs-layers-u8")
    assert failed.value.failure.limitation is not None
    assert failed.value.failure.limitation.id == "tfjs-layers-keras3"

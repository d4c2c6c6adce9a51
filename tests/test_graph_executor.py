"""The web app's own graph executor (apps/web/src/graph.js, which replaced tfjs-converter in the
app) gives the converter's numbers: in Node, on the cpu backend, the app's module and
tfjs-converter's loadGraphModel run the same model.json (the app's u8 export of the reference, its
float32 export, and the u8 exports of two zoo models: a CNN with plain Conv2D and MatMul, and a
fastText-style average pool with a 2-class softmax) over the golden texts; the scores differ by
at most 1e-6 (float32 rounding of another op order) and every decision is the same. A model with
an op the executor lacks is refused when it is loaded, naming the op."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from node_script import run_json

from harness.app.build import APP
from harness.core import config
from harness.core.cases import read_cases
from harness.core.paths import GOLDEN

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (APP / "node_modules").is_dir(),
    reason="needs node and apps/web/node_modules (make setup)",
)
ATOL = 1e-6
N_TEXTS = 300
ZOO_LENGTH = 12

# Loads model.json (argv 1) with both executors on the cpu backend, scores the id rows (argv 2);
# prints {converter, app} scores, or {error} when the app's executor refuses the model.
_NODE = """
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { loadGraphModel } from "@tensorflow/tfjs-converter";
import { GraphModel } from "./src/graph.js";
const [path, rowsPath] = process.argv.slice(1);
const model = JSON.parse(readFileSync(path, "utf8"));
const shards = Buffer.concat(model.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dirname(path), p)))));
const artifacts = {
  modelTopology: model.modelTopology,
  weightSpecs: model.weightsManifest.flatMap((g) => g.weights),
  weightData: shards.buffer.slice(shards.byteOffset, shards.byteOffset + shards.byteLength),
  signature: model.signature,
};
await tf.setBackend("cpu");
const rows = JSON.parse(readFileSync(rowsPath, "utf8"));
const ids = tf.tensor2d(Int32Array.from(rows.flat()), [rows.length, rows[0].length], "int32");
const scores = (m) => { const y = m.predict(ids); const v = Array.from(y.dataSync()); y.dispose(); return v; };
let app;
try {
  app = new GraphModel(artifacts);
} catch (e) {
  process.stdout.write(JSON.stringify({ error: `${e.name}: ${e.message}` }));
  process.exit(0);
}
const converter = await loadGraphModel(tf.io.fromMemory(artifacts));
const before = tf.memory().numTensors;
const out = { converter: scores(converter), app: scores(app) };
out.leaked = tf.memory().numTensors - before;
process.stdout.write(JSON.stringify(out));
"""


def _run(model_json: Path, rows: list[list[int]], tmp: Path) -> dict:
    (tmp / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
    return run_json(_NODE, str(model_json), str(tmp / "rows.json"), cwd=APP, timeout=180)


@pytest.fixture(scope="module")
def bundles(reference_bundle, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference, and zoo models (seeded random weights, the reference's tokenizer) made on first use."""
    made: dict[str, Any] = {"reference": reference_bundle}
    folder = tmp_path_factory.mktemp("zoo")

    def get(name: str) -> Any:
        if name not in made:
            from harness import cli
            from harness.core import bundle
            from harness.data import zoo

            kind = name.removeprefix("zoo-")
            model = zoo.save(kind, reference_bundle.signature().vocab_size, ZOO_LENGTH, folder=folder)
            tokenizer = str(reference_bundle.path / "tokenizer.json")
            out = folder / f"bundle-{kind}"
            argv = [
                "bundle",
                "--model",
                str(model),
                "--tokenizer",
                tokenizer,
                "--maxlen",
                str(ZOO_LENGTH),
                "--out",
                str(out),
            ]
            assert cli.main(argv) == 0
            made[name] = bundle.load(out)
        return made[name]

    return {"get": get}


def _decisions(scores: list[float], n_rows: int, threshold: float) -> list[int]:
    per_row = len(scores) // n_rows
    rows = [scores[i * per_row : (i + 1) * per_row] for i in range(n_rows)]
    return [int(r[0] >= threshold) if per_row == 1 else max(range(per_row), key=r.__getitem__) for r in rows]


@pytest.mark.parametrize(
    ("model", "target"),
    [("reference", "tfjs-u8"), ("reference", "tfjs"), ("zoo-cnn", "tfjs-u8"), ("zoo-fasttext", "tfjs-u8")],
)
def test_the_app_executor_gives_the_converter_scores(bundles, texts, model, target, tmp_path: Path) -> None:
    from harness import export

    b = bundles["get"](model)
    rows = b.tokenizer().encode_batch(texts)
    artifact = export.export(b, target)
    got = _run(artifact.path / "model.json", rows, tmp_path)
    assert "error" not in got, got
    assert len(got["app"]) == len(got["converter"]) >= len(rows)
    worst = max(abs(a - c) for a, c in zip(got["app"], got["converter"], strict=True))
    assert worst <= ATOL, f"{model} {target}: max |app - converter| = {worst:.3g} > {ATOL}"
    threshold = config.threshold()
    assert _decisions(got["app"], len(rows), threshold) == _decisions(got["converter"], len(rows), threshold)
    assert got["leaked"] == 0  # the app's predict keeps no intermediate tensor


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [c.text for c in read_cases(GOLDEN / "texts.jsonl")][:N_TEXTS]


@pytest.fixture(scope="module")
def rows(reference_bundle, texts) -> list[list[int]]:
    return reference_bundle.tokenizer().encode_batch(texts)


def test_an_op_the_executor_lacks_is_named_at_load(reference_bundle, rows, tmp_path: Path) -> None:
    from harness import export
    from harness.app.config import variant

    artifact = export.export(reference_bundle, variant())
    bad = json.loads((artifact.path / "model.json").read_text(encoding="utf-8"))
    bad["modelTopology"]["node"][-1]["op"] = "Einsum"  # an op TF.js has and the app's executor does not
    shutil.copytree(artifact.path, tmp_path / "bad")
    (tmp_path / "bad" / "model.json").write_text(json.dumps(bad), encoding="utf-8")
    got = _run(tmp_path / "bad" / "model.json", rows[:2], tmp_path)
    assert "Einsum" in got.get("error", ""), got


def test_the_warm_up_runs_the_graph_on_zero_weights_and_keeps_nothing(reference_bundle) -> None:
    """apps/web/src/warmup.js (run while the real weights download) needs model.json alone, runs
    the reference graph through, and leaves no tensor behind."""
    from harness import export
    from harness.app.config import variant

    artifact = export.export(reference_bundle, variant())
    script = """
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { warmUp } from "./src/warmup.js";
await tf.setBackend("cpu");
const before = tf.memory().numTensors;
const ran = warmUp(JSON.parse(readFileSync(process.argv[1], "utf8")));
process.stdout.write(JSON.stringify({ ran, left: tf.memory().numTensors - before }));
"""
    assert run_json(script, str(artifact.path / "model.json"), cwd=APP, timeout=120) == {"ran": True, "left": 0}

"""SavedModel and TF.js graph-model exporters.

Keras 3 models do not load in tfjs-layers 4.22 (Keras 3 writes `batch_shape`; tfjs#8328),
so the web path is SavedModel -> TF.js graph model, loaded with `tf.loadGraphModel`. The
SavedModel it converts (`savedmodel-tfjs`) is traced without loops or Einsum and the converted
model.json has no rank-N-bias `_FusedMatMul` (`graph_rewrites`: what and why), so every TF.js
backend runs it with `execute()`; both manifests list the rewrites that changed something under
`graph_rewrites`. The plain `savedmodel` (what TFLite converts) is Keras's own export.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from harness.core.keras_file import KERAS2
from harness.core.quiet import native_stderr
from harness.core.versions import dist_version
from harness.export import ArtifactFolder, Exporter, uint8_weights
from harness.export.canonical import sorted_json
from harness.export.graph_rewrites import UNFUSE_WHY, portable_trace, unfuse_matmuls

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")  # else it imports IPython when stdout is redirected


class SavedModelExporter(Exporter):
    """`savedmodel`: the model as Keras exports it (what TFLite converts). `savedmodel-tfjs`: the
    same weights traced for TF.js (`graph_rewrites.portable_trace`: RNNs unrolled, einsum
    lowered), the input of the TF.js targets; its manifest lists the rewrites that changed something."""

    packages = ("tensorflow", "keras")

    def __init__(self, target: str, portable: bool) -> None:
        self.target = target
        self.portable = portable

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, ArtifactFolder]) -> dict[str, Any]:
        from runtimes.frameworks import import_keras

        if bundle.model_framework == KERAS2:
            return self._keras2(bundle, out)
        keras = import_keras()
        model = keras.saving.load_model(bundle.model_path, compile=False)
        with contextlib.ExitStack() as stack:
            stack.enter_context(contextlib.redirect_stdout(io.StringIO()))  # export() prints a signature summary
            rewrites = stack.enter_context(portable_trace(model)) if self.portable else None
            model.export(str(out / "savedmodel"), format="tf_saved_model", verbose=False)
        facts: dict[str, Any] = {"signature": "serving_default"}
        if rewrites is not None:
            facts["graph_rewrites"] = rewrites
        return facts

    def _keras2(self, bundle: Bundle, out: Path) -> dict[str, Any]:
        """A Keras 2 model exported by tf_keras's own Model.export (serving_default, int32 [None, L]);
        the portable trace patches Keras 3 layers, so a tf_keras LSTM keeps its While loop."""
        from runtimes.frameworks import load_keras_file

        model = load_keras_file(bundle.model_path, KERAS2)
        with contextlib.redirect_stdout(io.StringIO()), native_stderr(replay=False):
            model.export(str(out / "savedmodel"))
        return {"signature": "serving_default", "model_framework": KERAS2}


class TfjsGraphExporter(Exporter):
    # 3: from savedmodel-tfjs, then unfuse_matmuls on model.json; 4: model.json with sorted keys
    # (byte-reproducible, canonical.py)
    version = 4
    requires = ("savedmodel-tfjs",)
    packages = ("tensorflowjs", "tensorflow")

    def __init__(self, target: str, quantize: str | None) -> None:
        self.target = target
        self.quantize = quantize
        if quantize == "uint8":
            self.version = 5  # 5: a recurrent layer's weights stay float32 (uint8_weights.py)

    def _uint8_map(self, bundle: Bundle, saved: Path, conv: Any) -> tuple[dict[str, Any], list[str]]:
        """The uint8 map: all weights, or for a model with recurrent layers all but theirs. Graph
        weights are named after graph nodes, so a float32 conversion first says which are there."""
        from runtimes.frameworks import load_keras_file

        framework = bundle.model_framework
        layer_names = uint8_weights.recurrent_layer_names(load_keras_file(bundle.model_path, framework), framework)
        if not layer_names:
            return uint8_weights.ALL_UINT8, []
        with tempfile.TemporaryDirectory() as tmp:
            with contextlib.redirect_stdout(io.StringIO()), native_stderr(replay=False):
                conv.convert_tf_saved_model(str(saved), tmp)
            plain = json.loads((Path(tmp) / "model.json").read_text())
        floats = [w["name"] for g in plain["weightsManifest"] for w in g["weights"] if w["dtype"] == "float32"]
        kept = uint8_weights.graph_recurrent_weights(floats, layer_names)
        return {"uint8": [glob.escape(n) for n in floats if n not in kept]}, kept

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, ArtifactFolder]) -> dict[str, Any]:
        with contextlib.redirect_stdout(io.StringIO()), native_stderr():  # ydf prints a banner on import
            from tensorflowjs.converters import tf_saved_model_conversion_v2 as conv

        saved = inputs["savedmodel-tfjs"].path / "savedmodel"
        qmap: dict[str, Any] | None = {self.quantize: True} if self.quantize else None
        kept: list[str] = []
        try:
            if self.quantize == "uint8":
                qmap, kept = self._uint8_map(bundle, saved, conv)
            with contextlib.redirect_stdout(io.StringIO()), native_stderr(replay=False):
                conv.convert_tf_saved_model(str(saved), str(out), quantization_dtype_map=qmap)
        except ValueError as e:  # "Unsupported Ops in the model before optimization\nErfc, ..."
            words = ": ".join(line.strip() for line in str(e).splitlines() if line.strip())
            raise HarnessError(
                f"tensorflowjs {dist_version('tensorflowjs')} cannot convert it ({words[:300]})"
            ) from None
        model_json = json.loads((out / "model.json").read_text())
        uint8_weights.check_kept_float32(model_json, kept)
        rewrites = list(inputs["savedmodel-tfjs"].manifest.get("graph_rewrites", []))
        split = unfuse_matmuls(model_json)
        if split:
            (out / "model.json").write_text(json.dumps(model_json))  # as the converter writes it
            rewrites.append({"rewrite": "unfuse_matmul", "nodes": split, "why": UNFUSE_WHY})
        sorted_json(out / "model.json")
        signature = model_json.get("signature") or model_json.get("userDefinedMetadata", {}).get("signature", {})
        facts: dict[str, Any] = {
            "model_format": "tfjs_graph_model",
            "weights": self.quantize or "float32",
            "inputs": sorted(signature.get("inputs", {})),
            "outputs": sorted(signature.get("outputs", {})),
            "graph_ops": sorted({n["op"] for n in model_json["modelTopology"].get("node", [])}),
            "graph_rewrites": rewrites,
        }
        if kept:
            facts["weights_note"] = uint8_weights.NOTE
            facts["float32_weights"] = kept
        return facts


def savedmodel() -> Exporter:
    return SavedModelExporter("savedmodel", portable=False)


def savedmodel_tfjs() -> Exporter:
    return SavedModelExporter("savedmodel-tfjs", portable=True)


def tfjs_f32() -> Exporter:
    return TfjsGraphExporter("tfjs", None)


def tfjs_f16() -> Exporter:
    return TfjsGraphExporter("tfjs-f16", "float16")


def tfjs_u8() -> Exporter:
    return TfjsGraphExporter("tfjs-u8", "uint8")

"""SavedModel and TF.js graph-model exporters.

Keras 3 models do not load in tfjs-layers 4.22 (Keras 3 writes `batch_shape`; tfjs#8328),
so the web path is SavedModel -> TF.js graph model, loaded with `tf.loadGraphModel`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from harness.core.quiet import native_stderr
from harness.core.versions import dist_version
from harness.export import Artifact, Exporter
from harness.export.canonical import sorted_json

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")  # else it imports IPython when stdout is redirected


class SavedModelExporter(Exporter):
    target = "savedmodel"
    packages = ("tensorflow", "keras")

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, Artifact]) -> dict[str, Any]:
        from runtimes.frameworks import import_keras

        keras = import_keras()
        model = keras.saving.load_model(bundle.model_path, compile=False)
        with contextlib.redirect_stdout(io.StringIO()):  # export() prints a signature summary
            model.export(str(out / "savedmodel"), format="tf_saved_model", verbose=False)
        return {"signature": "serving_default"}


class TfjsGraphExporter(Exporter):
    requires = ("savedmodel",)
    packages = ("tensorflowjs", "tensorflow")
    version = 3  # 3: model.json with sorted keys (byte-reproducible, canonical.py)

    def __init__(self, target: str, quantize: str | None) -> None:
        self.target = target
        self.quantize = quantize

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, Artifact]) -> dict[str, Any]:
        with contextlib.redirect_stdout(io.StringIO()), native_stderr():  # ydf prints a banner on import
            from tensorflowjs.converters import tf_saved_model_conversion_v2 as conv

        saved = inputs["savedmodel"].path / "savedmodel"
        qmap = {self.quantize: True} if self.quantize else None
        try:
            with contextlib.redirect_stdout(io.StringIO()), native_stderr(replay=False):
                conv.convert_tf_saved_model(str(saved), str(out), quantization_dtype_map=qmap)
        except ValueError as e:  # "Unsupported Ops in the model before optimization\nErfc, ..."
            words = ": ".join(line.strip() for line in str(e).splitlines() if line.strip())
            raise HarnessError(
                f"tensorflowjs {dist_version('tensorflowjs')} cannot convert it ({words[:300]})"
            ) from None
        sorted_json(out / "model.json")
        model_json = json.loads((out / "model.json").read_text())
        signature = model_json.get("signature") or model_json.get("userDefinedMetadata", {}).get("signature", {})
        return {
            "model_format": "tfjs_graph_model",
            "weights": self.quantize or "float32",
            "inputs": sorted(signature.get("inputs", {})),
            "outputs": sorted(signature.get("outputs", {})),
        }


def savedmodel() -> Exporter:
    return SavedModelExporter()


def tfjs_f32() -> Exporter:
    return TfjsGraphExporter("tfjs", None)


def tfjs_f16() -> Exporter:
    return TfjsGraphExporter("tfjs-f16", "float16")


def tfjs_u8() -> Exporter:
    return TfjsGraphExporter("tfjs-u8", "uint8")

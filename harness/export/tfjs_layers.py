"""TF.js layers-model exporters: `tfjs-layers`, `tfjs-layers-f16`, `tfjs-layers-u8`.

A layers model is what `tensorflowjs.converters.save_keras_model` writes for a Keras 2 model
(tf_keras) and what an app loads with `tf.loadLayersModel`: the seed's web format. Only a
Keras 2 model gives one that loads: tfjs-layers 4.22 cannot read the `batch_shape` a Keras 3
InputLayer writes (tensorflow/tfjs#8328, #8561), so a Keras 3 model is refused here with that
reason, and its web path is the graph model (`tfjs*` targets, tf_exporters.py). Quantization
is of the weights only, dequantized to float32 at load, as for graph models; uint8 leaves a
recurrent layer's weights float32 (uint8_weights.py says why).
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
from harness.core.keras_file import KERAS2
from harness.core.quiet import native_stderr
from harness.core.versions import dist_version
from harness.export import ArtifactFolder, Exporter
from harness.export.canonical import sorted_json
from harness.export.uint8_weights import NOTE, check_kept_float32, quantization_map

os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")  # else it imports IPython when stdout is redirected

KERAS3_REFUSAL = (
    "a Keras 3 model: tfjs-layers 4.22 cannot load the layers model tensorflowjs writes for it (Keras 3 "
    "writes `batch_shape`, which tfjs-layers cannot read: tensorflow/tfjs#8328); the graph-model targets "
    "(tfjs, tfjs-f16, tfjs-u8) run it, or save the model with tf_keras"
)


class TfjsLayersExporter(Exporter):
    packages = ("tensorflowjs", "tf_keras")

    def __init__(self, target: str, quantize: str | None) -> None:
        self.target = target
        self.quantize = quantize
        if quantize == "uint8":
            self.version = 3  # 3: a recurrent layer's weights stay float32 (uint8_weights.py)

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, ArtifactFolder]) -> dict[str, Any]:
        if bundle.model_framework != KERAS2:
            raise HarnessError(f"{bundle.model_path}: {KERAS3_REFUSAL}")
        from runtimes.frameworks import load_keras_file

        with contextlib.redirect_stdout(io.StringIO()), native_stderr():  # ydf prints a banner on import
            from tensorflowjs.converters import save_keras_model

        model = load_keras_file(bundle.model_path, KERAS2)
        qmap: dict[str, Any] | None = {self.quantize: True} if self.quantize else None
        kept: list[str] = []
        if self.quantize == "uint8":
            qmap, kept = quantization_map(model)
        try:
            with contextlib.redirect_stdout(io.StringIO()), native_stderr(replay=False):
                save_keras_model(model, str(out), quantization_dtype_map=qmap)
        except (ValueError, NotImplementedError) as e:
            words = ": ".join(line.strip() for line in str(e).splitlines() if line.strip())
            raise HarnessError(
                f"tensorflowjs {dist_version('tensorflowjs')} cannot save it as a layers model ({words[:300]})"
            ) from None
        model_json = json.loads((out / "model.json").read_text())
        check_kept_float32(model_json, kept)
        sorted_json(out / "model.json")
        layers = model_json["modelTopology"].get("model_config", {}).get("config", {}).get("layers", [])
        facts: dict[str, Any] = {
            "model_format": "tfjs_layers_model",
            "weights": self.quantize or "float32",
            "layer_classes": sorted({str(layer.get("class_name")) for layer in layers}),
        }
        if kept:
            facts["weights_note"] = NOTE
            facts["float32_weights"] = kept
        return facts


def tfjs_layers_f32() -> Exporter:
    return TfjsLayersExporter("tfjs-layers", None)


def tfjs_layers_f16() -> Exporter:
    return TfjsLayersExporter("tfjs-layers-f16", "float16")


def tfjs_layers_u8() -> Exporter:
    return TfjsLayersExporter("tfjs-layers-u8", "uint8")

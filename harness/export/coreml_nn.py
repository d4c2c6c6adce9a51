"""Core ML NeuralNetwork exporters (`coreml-nn` float32 weights, `coreml-nn-f16` float16 weights).

The NeuralNetwork `.mlmodel` is the format of every app that deploys to iOS 14 or older, and
coremltools 9 still writes it: `ct.convert([concrete_fn], source="tensorflow",
convert_to="neuralnetwork")`, the same concrete function the ML Program exporter builds (see
`coreml`: a Keras 3 model object cannot be passed, recurrent layers are traced convertibly).
No deployment target is set, so the converter picks the oldest specification version the
layers allow (4 = iOS 13 for a CNN; a TF while loop needs 5 = iOS 14) and the manifest records it.
The float16 variant is what coremltools documents for this format: `quantize_weights(nbits=16)`
on the float32 model, which stores every weight as float16 and changes no layer.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

from harness.core.bundle import Bundle
from harness.export import ArtifactFolder, Exporter
from harness.export.coreml import (
    MAX_BATCH,
    OUTPUT_NAME,
    convert_function,
    load_model,
)
from runtimes.coreml_nn_ref import MODEL_FILE
from runtimes.frameworks import coreml_quiet as quiet
from runtimes.frameworks import import_coremltools

# the sub-networks of the control-flow layers (NeuralNetwork.proto LoopLayerParams, BranchLayerParams)
SUB_NETWORKS = {"loop": ("conditionNetwork", "bodyNetwork"), "branch": ("ifBranch", "elseBranch")}


class CoremlNnExporter(Exporter):
    packages = ("coremltools", "tensorflow", "keras")
    precision = "float32"
    version = 1

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, ArtifactFolder]) -> dict[str, Any]:
        with quiet():
            mlmodel, facts = convert_nn(load_model(bundle), self.precision, bundle.model_path)
            mlmodel.save(str(out / MODEL_FILE))
        return facts


def convert_nn(model: Any, precision: str, path: Path) -> tuple[Any, dict[str, Any]]:
    """The NeuralNetwork for a loaded Keras model (`precision` "float32" or "float16" weights) and
    the facts the artifact manifest records; `path` names the model in errors."""
    mlmodel, plan = convert_function(model, path, " to a NeuralNetwork", convert_to="neuralnetwork")
    if precision == "float16":
        with quiet():
            mlmodel = weights_to_float16(mlmodel)
    ct = import_coremltools()
    spec = mlmodel.get_spec()
    if spec.description.output[0].name != OUTPUT_NAME:  # TF names it `Identity`; the app reads `scores`
        ct.utils.rename_feature(spec, spec.description.output[0].name, OUTPUT_NAME)
        mlmodel = ct.models.MLModel(spec, skip_model_load=True)
    facts = nn_facts(spec, precision)
    if plan:
        facts["recurrent"] = plan
    return mlmodel, facts


def weights_to_float16(mlmodel: Any) -> Any:
    """coremltools' documented float16 compression for this format (`quantize_weights(nbits=16)`)."""
    from coremltools.models.neural_network import quantization_utils

    with contextlib.redirect_stdout(io.StringIO()):  # it prints "Quantizing using linear quantization"
        return quantization_utils.quantize_weights(mlmodel, nbits=16)


def nn_facts(spec: Any, precision: str) -> dict[str, Any]:
    """What the manifest records about a NeuralNetwork spec: version, io, and its layer types."""
    kinds: set[str] = set()

    def walk(layers: Any) -> None:
        for layer in layers:
            kind = layer.WhichOneof("layer")
            kinds.add(kind)
            params = getattr(layer, kind)
            for sub in SUB_NETWORKS.get(kind, ()):  # HasField of another message's field raises ValueError
                if params.HasField(sub):
                    walk(getattr(params, sub).layers)

    walk(spec.neuralNetwork.layers)
    inp = spec.description.input[0]
    return {
        "main": MODEL_FILE,
        "model_type": "neuralnetwork",
        "precision": precision,  # of the stored weights; every layer computes in float32 (see coreml_nn_ref)
        "specification_version": int(spec.specificationVersion),
        "input": {
            "name": inp.name,
            "shape": [None, int(inp.type.multiArrayType.shape[1])],
            "batch_range": [1, MAX_BATCH],
        },
        "outputs": [{"name": o.name} for o in spec.description.output],
        "nn_layers": sorted(kinds),
    }


class _NnFp32(CoremlNnExporter):
    target = "coreml-nn"
    precision = "float32"


class _NnFp16(CoremlNnExporter):
    """The float32 artifact's `.mlmodel` with its weights stored as float16: one conversion for both."""

    target = "coreml-nn-f16"
    precision = "float16"
    requires = ("coreml-nn",)

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, ArtifactFolder]) -> dict[str, Any]:
        source = inputs["coreml-nn"]
        source.verify()
        ct = import_coremltools()
        with quiet():
            mlmodel = ct.models.MLModel(str(source.main_file(MODEL_FILE)), skip_model_load=True)
            mlmodel = weights_to_float16(mlmodel)
            mlmodel.save(str(out / MODEL_FILE))
        facts = nn_facts(mlmodel.get_spec(), self.precision)
        if "recurrent" in source.manifest:
            facts["recurrent"] = source.manifest["recurrent"]
        return facts


def coreml_nn_fp32() -> Exporter:
    return _NnFp32()


def coreml_nn_fp16() -> Exporter:
    return _NnFp16()

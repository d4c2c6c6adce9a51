"""Core ML ML Program exporters (`coreml` fp16, `coreml-fp32`) from a concrete function.

`ct.convert` cannot read a Keras 3 model or a SavedModel folder (FACTS), so the bundle's model
is wrapped in a `tf.function` with an int32 [batch, L] signature and its single concrete
function is converted. The batch dimension is a bounded `RangeDim`: ML Programs refuse an
unbounded one, and an unset one came out as [1, 2], which Apple's runtime would enforce.
A model with recurrent layers is traced under `recurrent.convertible` (LSTM -> MIL `lstm`,
other RNNs unrolled): coremltools 9 mis-converts the while loop Keras 3 would otherwise trace.
TensorFlow and coremltools are imported inside functions so `import harness` stays light.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from harness.export import ArtifactFolder, Exporter
from harness.export.canonical import mlpackage_manifest
from harness.export.recurrent import convertible, recurrent_layers
from runtimes.coreml_ref import PACKAGE
from runtimes.frameworks import coreml_quiet as quiet
from runtimes.frameworks import import_coremltools

INPUT_NAME = "token_ids"
OUTPUT_NAME = "scores"
MAX_BATCH = 1024  # upper bound of the flexible batch dimension; runtimes feed chunks of at most this
DEPLOYMENT_TARGET = "iOS15"  # the first OS with ML Programs: the widest reach for the app


class CoremlExporter(Exporter):
    packages = ("coremltools", "tensorflow", "keras")
    precision = "float16"
    version = 3  # 3: Manifest.json with identifiers derived from the items (byte-reproducible, canonical.py)

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, ArtifactFolder]) -> dict[str, Any]:
        with quiet():
            mlmodel, facts = convert(load_model(bundle), self.precision, bundle.model_path)
            mlmodel.save(str(out / PACKAGE))
        mlpackage_manifest(out / PACKAGE)
        return facts


def load_model(bundle: Bundle) -> Any:
    """The bundle's model, by the Keras that wrote it (a tf_keras model by tf_keras: Keras 3 cannot
    read a Keras 2 LSTM's config), for both Core ML formats; one-line HarnessError if it cannot."""
    from runtimes.frameworks import load_keras_file

    try:
        return load_keras_file(bundle.model_path, bundle.model_framework)
    except Exception as e:  # keras raises many types for a bad file
        raise HarnessError(f"{bundle.model_path}: Keras cannot load it ({str(e).splitlines()[0][:200]})") from None


def token_ids_input(ct: Any, length: int) -> list[Any]:
    """Both converters' `inputs`: int32 token ids [batch in 1..MAX_BATCH, length] named INPUT_NAME."""
    return [ct.TensorType(name=INPUT_NAME, shape=(ct.RangeDim(1, MAX_BATCH, default=1), length), dtype=np.int32)]


def convert(
    model: Any, precision: str, path: Path, *, fp16_op: Callable[[Any], bool] | None = None
) -> tuple[Any, dict[str, Any]]:
    """The ML Program for a loaded Keras model (`precision` "float16" or "float32") and the facts
    the artifact manifest records; `path` names the model in errors. Tests call it directly.
    `fp16_op`: Core ML's per-op precision selection (FP16ComputePrecision's op_selector; False
    keeps an op in float32), for `harness reduce` (harness/check/reduce.py)."""
    ct = import_coremltools()
    mlmodel, plan = convert_function(
        model,
        path,
        "",
        convert_to="mlprogram",
        compute_precision=_compute_precision(ct, precision, fp16_op),
        minimum_deployment_target=getattr(ct.target, DEPLOYMENT_TARGET),
    )
    facts = _facts(mlmodel, precision)
    if plan:
        facts["recurrent"] = plan
    return _rename_output(ct, mlmodel, facts), facts


def convert_function(model: Any, path: Path, to: str, **options: Any) -> tuple[Any, list[dict[str, str]]]:
    """(the converted model, the recurrent-layer plan) for both Core ML formats: the model's
    concrete function through `ct.convert(..., **options)` with int32 token-id inputs. A refusal
    is one HarnessError line naming the file, coremltools' version, `to` (" to a NeuralNetwork";
    "" for an ML Program) and, for a traced while loop, why it fails."""
    ct = import_coremltools()
    with quiet():
        function, plan, length = concrete_function(model, path)
        try:
            with frozen_heap():
                return ct.convert([function], source="tensorflow", inputs=token_ids_input(ct, length), **options), plan
        except Exception as e:  # the converter raises bare ValueError/NotImplementedError
            raise HarnessError(
                f"{path}: coremltools {ct.__version__} cannot convert it{to} ({str(e).splitlines()[0][:300]})"
                + _loop_hint(function)
            ) from None


def concrete_function(model: Any, path: Path) -> tuple[Any, list[dict[str, str]], int]:
    """The model's serving function as both Core ML converters take it (int32 [batch, length]
    ids), with the recurrent-layer plan it was traced under (harness/export/recurrent.py) and
    the input length. Call it under `quiet()`."""
    import tensorflow as tf

    length = _input_length(model, path)
    serve = tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec([None, length], tf.int32, name=INPUT_NAME)],
    )
    plan: list[dict[str, str]] = []
    if recurrent_layers(model):
        try:
            with convertible(model) as plan:
                return serve.get_concrete_function(), plan, length
        except HarnessError as e:
            raise HarnessError(f"{path}: {e}") from None
    return serve.get_concrete_function(), plan, length


def _compute_precision(ct: Any, precision: str, fp16_op: Callable[[Any], bool] | None) -> Any:
    if precision != "float16":
        return ct.precision.FLOAT32
    return ct.precision.FLOAT16 if fp16_op is None else ct.transform.FP16ComputePrecision(op_selector=fp16_op)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """coremltools calls gc.collect() three times per conversion (entry point, TF loader, constant
    propagation); with TensorFlow and Keras loaded each pass over the heap took 0.5-0.75 s here.
    Freezing the objects that exist before the conversion keeps them out of those passes."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _loop_hint(function: Any) -> str:
    """Why a graph with a while loop fails, on the same line (see `recurrent` for the cause)."""
    loops = sorted({op.type for op in function.graph.get_operations() if op.type in ("While", "StatelessWhile")})
    if not loops:
        return ""
    return (
        f"; the traced graph has a while loop ({', '.join(loops)}), which the coremltools 9 TF2 frontend "
        "cannot convert (rewrite_control_flow_functions.py deletes the loop counter its condition reads)"
    )


def _rename_output(ct: Any, mlmodel: Any, facts: dict[str, Any]) -> Any:
    """TF names the output `Identity`; the app reads `scores` (renamed in the spec, as
    coremltools documents for ML Programs, keeping the same weights folder)."""
    spec = mlmodel.get_spec()
    old = spec.description.output[0].name
    if old == OUTPUT_NAME:
        return mlmodel
    ct.utils.rename_feature(spec, old, OUTPUT_NAME)
    facts["outputs"][0]["name"] = OUTPUT_NAME
    return ct.models.MLModel(spec, weights_dir=mlmodel.weights_dir, skip_model_load=True)


def _input_length(model: Any, path: Path) -> int:
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise HarnessError(
            f"{path}: expected one input and one output, got {len(model.inputs)} and {len(model.outputs)}"
        )
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 2 or not shape[1]:
        raise HarnessError(f"{path}: input shape {list(shape)}; expected token ids [None, L]")
    return int(shape[1])


def _facts(mlmodel: Any, precision: str) -> dict[str, Any]:
    from coremltools.converters.mil.mil import types

    spec = mlmodel.get_spec()
    fn = mlmodel._mil_program.functions["main"]

    def shape_of(var: Any) -> list[int | None]:
        return [int(d) if isinstance(d, int) else None for d in var.shape]

    (inp,) = fn.inputs.values()
    return {
        "main": PACKAGE,
        "precision": precision,
        "minimum_deployment_target": DEPLOYMENT_TARGET,
        "specification_version": int(spec.specificationVersion),
        "opset": spec.mlProgram.functions["main"].opset,
        "input": {
            "name": inp.name,
            "dtype": types.builtin_to_string(inp.dtype),
            "shape": shape_of(inp),
            "batch_range": [1, MAX_BATCH],
        },
        "outputs": [
            {"name": v.name, "dtype": types.builtin_to_string(v.dtype), "shape": shape_of(v)} for v in fn.outputs
        ],
        "mil_ops": sorted({op.op_type for op in fn.operations}),
    }


class _Fp16(CoremlExporter):
    target = "coreml"
    precision = "float16"


class _Fp32(CoremlExporter):
    target = "coreml-fp32"
    precision = "float32"


def coreml_fp16() -> Exporter:
    return _Fp16()


def coreml_fp32() -> Exporter:
    return _Fp32()

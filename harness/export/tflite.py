"""LiteRT (.tflite) exports for Android: `tflite`, `tflite-f16`, `tflite-dr8`, `tflite-int8`.

TensorFlow's own `tf.lite.TFLiteConverter` does all four (litert-converter does not install
beside the pinned set: xdsl wants typing-extensions<4.13). Choices, measured with TF 2.19 and
Keras 3.15 (/work/proto/tflite/FINDINGS.md):

- The input is the cached `savedmodel` artifact, through `from_saved_model`. Never an unfrozen
  Keras 3 concrete function: that converts WITHOUT error but keeps the weights as resource
  variables (VAR_HANDLE/READ_VARIABLE), a 6 KB file that scores NaN.
- Builtin ops only. The plain Android runtime has no Select TF ("Flex") ops; they need the
  multi-megabyte tensorflow-lite-select-tf-ops library. A model that needs them
  (tf.MatrixDeterminant) or has ops LiteRT has no kernel for (tf.Digamma) is refused, naming
  the ops from the converter's structured errors (its message text is a long MLIR dump).
- Keras 3 recurrent layers are refused with a dynamic batch (tf.TensorListReserve "requires
  element_shape to be static") but convert to a builtin WHILE with a static batch of 1, so on
  that refusal the exporter converts a frozen [1, L] function and records `static_batch` in the
  manifest; runtimes then invoke once per row, as an app does. Full int8 is refused for them
  up front: TF 2.19's calibrator segfaults on that WHILE loop (it cannot be caught).
- `tflite-int8` calibrates on the whole training split of the bundle's corpus, in corpus
  order (deterministic, 0.8 s): the first 300 reviews clip activations (max |diff| vs keras
  0.109; all 8,469: 0.0094). The int32 ids stay int32 (the converter quantizes float tensors
  only) and the output stays float32: the int8 sigmoid has a fixed step of 1/256, so an int8
  output would carry the same information and make every app dequantize.
- Conversion is byte-reproducible for the same SavedModel and versions, so the cache key
  (bundle hash, exporter version, tensorflow and keras versions) is enough.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from harness.core.quiet import native_stderr
from harness.data import corpus
from harness.export import ArtifactFolder, Exporter
from harness.export.tflite_flatbuffer import describe

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODEL_FILE = "model.tflite"
SIGNATURE_KEY = "serving_default"
CALIBRATION_SPLIT = "train"
QUANTIZATIONS = ("float32", "float16", "dynamic-int8", "int8")


class TfliteExporter(Exporter):
    """One quantization of the bundle's SavedModel through TF's own TFLite converter."""

    requires = ("savedmodel",)
    packages = ("tensorflow", "keras")  # the converter ships in TensorFlow; keras builds the static-batch path

    def __init__(self, target: str, quantization: str) -> None:
        assert quantization in QUANTIZATIONS, quantization
        self.target = target
        self.quantization = quantization

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, ArtifactFolder]) -> dict[str, Any]:
        ids = calibration_ids(bundle) if self.quantization == "int8" else None
        data, facts = convert(
            inputs["savedmodel"].path / "savedmodel",
            self.quantization,
            bundle.signature().length,
            load_model=lambda: load_keras(bundle.model_path),
            ids=ids,
            source=str(bundle.model_path),
        )
        if ids is not None:
            facts["calibration"] = {
                "corpus": corpus_name(bundle),
                "split": CALIBRATION_SPLIT,
                "reviews": len(ids),
                "ids_sha256": hashlib.sha256(np.ascontiguousarray(ids).tobytes()).hexdigest(),
            }
        (out / MODEL_FILE).write_bytes(data)
        return {"main": MODEL_FILE, **facts}


def convert(
    saved: Path,
    quantization: str,
    length: int,
    *,
    load_model: Callable[[], Any],
    ids: np.ndarray | None,
    source: str,
) -> tuple[bytes, dict[str, Any]]:
    """(.tflite bytes, manifest facts) for a SavedModel; `load_model` gives the Keras model for
    the static-batch retry. A refusal is a one-line HarnessError naming `source` and the ops."""
    with native_stderr():
        import tensorflow as tf

    facts: dict[str, Any] = {}
    conv = configure(
        tf, tf.lite.TFLiteConverter.from_saved_model(str(saved), signature_keys=[SIGNATURE_KEY]), quantization, ids=ids
    )
    try:
        data = run_converter(tf, conv, source)
    except TensorListRefusal as refused:
        if quantization == "int8":  # refuse before calibrating: the segfault cannot be caught
            raise HarnessError(
                f"{refused}; a static batch of 1 converts it, but TF {tf.__version__}'s int8 calibrator crashes "
                "on the WHILE loop that makes; tflite, tflite-f16 and tflite-dr8 take it"
            ) from None
        with native_stderr(replay=False):  # grappler logs its device count while freezing
            static = static_batch_converter(tf, load_model(), length)
        conv = configure(tf, static, quantization, ids=ids)
        data = run_converter(tf, conv, source)
        facts["static_batch"] = {"batch": 1, "why": refused.why}
    return data, {
        "model_format": "tflite",  # not "format": that key is the manifest's own (harness-artifact/1)
        "quantization": quantization,
        "converter": f"tf.lite.TFLiteConverter (tensorflow {tf.__version__})",
        "supported_ops": "TFLITE_BUILTINS_INT8" if quantization == "int8" else "TFLITE_BUILTINS",
        **describe(data),
        **facts,
    }


def configure(tf: Any, conv: Any, quantization: str, *, ids: np.ndarray | None) -> Any:
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization == "float16":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    elif quantization == "dynamic-int8":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantization == "int8":
        if ids is None:
            raise HarnessError("tflite-int8 needs calibration ids")
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.representative_dataset = lambda: ([row.reshape(1, -1)] for row in ids)
    return conv


def load_keras(path: Path) -> Any:
    """The model by the Keras that wrote it (a tf_keras .h5 by tf_keras, core/keras_file.py)."""
    from harness.core.keras_file import framework
    from runtimes.frameworks import load_keras_file

    return load_keras_file(path, framework(path))


def static_batch_converter(tf: Any, model: Any, length: int) -> Any:
    """A converter for `model` with input int32 [1, L], its weights frozen to constants (frozen
    on purpose: see the module docstring on unfrozen concrete functions)."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    fn = tf.function(
        lambda x: model(x, training=False), input_signature=[tf.TensorSpec([1, length], tf.int32, name="token_ids")]
    )
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    return tf.lite.TFLiteConverter.from_concrete_functions([frozen])


def corpus_name(bundle: Bundle) -> str:
    return str(bundle.metrics().get("corpus", {}).get("name", corpus.BUILTIN))


def calibration_ids(bundle: Bundle) -> np.ndarray:
    """Token ids of the training split of the bundle's corpus, in corpus order (a foreign
    bundle's model, trained elsewhere, calibrates on the built-in corpus, as its held-out does)."""
    name = corpus_name(bundle)
    try:
        reviews = corpus.by_split(corpus.load(name))[CALIBRATION_SPLIT]
    except HarnessError as e:
        raise HarnessError(
            f"tflite-int8 calibrates on the bundle's corpus {name!r}, which cannot be loaded: {e}"
        ) from None
    if not reviews:
        raise HarnessError(f"corpus {name!r} has no reviews in the {CALIBRATION_SPLIT} split to calibrate int8 on")
    from runtimes import tokenizers  # the bundle's own kind of tokenizer (a Keras Tokenizer too)

    return np.asarray(tokenizers.tokenize(tokenizers.REFERENCE, bundle, [r.text for r in reviews]), dtype=np.int32)


class TensorListRefusal(HarnessError):
    """The converter refused tensor-list ops (recurrent layers): a static batch may still convert."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why


def run_converter(tf: Any, conv: Any, source: str) -> bytes:
    """The converter, quietly; a refusal becomes a one-line HarnessError that names the ops."""
    from tensorflow.lite.python.convert_phase import ConverterError

    try:
        with contextlib.redirect_stdout(io.StringIO()), native_stderr(replay=False):
            return bytes(conv.convert())
    except ConverterError as e:
        why = refusal(e)
        message = f"{source}: the TFLite converter (tensorflow {tf.__version__}) cannot take it ({why})"
        if "tensor lists" in why:
            raise TensorListRefusal(message, why) from None
        raise HarnessError(message) from None
    except (ValueError, RuntimeError) as e:  # e.g. "Quantization not yet supported for op" at calibration
        words = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        raise HarnessError(
            f"{source}: the TFLite converter (tensorflow {tf.__version__}) failed ({words[:240]})"
        ) from None


def refusal(e: Any) -> str:
    """'needs Select TF ops: tf.MatrixDeterminant' etc., from the converter's structured errors."""
    by_reason: dict[str, set[str]] = {}
    first = ""
    for err in getattr(e, "errors", []):
        code = err.ErrorCode.Name(err.error_code)
        op = err.operator.name
        first = first or err.error_message.strip().splitlines()[0][:200]
        if "TensorList" in op or "tensor list" in err.error_message.lower():
            by_reason.setdefault("needs Select TF ops for tensor lists (recurrent layers)", set()).add(op)
        elif code == "ERROR_NEEDS_FLEX_OPS":
            by_reason.setdefault("needs Select TF ops", set()).add(op)
        elif code == "ERROR_NEEDS_CUSTOM_OPS":
            by_reason.setdefault("ops with no LiteRT kernel", set()).add(op)
    if by_reason:
        return "; ".join(
            f"{why}: {', '.join(sorted(o for o in ops if o and o != 'tf.Const') or sorted(ops))}"
            for why, ops in by_reason.items()
        )
    return first or next((line.strip() for line in str(e).splitlines() if line.strip()), "ConverterError")[:240]


def tflite_f32() -> Exporter:
    return TfliteExporter("tflite", "float32")


def tflite_f16() -> Exporter:
    return TfliteExporter("tflite-f16", "float16")


def tflite_dr8() -> Exporter:
    return TfliteExporter("tflite-dr8", "dynamic-int8")


def tflite_int8() -> Exporter:
    return TfliteExporter("tflite-int8", "int8")

"""The heavy frameworks (Keras/TensorFlow, coremltools), imported lazily and quietly.

Every layer that needs one (training, exporters, engines) comes here, so `import harness` and
`import runtimes` stay light and the noise each framework prints on a CPU machine is muted in
one place.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.core.quiet import native_stderr

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def import_keras() -> Any:
    """Keras 3 on the TensorFlow backend, quietly."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with native_stderr():  # TF's import prints CUDA/XLA registration noise on a CPU machine
        import keras

    return keras


def import_tf_keras() -> Any:
    """Keras 2 (tf_keras), the Keras of models saved for TF.js layers models, quietly."""
    with native_stderr():
        import tf_keras

    return tf_keras


def load_keras_file(path: Any, framework: str = "keras") -> Any:
    """A model file by the Keras that wrote it: "keras" (Keras 3) or "tf_keras" (Keras 2)."""
    with native_stderr():
        if framework == "tf_keras":
            return import_tf_keras().models.load_model(path, compile=False)
        return import_keras().saving.load_model(path, compile=False)


@contextmanager
def coreml_quiet() -> Iterator[None]:
    """coremltools logs a warning per missing macOS proxy and per untested TF version; TF's C++
    logs go to fd 2; the converter draws tqdm bars. None of it is actionable here, not even when
    the conversion fails: the caller turns that into its own one-line error."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    log = logging.getLogger("coremltools")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with native_stderr(replay=False), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def import_coremltools() -> Any:
    """coremltools, imported quietly (it imports TensorFlow itself when installed)."""
    with coreml_quiet():
        import coremltools

    return coremltools


def tflite_schema() -> Any:
    """TensorFlow's generated TFLite flatbuffer schema (reads a .tflite without an interpreter)."""
    with native_stderr():
        from tensorflow.lite.python import schema_py_generated

    return schema_py_generated

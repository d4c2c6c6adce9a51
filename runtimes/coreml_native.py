"""`coreml-native` (fp16) and `coreml-native@fp32`: Apple's Core ML through coremltools, macOS only.

Same session interface as every runtime, so a macOS runner needs no code change. Elsewhere it
is listed as unavailable with the reason; `coreml-ref` evaluates the same package there.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.bundle import positive_scores
from harness.core.errors import HarnessError
from runtimes.base import Availability, RunResult, Runtime, Session
from runtimes.coreml_ref import PACKAGE

LINUX_REASON = "Apple's Core ML framework runs only on macOS (coremltools.libcoremlpython is absent on Linux)"


def _has_native_library() -> bool:
    """Look for coremltools' compiled bridge without importing coremltools (which imports TF)."""
    spec = importlib.util.find_spec("coremltools")
    if spec is None or not spec.submodule_search_locations:
        return False
    return any(any(Path(d).glob("libcoremlpython*")) for d in spec.submodule_search_locations)


class CoremlNativeSession(Session):
    def __init__(
        self, mlmodel: Any, batch_max: int, length: int, *, vocab_size: int, positive_index: int | None
    ) -> None:
        super().__init__(length, vocab_size)
        self.mlmodel = mlmodel
        spec = mlmodel.get_spec()
        self._input = spec.description.input[0].name
        self._output = spec.description.output[0].name
        self._chunk = max(1, batch_max)
        self._positive_index = positive_index

    # MLModel.predict returns only the outputs the model declares; Core ML has no API to read an
    # intermediate tensor of a compiled model (coreml-ref shows the same package's, op by op).
    cannot_expose = (
        "Apple's Core ML runtime returns only the model's declared outputs (MLModel.predict); "
        "its intermediate tensors cannot be read (coreml-ref shows this package's op by op)"
    )
    cannot_replay = "Apple's Core ML runs a compiled model from its declared inputs only (coreml-ref replays op by op)"

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        out = self.mlmodel.predict({self._input: ids})[self._output]
        return np.asarray(out, dtype=np.float64).reshape(len(ids), -1)

    def _run(self, ids: np.ndarray) -> RunResult:
        started = time.perf_counter()
        parts = [self._predict(ids[i : i + self._chunk]) for i in range(0, len(ids), self._chunk)]
        seconds = time.perf_counter() - started
        return RunResult(positive_scores(np.concatenate(parts), self._positive_index), seconds)

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        feed = {self._input: ids}
        return self._time_calls(lambda: self.mlmodel.predict(feed), repeats, warmup)


class CoremlNativeRuntime(Runtime):
    def availability(self) -> Availability:
        if sys.platform != "darwin":
            return Availability(False, LINUX_REASON, "run on a macOS machine (pip install coremltools==9.0 there)")
        if importlib.util.find_spec("coremltools") is None:
            return Availability(False, "coremltools is not installed", "pip install coremltools==9.0 (make setup)")
        if not _has_native_library():
            return Availability(
                False,
                "coremltools has no libcoremlpython here (a source build or an unsupported macOS/Python)",
                "pip install --force-reinstall coremltools==9.0 from a wheel for this macOS and Python",
            )
        return Availability(True)

    main_file = PACKAGE  # the artifact's model file, and what it is, as an error names it
    artifact_kind = "a Core ML artifact"

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        ok = self.availability()
        if not ok.ok:
            raise HarnessError(f"{self.id} cannot run here: {ok.reason}")
        if artifact is None:
            raise HarnessError(f"{self.id} needs {self.artifact_kind} (target {self.spec.target})")
        from runtimes.frameworks import coreml_quiet as quiet
        from runtimes.frameworks import import_coremltools

        artifact.verify()
        ct = import_coremltools()
        sig = bundle.signature()
        path = artifact.main_file(self.main_file)
        started = time.perf_counter()
        with quiet():
            units = getattr(ct.ComputeUnit, str(self.spec.options.get("compute_units", "ALL")))
            mlmodel = ct.models.MLModel(str(path), compute_units=units)
        session = self._session(mlmodel, path, sig)
        session.load_seconds = time.perf_counter() - started
        session.info = {"engine": "Core ML (macOS)", "coremltools": ct.__version__, "compute_units": units.name}
        session.info["artifact"] = artifact.target
        return session

    def _session(self, mlmodel: Any, path: Path, sig: Any) -> CoremlNativeSession:
        """The session over the loaded model, its inputs and outputs checked against `sig`."""
        from runtimes.coreml_ref import check_program_io

        inputs, outputs, batch_max = _io(mlmodel.get_spec())
        check_program_io(path, inputs, outputs, length=sig.length)
        return CoremlNativeSession(
            mlmodel, batch_max, sig.length, vocab_size=sig.vocab_size, positive_index=sig.positive_index
        )


def _io(spec: Any) -> tuple[list[Any], list[Any], int]:
    """The model description's features as the evaluator's TensorSpecs (batch dim flexible; an
    ML Program's outputs declare no shape, taken as [N, C]) and the largest accepted batch."""
    from coremltools.proto.FeatureTypes_pb2 import ArrayFeatureType as A

    from runtimes.coreml_ref.evaluator import TensorSpec, batch_upper_bound

    dtypes = {A.FLOAT32: np.float32, A.FLOAT16: np.float16, A.DOUBLE: np.float64, A.INT32: np.int32}

    def of(feature: Any) -> TensorSpec:
        arr = feature.type.multiArrayType
        dtype = np.dtype(dtypes.get(arr.dataType, np.void))
        shape = tuple(None if i == 0 else int(d) for i, d in enumerate(arr.shape)) if len(arr.shape) else (None, None)
        return TensorSpec(feature.name, dtype, shape)

    return (
        [of(f) for f in spec.description.input],
        [of(f) for f in spec.description.output],
        batch_upper_bound(spec) or 1,
    )

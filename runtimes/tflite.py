"""`tflite[@f16|@dr8|@int8]` and `tflite-ref[...]`: the Android artifact on the LiteRT interpreter.

The interpreter is LiteRT (`ai-edge-litert` 2.3.0: the native runtime Android's AARs wrap,
TensorFlow-free, installs beside the pinned set). Without it, TensorFlow's own
`tf.lite.Interpreter` (deprecated for deletion in TF 2.20, same kernels: bit-identical scores
on every variant here).

Kernels, from the spec's `backend`:
- "xnnpack" (ids `tflite[@v]`): the default op resolver, which applies the XNNPACK delegate as a
  phone's CPU path does. It takes CONV_2D, RESHAPE, REDUCE_MAX, FULLY_CONNECTED, LOGISTIC (and
  DEQUANTIZE); Keras's negative-id wrap (LESS/ADD/SELECT_V2), GATHER and EXPAND_DIMS stay on
  the built-in kernels. A session that finds no delegated node refuses to pose as XNNPACK.
- "ref" (ids `tflite-ref[@v]`): BUILTIN_REF, the reference kernels, no delegate. Float32 and
  float16 agree with XNNPACK within 1.2e-7; quantized models do not (dr8: up to 3.3e-3, XNNPACK's
  own dynamic-range path; int8: 2 output steps on one golden row), hence separate runtimes.

Threads are pinned to 1 (a phone's single big-core figure) and stated in the session info. A
batch is one invoke on the input resized to [N, L] (bit-identical to a row-by-row loop); a
model converted with a static batch of 1 (recurrent layers) is invoked once per row. A batch's
seconds are its set_tensor + invoke + get_tensor calls, without the re-allocation for a new
shape. Latency times set_tensor + invoke + get_tensor of one review, as an app calls it, after
warm-up.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.bundle import positive_scores
from harness.core.errors import HarnessError
from harness.core.quiet import native_stderr
from harness.core.versions import dist_version
from runtimes.base import Availability, RunResult, Runtime, Session

MODEL_FILE = "model.tflite"  # the artifact's default entry point (its manifest names it as `main`)
CHUNK = 4096  # rows per invoke: bounds the resized tensors, not the results
THREADS = 1
KERNELS = ("xnnpack", "ref")


def interpreter_api() -> tuple[Any, Any, str]:
    """(Interpreter class, OpResolverType, engine words): LiteRT when installed, else TF's."""
    if importlib.util.find_spec("ai_edge_litert") is not None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        return Interpreter, OpResolverType, f"ai-edge-litert {dist_version('ai-edge-litert')}"
    import warnings

    from runtimes.frameworks import import_keras

    import_keras()  # TensorFlow, quietly
    import tensorflow as tf

    with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated": known, see the module docstring
        warnings.simplefilter("ignore")
        return tf.lite.Interpreter, tf.lite.experimental.OpResolverType, f"tensorflow {tf.__version__} tf.lite"


def check_io(path: Path, inp: dict[str, Any], out: dict[str, Any], *, length: int) -> None:
    """Refuse a model that does not take int32 [N or 1, length] ids to one [N, C] score tensor."""
    shape = [int(d) for d in inp["shape_signature"]]
    if inp["dtype"] != np.int32 or len(shape) != 2 or shape[1] != length or shape[0] not in (-1, 1):
        raise HarnessError(
            f"{path}: input {inp['name']!r} is {np.dtype(inp['dtype']).name} {shape}; "
            f"expected int32 [N, {length}] token ids"
        )
    if out["dtype"] not in (np.float32, np.int8, np.uint8) or len(out["shape_signature"]) not in (1, 2):
        raise HarnessError(
            f"{path}: output {out['name']!r} is {np.dtype(out['dtype']).name} {out['shape_signature'].tolist()}; "
            "expected one float [N, C] score tensor"
        )


class TfliteSession(Session):
    # LiteRT keeps intermediate tensors only when built with experimental_preserve_all_tensors,
    # and XNNPACK's delegate partitions keep none: not wired into `compare --layers` yet.
    cannot_expose = "LiteRT keeps no intermediate tensor in this session (XNNPACK partitions, no preserve_all_tensors)"
    cannot_replay = (
        "the LiteRT interpreter runs the whole model from its inputs; it takes no intermediate tensor as input"
    )

    def __init__(self, path: Path, length: int, vocab_size: int, *, positive_index: int | None, kernels: str) -> None:
        super().__init__(length, vocab_size)
        interpreter, resolvers, engine = interpreter_api()
        resolver = resolvers.AUTO if kernels == "xnnpack" else resolvers.BUILTIN_REF
        try:  # quiet: LiteRT logs "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." to fd 2
            with native_stderr(replay=False):
                self._it = interpreter(
                    model_path=str(path), num_threads=THREADS, experimental_op_resolver_type=resolver
                )
        except (ValueError, RuntimeError) as e:
            raise HarnessError(f"{path}: LiteRT cannot load it ({str(e).strip().splitlines()[0][:200]})") from None
        ins, outs = self._it.get_input_details(), self._it.get_output_details()
        if len(ins) != 1 or len(outs) != 1:
            raise HarnessError(f"{path}: {len(ins)} inputs and {len(outs)} outputs; expected one of each")
        self._inp, self._out = ins[0], outs[0]
        check_io(path, self._inp, self._out, length=length)
        # TF imported in this process lends LiteRT its Flex delegate, so a model with Select TF ops
        # would run here; a phone's plain runtime has none: refuse it.
        flex = sorted({op["op_name"] for op in self._it._get_ops_details() if op["op_name"].startswith("Flex")})
        if flex:
            raise HarnessError(
                f"{path}: needs Select TF ops ({', '.join(flex)}), which the plain Android runtime lacks"
            )
        self._batch_max = CHUNK if int(self._inp["shape_signature"][0]) == -1 else 1
        self._rows = 0
        self._positive_index = positive_index
        with native_stderr(replay=False):  # the delegate is applied (and logs) at the first allocation
            self._resize(1)
        delegated = sum(1 for op in self._it._get_ops_details() if op["op_name"] == "DELEGATE")
        if kernels == "xnnpack" and delegated == 0:
            raise HarnessError(f"{path}: the XNNPACK delegate took no part of the graph")
        self.info = {
            "engine": engine,
            "kernels": kernels,
            "num_threads": THREADS,
            "xnnpack_partitions": delegated,
            "batch_max": self._batch_max,
        }

    def _resize(self, rows: int) -> None:
        if rows != self._rows:
            self._it.resize_tensor_input(self._inp["index"], [rows, self.length], strict=True)
            try:
                self._it.allocate_tensors()
            except RuntimeError as e:  # "Node number 0 (...) failed to prepare"
                raise HarnessError(f"LiteRT cannot prepare the model: {' '.join(str(e).split())[-200:]}") from None
            self._rows = rows

    def _invoke(self, ids: np.ndarray) -> tuple[np.ndarray, float]:
        """Scores of one chunk and the seconds its set_tensor + invoke + get_tensor took (not the
        resize: re-allocating for a new batch shape is a one-off an app pays once per shape)."""
        self._resize(len(ids))
        started = time.perf_counter()
        self._it.set_tensor(self._inp["index"], ids)
        self._it.invoke()
        y = self._it.get_tensor(self._out["index"])
        seconds = time.perf_counter() - started
        if self._out["dtype"] != np.float32:  # an int8/uint8 output: dequantize with its own parameters
            scale, zero = self._out["quantization"]
            return (y.astype(np.float64) - zero) * scale, seconds
        return np.array(y, dtype=np.float64), seconds

    def _run(self, ids: np.ndarray) -> RunResult:
        step = self._batch_max
        parts = [self._invoke(ids[i : i + step]) for i in range(0, len(ids), step)]
        out = np.concatenate([p[0] for p in parts])
        return RunResult(positive_scores(out, self._positive_index), sum(p[1] for p in parts))

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        self._resize(1)
        it, i, o = self._it, self._inp["index"], self._out["index"]
        row = np.ascontiguousarray(ids[:1], dtype=np.int32)

        def call() -> None:
            it.set_tensor(i, row)
            it.invoke()
            it.get_tensor(o)

        return self._time_calls(call, repeats, warmup)


class TfliteRuntime(Runtime):
    """The spec's `backend` picks the kernels: "xnnpack" or "ref"."""

    def availability(self) -> Availability:
        # find_spec, not import: cheap for a listing (TensorFlow's import costs seconds)
        if importlib.util.find_spec("ai_edge_litert") is None and importlib.util.find_spec("tensorflow") is None:
            return Availability(
                False,
                "neither ai-edge-litert nor tensorflow is installed",
                "pip install ai-edge-litert==2.3.0 (make setup)",
            )
        return Availability(True)

    def kernels(self) -> str:
        return str(self.spec.backend or "xnnpack")

    def context(self) -> str:
        litert = dist_version("ai-edge-litert")
        engine = (
            f"ai-edge-litert {litert}" if litert != "absent" else f"tf.lite (tensorflow {dist_version('tensorflow')})"
        )
        return f"LiteRT, {engine}, {self.kernels()} kernels, {THREADS} thread"

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        if artifact is None:
            raise HarnessError(f"{self.id} needs a .tflite artifact (target {self.spec.target})")
        kernels = self.kernels()
        if kernels not in KERNELS:
            raise HarnessError(f"{self.id}: unknown kernels {kernels!r} (expected one of {', '.join(KERNELS)})")
        artifact.verify()
        started = time.perf_counter()
        sig = bundle.signature()
        session = TfliteSession(
            artifact.main_file(MODEL_FILE),
            sig.length,
            sig.vocab_size,
            positive_index=sig.positive_index,
            kernels=kernels,
        )
        session.load_seconds = time.perf_counter() - started
        session.info["artifact"] = artifact.target
        if "static_batch" in artifact.manifest:
            session.info["static_batch"] = artifact.manifest["static_batch"]["batch"]
        return session

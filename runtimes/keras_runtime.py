"""`keras`: the reference, the bundle's model.keras through a compiled serving function.

`model.predict` costs ~100 ms a call in per-call overhead (FACTS); a `tf.function` with a
fixed int32 [None, L] signature is traced once and then runs the graph directly.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from harness.core.bundle import positive_scores
from harness.core.quiet import native_stderr
from runtimes.base import Availability, RunResult, Runtime, Session
from runtimes.frameworks import import_keras, import_tf_keras, load_keras_file
from runtimes.tensors import CannotExpose, TensorGraph


class KerasSession(Session):
    def __init__(self, model: Any, length: int, vocab_size: int, *, positive_index: int | None) -> None:
        super().__init__(length, vocab_size)
        import tensorflow as tf

        self._tf = tf
        self.model = model
        self._positive_index = positive_index
        self._probes: Any = None  # (traced probe function, probes), built on first use
        self._serve = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([None, length], tf.int32)],
            reduce_retracing=True,
        )
        self._serve(tf.zeros([1, length], tf.int32))  # trace now, not in the first timed call
        self.info = {"tensorflow": tf.__version__, "keras": import_keras().__version__}

    def _call(self, ids: np.ndarray) -> np.ndarray:
        return self._serve(self._tf.constant(ids)).numpy()

    def _run(self, ids: np.ndarray) -> RunResult:
        started = time.perf_counter()
        out = np.concatenate([self._call(ids[i : i + 4096]) for i in range(0, len(ids), 4096)])
        seconds = time.perf_counter() - started
        return RunResult(positive_scores(out, self._positive_index), seconds)

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        x = self._tf.constant(ids)
        return self._time_calls(lambda: self._serve(x).numpy(), repeats, warmup)

    def _probe_fn(self) -> Any:
        if self._probes is None:
            from runtimes.keras_probes import probe_model

            with native_stderr():
                sub, probes = probe_model(self.model)
                fn = self._tf.function(
                    lambda x: sub(x, training=False),
                    input_signature=[self._tf.TensorSpec([None, self.length], self._tf.int32)],
                )
            self._probes = (fn, probes)
            self._sub = sub
        return self._probes

    def tensor_graph(self) -> TensorGraph:
        """Every layer's output (and pre-activation, final cell state): see runtimes/keras_probes.py."""
        return TensorGraph(probes=tuple(self._probe_fn()[1]), model=str(self.model.name))

    def intermediates(self, ids: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
        fn, probes = self._probe_fn()
        index = {p.name: i for i, p in enumerate(probes)}
        unknown = [n for n in names if n not in index]
        if unknown:
            raise CannotExpose(f"the Keras model has no tensor {unknown[0]!r}")
        values = fn(self._tf.constant(self.check_ids(ids)))
        return {n: np.asarray(values[index[n]]) for n in names}

    def replay(self, ids: np.ndarray, feeds: Mapping[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
        """Each named layer run by itself on the fed values (runtimes/keras_replay.py)."""
        from runtimes.keras_replay import replay

        _, probes = self._probe_fn()
        with native_stderr():
            return replay(self.model, self._sub, probes, ids=self.check_ids(ids), feeds=feeds, names=names)

    _sub: Any = None  # the probe sub-model, for the pre-activation twins


class KerasRuntime(Runtime):
    def availability(self) -> Availability:
        if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None:
            return Availability(False, "tensorflow/keras not installed", "make setup (installs the pinned set)")
        return Availability(True)

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        started = time.perf_counter()
        framework = bundle.model_framework  # a Keras 2 model (tf_keras) runs on the Keras that wrote it
        with native_stderr():
            model = self.prepare(load_keras_file(bundle.model_path, framework))
            sig = bundle.signature()
            session = KerasSession(model, sig.length, sig.vocab_size, positive_index=sig.positive_index)
        if framework == "tf_keras":
            session.info["keras"] = f"tf_keras {import_tf_keras().__version__}"
        session.load_seconds = time.perf_counter() - started
        return session

    def prepare(self, model: Any) -> Any:
        """Hook for variants of the reference (see runtimes/testing.py); the reference runs as is."""
        return model

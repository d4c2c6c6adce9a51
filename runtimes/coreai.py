"""`coreai` and `coreai@f16`: Apple's Core AI engine running the exported `.aimodel`.

What it is: the portable CPU engine Apple ships inside the `coreai-core` wheel (1.0.0b3), the
one `coreai.runtime` uses off macOS (it logs `ODIE [default]`). It is Apple's code executing
Apple's format, which `coreml-ref` (our numpy emulator of Core ML) is not. What it is not: the
Neural Engine or the GPU of an iPhone, whose numerics (fp16 accumulation on the ANE) it does not
reproduce, and not the iOS 27 system framework (macOS 27 with USE_OS_COREAI=1 would use that;
see runtimes/coreai_worker/apple.py, untested here).

Each session owns one long-lived worker process in `.venv-coreai` (runtimes/coreai_client.py):
the batch crosses a pipe once, the engine is called in chunks inside the worker and timed
there, so a session's seconds and latencies exclude the pipe. Per-op tensors for
`compare --layers` come from Core AI's IntermediateLogger in the worker
(runtimes/coreai_worker/intermediates.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.core.bundle import positive_scores
from harness.core.errors import HarnessError
from runtimes import coreai_env
from runtimes.base import Availability, RunResult, Runtime, Session
from runtimes.coreai_client import Worker
from runtimes.tensors import CannotExpose, TensorGraph

MODEL_DIR = "model.aimodel"  # the artifact's entry point (its manifest names it as `main`)
CHUNK = 2048  # rows per engine call inside the worker
WHAT = "Apple Core AI, portable CPU engine (coreai-core wheel): not the Neural Engine or GPU numerics"


class CoreaiSession(Session):
    def __init__(self, worker: Worker, path: str, length: int, *, vocab_size: int, positive_index: int | None) -> None:
        super().__init__(length, vocab_size)
        self.worker = worker
        self._positive_index = positive_index
        loaded = worker.call("load", path=path, chunk=CHUNK)
        self.engine_load_seconds = float(loaded["load_seconds"])
        self.info = {
            **loaded["info"],
            "what": WHAT,
            "worker_pid": worker.pid,
            "worker_start_seconds": round(worker.start_seconds, 3),
            "engine_load_seconds": round(self.engine_load_seconds, 3),
            "chunk": CHUNK,
        }
        self._graph: TensorGraph | None = None

    def _run(self, ids: np.ndarray) -> RunResult:
        reply = self.worker.call("run", ids=ids)
        out = np.asarray(reply["out"], dtype=np.float64).reshape(len(ids), -1)
        return RunResult(positive_scores(out, self._positive_index), float(reply["seconds"]))

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        reply = self.worker.call("latency", row=ids[:1], repeats=repeats, warmup=warmup)
        return [float(x) for x in reply["ms"]]

    def tensor_graph(self) -> TensorGraph:
        from runtimes.coreai_layers import graph_of

        if self._graph is None:
            try:
                self._graph = graph_of(self.worker.call("intermediates", ids=np.zeros((1, self.length), np.int32)))
            except HarnessError as e:
                raise CannotExpose(f"Core AI's IntermediateLogger failed: {e}") from None
        return self._graph

    def intermediates(self, ids: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
        from runtimes.coreai_layers import values_of

        reply = self.worker.call("intermediates", ids=self.check_ids(ids))
        return values_of(reply, names)

    def close(self) -> None:
        self.worker.close()


class CoreaiRuntime(Runtime):
    def availability(self) -> Availability:
        st = coreai_env.status()
        if not st.ok:
            return Availability(False, st.reason, coreai_env.SETUP_HINT)
        return Availability(True)

    def context(self) -> str:
        v = coreai_env.versions()
        return f"Apple Core AI (coreai-core {v['coreai-core']}, portable CPU engine) in {coreai_env.VENV_NAME}"

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        if artifact is None:
            raise HarnessError(f"{self.id} needs a .aimodel artifact (target {self.spec.target})")
        artifact.verify()
        started = time.perf_counter()
        sig = bundle.signature()
        worker = Worker()
        try:
            path = artifact.main_file(MODEL_DIR)
            session = CoreaiSession(
                worker, str(path), sig.length, vocab_size=sig.vocab_size, positive_index=sig.positive_index
            )
        except BaseException:
            worker.close()
            raise
        session.load_seconds = time.perf_counter() - started
        session.info["artifact"] = artifact.target
        return session

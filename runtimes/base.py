"""One base class for every engine that runs an exported model.

Template method (after Polygraphy's runners): the public `Session.run` checks the batch
(int32, [N, L], every id in [0, vocab_size)) so no runtime ever sees an out-of-range id,
then calls the engine's `_run`. A runtime that cannot run here says why in `availability`.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.core.errors import HarnessError
from runtimes.spec import RuntimeSpec
from runtimes.tensors import CannotExpose, TensorGraph


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""
    install: str = ""  # what to do to make it available


@dataclass
class RunResult:
    scores: np.ndarray  # float64 [N], probability of the positive class
    seconds: float  # time spent inside the engine for the whole batch
    info: dict[str, Any] = field(default_factory=dict)


def non_finite_reason(scores: np.ndarray, bad: np.ndarray) -> str:
    """Why a runtime's output cannot be a score: which value, how many, the likely cause."""
    first = int(np.argmax(bad))
    what = "NaN" if np.isnan(scores[first]) else ("Infinity" if scores[first] > 0 else "-Infinity")
    return f"output is {what} for {int(bad.sum())} of {scores.size} inputs (first: input {first}): float16 overflow?"


class Session(ABC):
    """An open engine with a loaded model. Use as a context manager."""

    def __init__(self, length: int, vocab_size: int) -> None:
        self.length = length
        self.vocab_size = vocab_size
        self.info: dict[str, Any] = {}
        self.load_seconds: float = 0.0

    def run(self, ids: np.ndarray) -> RunResult:
        ids = self.check_ids(ids)
        if len(ids) == 0:
            return RunResult(np.zeros(0, dtype=np.float64), 0.0, {})
        result = self._run(ids)
        scores = np.asarray(result.scores, dtype=np.float64).reshape(-1)
        if scores.shape[0] != ids.shape[0]:
            raise HarnessError(f"runtime returned {scores.shape[0]} scores for {ids.shape[0]} inputs")
        bad = ~np.isfinite(scores)
        if bad.any():  # a NaN in JSON is unreadable and in a comparison silently false: fail here, saying why
            raise HarnessError(non_finite_reason(scores, bad))
        result.scores = scores
        return result

    def latency_ms(self, row: np.ndarray, repeats: int, warmup: int = 10) -> list[float]:
        """Single-review latencies measured inside the engine, after warm-up."""
        ids = self.check_ids(np.asarray(row).reshape(1, -1))
        return self._latency_ms(ids, repeats, warmup)

    def check_ids(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 2 or (ids.size and ids.shape[1] != self.length):
            raise HarnessError(f"expected token ids of shape [N, {self.length}], got {list(ids.shape)}")
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise HarnessError(f"expected integer token ids, got {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            bad = int(ids.min()) if ids.min() < 0 else int(ids.max())
            raise HarnessError(f"token id {bad} outside [0, {self.vocab_size}); refusing to run it")
        return ids.astype(np.int32, copy=False).reshape(-1, self.length)

    @abstractmethod
    def _run(self, ids: np.ndarray) -> RunResult: ...

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        """Default: time `_run` from Python. Engines with their own clock override this."""
        return self._time_calls(lambda: self._run(ids), repeats, warmup)

    @staticmethod
    def _time_calls(call: Callable[[], object], repeats: int, warmup: int) -> list[float]:
        """Milliseconds of each of `repeats` calls of `call`, after `warmup` untimed calls."""
        for _ in range(warmup):
            call()
        out = []
        for _ in range(repeats):
            t = time.perf_counter()
            call()
            out.append((time.perf_counter() - t) * 1000)
        return out

    # ---- what `harness compare --layers` reads (runtimes/tensors.py) -------------------------

    cannot_expose = "this runtime cannot expose intermediate tensors"  # why not, when an engine can't

    def tensor_graph(self) -> TensorGraph:
        """The tensors this session can show: Keras probes or the converted graph's nodes."""
        raise CannotExpose(self.cannot_expose)

    def intermediates(self, ids: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
        """The value of each named tensor (names from `tensor_graph`) for one batch of ids."""
        raise CannotExpose(self.cannot_expose)

    # ---- what `harness compare --layers --isolate` reads (harness/check/isolate.py) ----------

    cannot_replay = "this engine runs its graph only from the model's own inputs"  # why not

    def replay(self, ids: np.ndarray, feeds: Mapping[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
        """The tensors `names` (names from `tensor_graph`) computed with each tensor in `feeds`
        replaced by the value given: the graph entered in the middle, so a layer can be run on the
        reference's own inputs to it. Tensors no fed one cuts off are computed from `ids` as usual."""
        raise CannotExpose(self.cannot_replay)

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Runtime(ABC):
    """A runtime id bound to its options; cheap to create, imports its engine lazily."""

    def __init__(self, spec: RuntimeSpec) -> None:
        self.spec = spec

    @property
    def id(self) -> str:
        return self.spec.id

    @abstractmethod
    def availability(self) -> Availability: ...

    def context(self) -> str:
        """Engine and version, added to a failure's message when the engine's words lack them."""
        return ""

    @abstractmethod
    def open(self, bundle: Any, artifact: Any | None) -> Session:
        """Load `artifact` (or the bundle's model when target is None) into a new session."""

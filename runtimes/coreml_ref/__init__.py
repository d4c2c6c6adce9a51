"""`coreml-ref` (fp16) and `coreml-ref@fp32`: the shipped ML Program, evaluated op by op in numpy.

Apple's Core ML runs only on macOS; this lets any OS check the exact .mlpackage the iOS app
ships (see `evaluator` and `ops`). Importing this package imports no coremltools.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.bundle import positive_scores
from harness.core.errors import HarnessError
from runtimes.base import Availability, RunResult, Runtime, Session
from runtimes.tensors import CannotExpose, TensorGraph

PACKAGE = "model.mlpackage"  # the artifact's default entry point (its manifest names it as `main`)
CHUNK = 512  # rows per evaluator call: bounds memory (the fields of a conv are copied), not results


def check_program_io(path: Path, inputs: list[Any], outputs: list[Any], *, length: int) -> None:
    """Refuse a program that does not take int32 [N, length] token ids to one float output."""
    expected = f"int32 [N, {length}]"
    if len(inputs) != 1:
        raise HarnessError(f"{path}: ML Program has {len(inputs)} inputs; expected one, {expected} token ids")
    (inp,) = inputs
    if inp.dtype != np.int32 or len(inp.shape) != 2 or inp.shape[1] != length:
        raise HarnessError(f"{path}: ML Program input {inp.name!r} is {inp.describe()}; expected {expected} token ids")
    if len(outputs) != 1 or outputs[0].dtype.kind != "f" or len(outputs[0].shape) not in (1, 2):
        got = ", ".join(o.describe() for o in outputs)
        raise HarnessError(f"{path}: ML Program outputs {got}; expected one float [N, C] or [N]")


class CoremlRefSession(Session):
    def __init__(self, program: Any, length: int, vocab_size: int, *, positive_index: int | None) -> None:
        super().__init__(length, vocab_size)
        self.program = program
        self._input = program.inputs[0].name
        self._output = program.outputs[0].name
        self._positive_index = positive_index
        self._chunk = min(CHUNK, program.batch_max or CHUNK)
        self.info = {
            "evaluator": "coreml-ref (numpy)",
            "numpy": np.__version__,
            "opset": program.opset_name,
            "specification_version": program.specification_version,
            "mil_ops": sorted(program.op_types),
        }

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        parts = [
            self.program.run({self._input: ids[i : i + self._chunk]})[self._output]
            for i in range(0, len(ids), self._chunk)
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _run(self, ids: np.ndarray) -> RunResult:
        started = time.perf_counter()
        out = self._forward(ids)
        seconds = time.perf_counter() - started
        return RunResult(positive_scores(out, self._positive_index), seconds)

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        feed = {self._input: ids}
        return self._time_calls(lambda: self.program.run(feed), repeats, warmup)

    def tensor_graph(self) -> TensorGraph:
        """Every op's output: the evaluator keeps them all (MIL names join TF scopes with "_")."""
        return TensorGraph(nodes=self.program.graph(), separator="_")

    def intermediates(self, ids: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
        ids = self.check_ids(ids)
        env = self.program.trace({self._input: ids})
        missing = [n for n in names if n not in env]
        if missing:
            raise CannotExpose(f"the ML Program computes no tensor {missing[0]!r}")
        return {n: np.asarray(env[n]) for n in names}

    def replay(self, ids: np.ndarray, feeds: Mapping[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
        """Op by op, the fed variables pinned to the given values (runtimes/coreml_ref/evaluator.py)."""
        ids = self.check_ids(ids)
        unknown = [n for n in [*feeds, *names] if n not in self._computed]
        if unknown:
            raise CannotExpose(f"the ML Program computes no tensor {unknown[0]!r}")
        env: dict[str, Any] = {}
        self.program.run({self._input: ids}, keep=env, pins=dict(feeds))
        return {n: np.asarray(env[n]) for n in names}

    @property
    def _computed(self) -> set[str]:
        return {n.name for n in self.program.graph()}


class CoremlRefRuntime(Runtime):
    def availability(self) -> Availability:
        # find_spec, not import: coremltools imports TensorFlow, ~6 s, too slow for a listing.
        if importlib.util.find_spec("coremltools") is None:
            return Availability(False, "coremltools is not installed", "pip install coremltools==9.0 (make setup)")
        return Availability(True)

    artifact_kind = "Core ML"  # what `open` asks for when the target has no artifact
    main_file = PACKAGE  # the artifact's default entry point (its manifest may name another)

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        if artifact is None:
            raise HarnessError(f"{self.id} needs a {self.artifact_kind} artifact (target {self.spec.target})")
        artifact.verify()
        started = time.perf_counter()
        session = self._evaluator(artifact.main_file(self.main_file), bundle.signature())
        session.load_seconds = time.perf_counter() - started
        session.info["artifact"] = artifact.target
        return session

    def _evaluator(self, path: Path, sig: Any) -> Session:
        """The session evaluating the model file at `path` (read and checked against `sig`)."""
        from runtimes.coreml_ref.evaluator import Program

        program = Program(path)
        check_program_io(path, program.inputs, program.outputs, length=sig.length)
        return CoremlRefSession(program, sig.length, sig.vocab_size, positive_index=sig.positive_index)

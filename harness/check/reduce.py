"""`harness reduce --runtime R`: the fewest layers to keep in float32 so a float16 runtime meets its policy.

coremltools users bisect float16 failures by hand (coremltools#2110); Polygraphy's `debug
precision` bisects which layers need float32. Here the converter does it for real: Core ML's
per-op precision selection (`FP16ComputePrecision(op_selector=...)`) keeps the ops of the
chosen Keras layers (found by their name scopes, harness/check/layer_map.py) in float32, the
ML Program is converted again and run by coreml-ref on every case, and the scores are held to
the runtime's tolerance (conformance.toml: |diff| <= atol + rtol * |keras| on every case).

Search: all float16 (already within policy: nothing to do), every layer float32 (still
outside: not a precision problem, said so), then each layer alone (the smallest set when one
layer suffices, as for a float16 overflow inside one layer), else greedy removal from the full
set (1-minimal: dropping any one kept layer breaks the policy). Each trial records its
max |diff| and the .mlpackage's bytes, so the cost of the answer is printed, not guessed.

Per engine family a `Precision` hook converts with a set of float32 layers and scores the
cases (`REDUCERS`): Core ML here; TF.js quantized weights left float32 for the kept layers,
scored in the runtime's browser page (harness/check/reduce_tfjs.py). LiteRT ops left
unquantized would be a hook of its own, not written yet (the command says so).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from harness.check.layer_map import LayerScopes
from harness.core import config
from harness.core.bundle import Bundle, positive_scores
from harness.core.errors import HarnessError
from runtimes import registry


class Precision(Protocol):
    """One engine family's way to run the model with some layers kept in float32."""

    layers: list[str]  # the Keras layers that own ops in this engine's graph, in model order

    def scores(self, keep: frozenset[str], ids: np.ndarray) -> tuple[np.ndarray, int]:
        """Scores of `ids` with `keep` in float32, and the artifact's size in bytes."""
        ...


@dataclass
class Trial:
    keep: tuple[str, ...]
    max_abs_diff: float
    passed: bool
    bytes: int


@dataclass
class Reduction:
    runtime: str
    cases: int
    atol: float
    rtol: float
    layers: list[str]
    trials: list[Trial] = field(default_factory=list)
    keep: tuple[str, ...] | None = None  # None: no set found (see `verdict`)
    verdict: str = ""

    @property
    def baseline(self) -> Trial:
        return self.trials[0]


class CoremlPrecision:
    """Core ML: the bundle's Keras model converted again with per-op precision selection."""

    def __init__(self, bundle: Bundle, workdir: Path, runtime_id: str) -> None:
        from runtimes.frameworks import import_keras

        self._model = import_keras().saving.load_model(bundle.model_path, compile=False)
        self._path = bundle.model_path
        self._workdir = workdir
        names = [layer.name for layer in self._model.layers if type(layer).__name__ != "InputLayer"]
        self._scopes = LayerScopes(str(self._model.name), names, "/")
        self._seen: set[str] = set()
        self._cache: dict[frozenset[str], Any] = {}
        self._program(frozenset())  # the all-float16 conversion names the layers that own ops
        self.layers = [n for n in names if n in self._seen]

    def _layer_of(self, op: Any) -> str | None:
        found = self._scopes.of(str(op.name))
        return None if found is None else found[0]

    def _program(self, keep: frozenset[str]) -> tuple[Any, int]:
        if keep not in self._cache:
            from harness.export.coreml import convert
            from runtimes.coreml_ref.evaluator import Program

            def fp16(op: Any) -> bool:
                layer = self._layer_of(op)
                if layer is not None:
                    self._seen.add(layer)
                return layer not in keep

            mlmodel, _ = convert(self._model, "float16", self._path, fp16_op=fp16)
            path = self._workdir / f"trial-{len(self._cache)}.mlpackage"
            mlmodel.save(str(path))
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            self._cache[keep] = (Program(path), size)
        return self._cache[keep]

    def scores(self, keep: frozenset[str], ids: np.ndarray) -> tuple[np.ndarray, int]:
        program, size = self._program(keep)
        name, out = program.inputs[0].name, program.outputs[0].name
        rows = [program.run({name: ids[i : i + 256].astype(np.int32)})[out] for i in range(0, len(ids), 256)]
        return positive_scores(np.concatenate(rows)), size

    def reference(self, ids: np.ndarray) -> np.ndarray:
        rows = [np.asarray(self._model(ids[i : i + 256], training=False)) for i in range(0, len(ids), 256)]
        return positive_scores(np.concatenate(rows))


def _tfjs(bundle: Bundle, workdir: Path, runtime_id: str) -> Any:
    from harness.check.reduce_tfjs import TfjsPrecision

    return TfjsPrecision(bundle, workdir, runtime_id)


REDUCERS: dict[str, Callable[[Bundle, Path, str], Any]] = {"coreml": CoremlPrecision, "tfjs": _tfjs}
NOT_YET = {"tflite": "LiteRT ops left unquantized (the converter's denylist) are not wired yet"}


def _reducible(spec: Any) -> bool:
    """float16 coreml-ref (compute precision), or TF.js with quantized weights (u8, f16)."""
    if spec.family == "coreml":
        return spec.precision == "float16" and spec.backend == "ref"
    return spec.family == "tfjs" and spec.variant in ("u8", "f16")


def reduce(
    bundle: Bundle, runtime_id: str, ids: np.ndarray, *, on_trial: Callable[[Trial], None] | None = None
) -> Reduction:
    """The bisect above for `runtime_id` on the token ids `ids` ([N, L])."""
    spec = registry.get(runtime_id).spec
    if not _reducible(spec):
        why = NOT_YET.get(spec.family, "it runs no reduced precision that reduce can vary")
        raise HarnessError(f"reduce: {runtime_id}: {why}; reduce runs coreml-ref (float16) and tfjs-*@u8/@f16")
    tol = config.tolerance(runtime_id, spec.precision)
    with tempfile.TemporaryDirectory(prefix="harness-reduce-") as tmp:
        engine = REDUCERS[spec.family](bundle, Path(tmp), runtime_id)
        want = engine.reference(ids)
        out = Reduction(runtime_id, len(ids), tol.atol, tol.rtol, list(engine.layers))

        def trial(keep: Iterable[str]) -> Trial:
            key = frozenset(keep)
            got, size = engine.scores(key, ids)
            d = np.abs(got - want)
            d[~np.isfinite(d)] = np.inf
            passed = bool(np.all(d <= tol.atol + tol.rtol * np.abs(want)))
            t = Trial(tuple(n for n in out.layers if n in key), float(d.max()), passed, size)
            out.trials.append(t)
            if on_trial is not None:
                on_trial(t)
            return t

        if trial(()).passed:
            out.keep, out.verdict = (), "already within policy at its reduced precision: nothing to keep in float32"
            return out
        if not trial(out.layers).passed:
            out.verdict = "outside policy even with every layer in float32: not a precision problem"
            return out
        singles = [t for t in (trial([layer]) for layer in out.layers) if t.passed]
        if singles:
            best = min(singles, key=lambda t: (t.bytes, t.max_abs_diff))
            out.keep, out.verdict = best.keep, "one layer in float32 is enough"
            return out
        keep = list(out.layers)
        for layer in list(out.layers):
            rest = [n for n in keep if n != layer]
            if trial(rest).passed:
                keep = rest
        out.keep, out.verdict = tuple(keep), "1-minimal: dropping any one of these breaks the policy"
        return out

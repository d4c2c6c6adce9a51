"""`harness reduce` for TF.js quantized weights: some layers' weights left float32 (harness/check/reduce.py).

tensorflowjs's converter quantizes the weights a `quantization_dtype_map` names (a list of
weight names instead of "all"), and dequantizes them to float32 at load. A trial converts the
cached SavedModel again with every weight quantized except those in the kept Keras layers'
name scopes (harness/check/layer_map.py), applies the exporter's own graph rewrite
(unfuse_matmuls, as the shipped artifact has it), and scores the cases in the runtime's real
browser page, so each trial is what a shipped model with those layers in float32 would give.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from harness.check.layer_map import LayerScopes
from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from runtimes import registry


class TfjsPrecision:
    """TF.js: the graph model converted again, the kept layers' weights not quantized."""

    def __init__(self, bundle: Bundle, workdir: Path, runtime_id: str) -> None:
        from harness.export import export
        from runtimes.frameworks import import_keras

        spec = registry.get(runtime_id).spec
        self._runtime = registry.get(runtime_id)
        self._bundle = bundle
        self._workdir = workdir
        self._dtype = {"u8": "uint8", "f16": "float16"}.get(spec.variant)
        if self._dtype is None:
            raise HarnessError(f"reduce: {runtime_id}: its weights are not quantized (variant {spec.variant!r})")
        self._saved = export(bundle, "savedmodel-tfjs").path / "savedmodel"
        self._model = import_keras().saving.load_model(bundle.model_path, compile=False)
        shipped = json.loads((export(bundle, str(spec.target)).path / "model.json").read_text(encoding="utf-8"))
        self._weights = [w["name"] for group in shipped["weightsManifest"] for w in group["weights"]]
        names = [layer.name for layer in self._model.layers if type(layer).__name__ != "InputLayer"]
        scopes = LayerScopes(str(self._model.name), names, "/")
        self._layer_of = {w: (scopes.of(w) or ("", ""))[0] for w in self._weights}
        self.layers = [n for n in names if n in set(self._layer_of.values())]
        self._done: dict[frozenset[str], tuple[np.ndarray, int]] = {}

    def _convert(self, keep: frozenset[str], out: Path) -> None:
        from harness.core.quiet import native_stderr
        from harness.export.graph_rewrites import unfuse_matmuls

        with contextlib.redirect_stdout(io.StringIO()), native_stderr():
            from tensorflowjs.converters import tf_saved_model_conversion_v2 as conv

            quantized = [w for w in self._weights if self._layer_of[w] not in keep]
            qmap = {self._dtype: quantized} if quantized else None
            conv.convert_tf_saved_model(str(self._saved), str(out), quantization_dtype_map=qmap)
        model_json = json.loads((out / "model.json").read_text(encoding="utf-8"))
        if unfuse_matmuls(model_json):
            (out / "model.json").write_text(json.dumps(model_json), encoding="utf-8")

    def scores(self, keep: frozenset[str], ids: np.ndarray) -> tuple[np.ndarray, int]:
        if keep not in self._done:
            out = self._workdir / f"trial-{len(self._done)}"
            out.mkdir()
            self._convert(keep, out)
            size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
            key = hashlib.sha256(str(out).encode()).hexdigest()[:16]
            artifact = SimpleNamespace(target=f"reduce-{out.name}", path=out, manifest={"cache_key": key})
            with self._runtime.open(self._bundle, artifact) as session:
                got = session.run(ids.astype(np.int32)).scores
            self._done[keep] = (np.asarray(got, dtype=np.float64), size)
        return self._done[keep]

    def reference(self, ids: np.ndarray) -> Any:
        from harness.core.bundle import positive_scores

        rows = [np.asarray(self._model(ids[i : i + 256], training=False)) for i in range(0, len(ids), 256)]
        return positive_scores(np.concatenate(rows))

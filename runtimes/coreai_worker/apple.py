"""Every import of Apple's beta packages (`coreai`, `coreai_torch`), torch and Keras: here only.

`coreai-core` 1.0.0b3 is a beta whose private names move between releases; keeping them in one
module means one file to read when it changes. Runs in `.venv-coreai` (see the package docstring).

Conversion (Apple's own path for a Keras 3 model): Keras 3 on its torch backend loads the
bundle's own `model.keras`, `torch.export.export` traces it with a dynamic batch dimension
(example batch 2: a batch of 1 is specialised away), the program is decomposed with
coreai-torch's table and converted by `TorchConverter`, then saved as an `.aimodel` folder.
float16 (`coreai-f16`): the converter has no precision flag, and torch's `.half()` alone leaves
Keras casting every layer's input back to float32, so the model is rebuilt from its config with
every dtype policy float16 (weights and compute) before the export.

Execution: off macOS `coreai.runtime` runs Apple's portable CPU engine shipped in the wheel
(it logs `ODIE [default]`). `AIModel.load` of a saved `.aimodel` fails on Linux; the asset's
`executable()` (which lowers it to ODIX first) works, so sessions use that. On macOS 27 with
`USE_OS_COREAI=1`, the system framework runs it with the compute unit named by
`COREAI_COMPUTE_UNIT` (cpu, gpu, neural_engine) through `SpecializationOptions`: written to
Apple's API, NOT tested here (no Mac).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")  # before Keras is imported anywhere in the worker

PACKAGES = ("coreai-core", "coreai-torch", "torch", "keras", "numpy")
FUNCTION = "main"
INPUT = "token_ids"
OUTPUT = "scores"
MAX_BATCH = 4096  # the dynamic batch dimension's upper bound in the exported program
EXAMPLE_BATCH = 2  # torch.export specialises a batch of 1 to a constant
PRECISIONS = ("float32", "float16")
COMPUTE_UNITS = ("cpu", "gpu", "neural_engine")


def versions() -> dict[str, str]:
    """Installed versions of what converts and runs, from package metadata (no import)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def os_framework() -> bool:
    """True when coreai.runtime is backed by macOS 27's system framework, not the wheel's engine."""
    from coreai.runtime import _use_os_coreai

    return bool(_use_os_coreai)


def engine_words() -> str:
    if os_framework():
        unit = os.environ.get("COREAI_COMPUTE_UNIT", "cpu")
        return f"Apple Core AI, macOS system framework, compute unit {unit}"
    return "Apple Core AI, portable CPU engine (ODIE, from the coreai-core wheel)"


# ---- conversion -----------------------------------------------------------------------------


def _load_keras(model_path: Path) -> Any:
    import keras

    if keras.backend.backend() != "torch":
        raise RuntimeError(f"Keras runs on {keras.backend.backend()!r} here; the conversion needs KERAS_BACKEND=torch")
    return keras.saving.load_model(model_path, compile=False)


LAYERS_FILE = "layers.json"  # beside the .aimodel: each torch op of the program -> the Keras layer it ran in


LAYER_FRAME = re.compile(r"<keras-layer:([^>]*)>")


@contextlib.contextmanager
def _layer_annotations(model: Any) -> Any:
    """Make every op traced inside a Keras layer carry that layer's name in its stack trace.

    Keras 3 layers on torch are not registered torch submodules, so torch.export's module stack
    names only the model, and `torch.fx.traceback.annotate` records nothing in a non-strict
    export. The node's `stack_trace` keeps only frames of functions named `forward`, so each
    layer is called through its own tiny `forward` compiled under the file name
    `<keras-layer:NAME>`; `_op_layers` reads the names back (outermost first)."""
    import keras

    original = keras.layers.Layer.__call__
    trampolines: dict[str, Any] = {}

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self is model:
            return original(self, *args, **kwargs)
        name = str(self.name)
        if name not in trampolines:
            scope: dict[str, Any] = {}
            source = "def forward(call, layer, args, kwargs):\n    return call(layer, *args, **kwargs)\n"
            exec(compile(source, f"<keras-layer:{name}>", "exec"), scope)  # noqa: S102 - fixed source
            trampolines[name] = scope["forward"]
        return trampolines[name](original, self, args, kwargs)

    keras.layers.Layer.__call__ = call
    try:
        yield
    finally:
        keras.layers.Layer.__call__ = original


def _op_layers(program: Any) -> list[dict[str, Any]]:
    """Each call_function node of the decomposed program: its name (what Core AI's debug info
    calls the torch source op), the Keras layer path it was traced in, its output shape."""
    out = []
    for node in program.graph.nodes:
        if node.op != "call_function":
            continue
        val = node.meta.get("val")
        shape = None
        if hasattr(val, "shape"):
            shape = [int(d) if str(d).lstrip("-").isdigit() else None for d in val.shape]
        layer = "/".join(LAYER_FRAME.findall(str(node.meta.get("stack_trace") or "")))
        inputs = [str(a.name) for a in node.all_input_nodes if a.op == "call_function"]
        out.append({"name": node.name, "target": str(node.target), "layer": layer, "shape": shape, "inputs": inputs})
    return out


def _policy_float16(config: Any) -> Any:
    """A model config with every float32 dtype policy made float16 (int inputs stay int), and
    every initializer "zeros": the trained weights replace them, and some cannot run in half on
    a CPU (Orthogonal's QR: `"geqrf_cpu" not implemented for 'Half'`, measured on the zoo's LSTM)."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and (config.get("config") or {}).get("name") == "float32":
            return {**config, "config": {**config["config"], "name": "float16"}}
        return {k: "zeros" if k.endswith("_initializer") else _policy_float16(v) for k, v in config.items()}
    if isinstance(config, list):
        return [_policy_float16(v) for v in config]
    return config


def _in_float16(model: Any) -> tuple[Any, str]:
    """The model rebuilt with float16 weights AND compute: `.half()` alone leaves Keras casting
    every layer's input back to its float32 compute dtype (measured: only the embedding table
    stayed half). A model whose config cannot be rebuilt falls back to `.half()` (said)."""
    try:
        clone = type(model).from_config(_policy_float16(model.get_config()))
        clone.set_weights([w.astype("float16") if str(w.dtype) == "float32" else w for w in model.get_weights()])
        return clone, "every layer's dtype policy float16 (weights and compute)"
    except Exception as e:  # a subclassed model without a rebuildable config
        return model, f"torch .half() on the weights only (the config did not rebuild: {type(e).__name__})"


def convert(model_path: str, out_path: str, precision: str) -> dict[str, Any]:
    """Write `out_path` (an `.aimodel` folder) from a Keras 3 file; return facts for the manifest."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    import torch

    timings: dict[str, float] = {}
    started = time.perf_counter()
    model = _load_keras(Path(model_path))
    length = int(model.input_shape[1])
    timings["load_keras_s"] = time.perf_counter() - started

    class Scores(torch.nn.Module):
        """The Keras model as a torch module with one named tensor input (the export's signature)."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, token_ids: Any) -> Any:
            return self.inner(token_ids)

    how = "float32 as trained"
    if precision == "float16":
        model, how = _in_float16(model)
    module = Scores(model).eval()
    if precision == "float16" and how.startswith("torch"):
        module = module.half()
    import coreai.authoring  # noqa: F401 - before coreai._compiler (else a circular ImportError)
    import coreai_torch

    example = torch.zeros((EXAMPLE_BATCH, length), dtype=torch.int32)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    started = time.perf_counter()
    with torch.no_grad(), _layer_annotations(model):
        program = torch.export.export(module, (example,), dynamic_shapes={"token_ids": {0: batch}})
        program = program.run_decompositions(coreai_torch.get_decomp_table())
    timings["torch_export_s"] = time.perf_counter() - started
    started = time.perf_counter()
    converter = coreai_torch.TorchConverter(mode=coreai_torch.TorchConverter.Mode.DEBUG)
    converter.add_exported_program(program, input_names=[INPUT], output_names=[OUTPUT], entrypoint_name=FUNCTION)
    ai_program = converter.to_coreai()
    timings["convert_s"] = time.perf_counter() - started
    asset = ai_program.save_asset(Path(out_path))  # save_asset wants a Path
    summary = asset.summary(include_statistics=True)
    (Path(out_path).parent / LAYERS_FILE).write_text(
        json.dumps({"model": str(model.name), "ops": _op_layers(program)}, indent=1), encoding="utf-8"
    )
    return {
        "path": "keras(torch backend) -> torch.export (dynamic batch) -> coreai-torch TorchConverter -> .aimodel",
        "precision": precision,
        "precision_path": how,
        "length": length,
        "max_batch": MAX_BATCH,
        "compute_types": list(summary.compute_types) if summary else [],
        "storage_types": {k: int(v) for k, v in summary.storage_types} if summary else {},
        "operations": {k: int(v) for k, v in summary.operation_distribution} if summary else {},
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "versions": versions(),
    }


# ---- execution ------------------------------------------------------------------------------


def _specialization() -> Any:
    """SpecializationOptions for the system framework (macOS 27 + USE_OS_COREAI=1), else None."""
    if platform.system() != "Darwin" or not os_framework():
        return None
    from coreai.runtime import ComputeUnitKind, SpecializationOptions

    unit = os.environ.get("COREAI_COMPUTE_UNIT", "cpu")
    if unit not in COMPUTE_UNITS:
        raise ValueError(f"COREAI_COMPUTE_UNIT={unit!r}: expected one of {', '.join(COMPUTE_UNITS)}")
    return SpecializationOptions.from_preferred_compute_unit_kind(getattr(ComputeUnitKind, unit)())


class Engine:
    """One loaded `.aimodel` function, kept open for the worker's life (one per session)."""

    def __init__(self, path: str, chunk: int) -> None:
        import coreai.authoring  # noqa: F401 - before coreai._compiler (else a circular ImportError)
        from coreai.authoring import AIModelAsset
        from coreai.runtime import NDArray

        self._ndarray = NDArray
        self._loop = asyncio.new_event_loop()
        self._stack = contextlib.AsyncExitStack()
        self.path = Path(path)
        self.chunk = max(1, min(chunk, MAX_BATCH))
        asset = AIModelAsset.load(self.path)
        self._asset = asset
        self.model = self._loop.run_until_complete(self._stack.enter_async_context(asset.executable(_specialization())))
        self.function = self.model.load_function(FUNCTION)
        desc = self.function.desc
        self.input, self.output = desc.input_names[0], desc.output_names[0]
        self.info = {
            "engine": engine_words(),
            "os_framework": os_framework(),
            "input_shape": list(desc.input_descriptor(self.input).shape),
            "input_dtype": str(desc.input_descriptor(self.input).dtype),
            "versions": versions(),
        }

    def _call(self, ids: np.ndarray, function: Any = None) -> np.ndarray:
        fn = function or self.function
        result = self._loop.run_until_complete(fn({self.input: self._ndarray(np.ascontiguousarray(ids))}))
        return np.array(result[self.output].numpy(), dtype=np.float32)

    def run(self, ids: np.ndarray) -> tuple[np.ndarray, float]:
        """[N, C] outputs of a batch and the seconds the engine's calls took (timed here)."""
        parts, seconds = [], 0.0
        for i in range(0, len(ids), self.chunk):
            rows = ids[i : i + self.chunk]
            started = time.perf_counter()
            out = self._call(rows)
            seconds += time.perf_counter() - started
            parts.append(out.reshape(len(rows), -1))
        return np.concatenate(parts), seconds

    def latency_ms(self, row: np.ndarray, repeats: int, warmup: int) -> list[float]:
        """Milliseconds of each single-review call after `warmup` untimed ones, as an app calls it."""
        feed = np.ascontiguousarray(row.reshape(1, -1))
        for _ in range(warmup):
            self._call(feed)
        out = []
        for _ in range(repeats):
            started = time.perf_counter()
            self._call(feed)
            out.append((time.perf_counter() - started) * 1000)
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._loop.run_until_complete(self._stack.aclose())
        self._loop.close()

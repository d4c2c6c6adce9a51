"""Per-op tensors from Apple's engine, keyed by the torch op (and so the Keras layer) they lower.

`coreai_torch.debugging`'s one-call comparison needs `SpecializationOptions`, which exist only
on macOS; its parts do not. So, as its inspector does: the asset is lowered once more with debug
info, each compiled (ODIX) op's debug record names the torch FX nodes it came from, and a raw
`IntermediateLogger` asking for every compiled op collects their outputs as the engine runs.
A torch node's value is the last compiled output lowered from it whose size is the node's (the
engine may hold it in another layout, e.g. a Conv1D as a 4-D conv2d): reshaped to the node's
shape. `layers.json`, written by the conversion (apple.py), says which Keras layer traced each
torch node. Private `coreai` names are used through `apple`'s imports only.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from runtimes.coreai_worker import apple


def _plain(value: Any) -> Any:
    """Debug-info JSON wraps every value as {"type": {...}} / {"_0": ...}; unwrap it."""
    if isinstance(value, dict):
        if len(value) == 1:
            key, inner = next(iter(value.items()))
            if key in ("_0", "string", "integer", "array", "dictionary", "value", "type", "boolean"):
                return _plain(inner)
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def torch_sources(debug_infos: bytes) -> dict[int, list[str]]:
    """Compiled (ODIX) op id -> the torch FX node names it was lowered from."""
    out: dict[int, list[str]] = {}
    for function in json.loads(debug_infos):
        for op in function.get("operations", []):
            names: list[str] = []
            for meta in op.get("metadatas", []):
                if meta.get("key") != "sources":
                    continue
                for source in _plain(meta.get("value")) or []:
                    if isinstance(source, dict) and source.get("name") == "torch":
                        names.extend(str(i) for i in source.get("identifiers", []))
            if names:
                out[int(op["odixId"])] = names
    return out


class DebugModel:
    """The engine's asset loaded again with debug info, for captures only (the session's own
    model stays as an app loads it)."""

    def __init__(self, engine: apple.Engine) -> None:
        from coreai.runtime import AIModel

        self._tmp = tempfile.TemporaryDirectory(suffix=".aimodelx")
        engine._asset._write_odix(Path(self._tmp.name), enable_debug_info=True)  # noqa: SLF001
        self.model = engine._loop.run_until_complete(AIModel.load(self._tmp.name))  # noqa: SLF001
        self.sources = torch_sources(self.model._debug_infos)  # noqa: SLF001
        layers = json.loads((engine.path.parent / apple.LAYERS_FILE).read_text(encoding="utf-8"))
        self.model_name: str = layers["model"]
        self.ops: list[dict[str, Any]] = layers["ops"]


def capture(engine: apple.Engine, ids: np.ndarray) -> dict[str, Any]:
    """Every torch op's value for one batch, with the op list (name, layer, inputs, shape)."""
    from coreai.runtime import CompileIdentifiers, IntermediateLogger, NDArray

    debug = getattr(engine, "debug_model", None)
    if debug is None:
        debug = DebugModel(engine)
        engine.debug_model = debug  # type: ignore[attr-defined]
    seen: list[tuple[int, list[np.ndarray]]] = []

    def record(values: list[Any], kind: str, compile_ids: Any) -> None:
        if kind == "output":
            arrays = [np.array(NDArray._wrap(v).numpy()) for v in values if v is not None]  # noqa: SLF001
            seen.append((int(compile_ids.id), arrays))

    requested = [CompileIdentifiers(i) for i in debug.sources]
    logger = IntermediateLogger(requested_intermediates=requested, callback=record, is_enabled=True)
    function = debug.model.load_function(apple.FUNCTION, intermediate_logger=logger)
    batch = np.ascontiguousarray(ids, dtype=np.int32)
    engine._loop.run_until_complete(function({engine.input: NDArray(batch)}))  # noqa: SLF001
    shapes = {op["name"]: op["shape"] for op in debug.ops}
    values: dict[str, np.ndarray] = {}
    for odix_id, arrays in seen:  # execution order: a later op of the same torch node wins
        for name in debug.sources.get(odix_id, []):
            shape = shapes.get(name)
            if shape is None:
                continue
            want = [len(batch) if d is None else d for d in shape]
            for array in arrays:
                if array.size == int(np.prod(want)):
                    values[name] = array.reshape(want)
    return {"model": debug.model_name, "ops": debug.ops, "values": values}

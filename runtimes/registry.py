"""Runtime ids -> lazy "module:Class" engines (after lm-evaluation-harness's registry).

Id syntax: `<engine>[@<variant>]`. The variant names the weights of the artifact it runs:
TF.js `@f16` and `@u8` (quantized weights, dequantized at load; plain = float32 weights);
Core ML `@fp32` (plain = float16, the converter's default precision).
"""

from __future__ import annotations

import difflib
import importlib

from harness.errors import HarnessError
from runtimes.base import Runtime, RuntimeSpec

_TFJS = "runtimes.tfjs:TfjsRuntime"


def _specs() -> list[RuntimeSpec]:
    specs = [RuntimeSpec("keras", "runtimes.keras_runtime:KerasRuntime", None, "py", "float32")]
    for backend in ("cpu", "wasm", "webgl"):
        for suffix, target, precision in (
            ("", "tfjs", "float32"),
            ("@f16", "tfjs-f16", "float16"),
            ("@u8", "tfjs-u8", "uint8"),
        ):
            specs.append(RuntimeSpec(f"tfjs-{backend}{suffix}", _TFJS, target, "js", precision, {"backend": backend}))
    for engine, module in (
        ("coreml-ref", "runtimes.coreml_ref:CoremlRefRuntime"),
        ("coreml-native", "runtimes.coreml_native:CoremlNativeRuntime"),
    ):
        specs.append(RuntimeSpec(engine, module, "coreml", "py", "float16"))
        specs.append(RuntimeSpec(f"{engine}@fp32", module, "coreml-fp32", "py", "float32"))
    return specs


SPECS: dict[str, RuntimeSpec] = {s.id: s for s in _specs()}


def ids() -> list[str]:
    return list(SPECS)


def get(runtime_id: str) -> Runtime:
    spec = SPECS.get(runtime_id)
    if spec is None:
        close = difflib.get_close_matches(runtime_id, SPECS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise HarnessError(f"unknown runtime {runtime_id!r}{hint}; `harness runtimes` lists them")
    module_name, class_name = spec.engine.split(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as e:
        raise HarnessError(f"runtime {runtime_id}: engine {spec.engine} cannot be loaded ({e})") from None
    if not (isinstance(cls, type) and issubclass(cls, Runtime)):
        raise HarnessError(f"{spec.engine} is not a Runtime")
    return cls(spec)


def _loadable(runtime_id: str) -> Runtime | None:
    """For `all`: an engine that cannot even be imported is not available here."""
    try:
        return get(runtime_id)
    except HarnessError:
        return None


def resolve(selection: str) -> list[Runtime]:
    """`all` = every runtime available here; else a comma list of ids, in order, deduplicated."""
    if selection.strip() == "all":
        return [r for r in (_loadable(i) for i in ids()) if r is not None and r.availability().ok]
    wanted = [s.strip() for s in selection.split(",") if s.strip()]
    if not wanted:
        raise HarnessError("no runtime given (expected ids such as keras,tfjs-wasm or 'all')")
    return [get(i) for i in dict.fromkeys(wanted)]

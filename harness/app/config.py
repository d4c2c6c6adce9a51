"""What the web app ships, from conformance.toml: the TF.js variant and the runtime that matches it."""

from __future__ import annotations

from typing import Any

from harness.core import config
from harness.core.errors import HarnessError
from runtimes.registry import SPECS

DEFAULT_VARIANT = "tfjs-u8"
DEFAULT_BACKEND = "wasm"


def variant(cfg: dict[str, Any] | None = None) -> str:
    """The TF.js export target the app ships: conformance.toml [webapp] variant, else tfjs-u8."""
    cfg = cfg if cfg is not None else config.load()
    chosen = str(cfg.get("webapp", {}).get("variant", DEFAULT_VARIANT))
    known = tfjs_variants()
    if chosen not in known:
        raise HarnessError(f"conformance.toml [webapp] variant = {chosen!r}: expected one of {', '.join(known)}")
    return chosen


def tfjs_variants() -> list[str]:
    return sorted({s.target for s in SPECS.values() if s.family == "tfjs" and s.target})


def runtime_id(target: str, backend: str = DEFAULT_BACKEND, browser: str = "chromium") -> str:
    """The harness runtime that runs the same artifact on the same backend, e.g. tfjs-wasm@u8."""
    for spec in SPECS.values():
        if spec.family == "tfjs" and spec.target == target and spec.backend == backend and spec.browser == browser:
            return spec.id
    raise HarnessError(f"no TF.js runtime runs {target!r} on {backend!r}")


def tolerance(target: str, backend: str = DEFAULT_BACKEND) -> config.Tolerance:
    rid = runtime_id(target, backend)
    return config.tolerance(rid, SPECS[rid].precision)

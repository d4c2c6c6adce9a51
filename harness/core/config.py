"""conformance.toml: tolerance policy, budgets and the runtime matrix, read once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.paths import CONFIG


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float
    agreement: float
    borderline: float
    layer_atol: float | None = None  # per-tensor bar of `harness compare --layers` (None: atol)
    layer_rtol: float | None = None  # ... plus this fraction of the tensor's max |value| (None: rtol)

    @property
    def per_tensor(self) -> tuple[float, float]:
        """(atol, rtol) an intermediate tensor is held to: every |diff| <= atol + rtol * the
        tensor's max |reference value| (conformance.toml [tolerance.<class>] layer_atol, layer_rtol say why)."""
        atol = self.atol if self.layer_atol is None else self.layer_atol
        return atol, self.rtol if self.layer_rtol is None else self.layer_rtol


@lru_cache(maxsize=4)
def load(path: Path = CONFIG) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarnessError(f"{path}: configuration file missing") from None
    except tomllib.TOMLDecodeError as e:
        raise HarnessError(f"{path}: not valid TOML ({e})") from None


def tolerance(runtime_id: str, precision: str, config: dict[str, Any] | None = None) -> Tolerance:
    cfg = config if config is not None else load()
    tol = cfg.get("tolerance", {})
    base = dict(tol.get(precision) or tol.get("float32") or {})
    base.update(tol.get("runtime", {}).get(runtime_id, {}))
    try:
        return Tolerance(
            float(base["atol"]),
            float(base.get("rtol", 0.0)),
            float(base["agreement"]),
            float(base.get("borderline", 0.0)),
            float(base["layer_atol"]) if "layer_atol" in base else None,
            float(base["layer_rtol"]) if "layer_rtol" in base else None,
        )
    except KeyError as e:
        raise HarnessError(f"{CONFIG}: tolerance for {runtime_id} ({precision}) lacks {e.args[0]!r}") from None


def threshold(config: dict[str, Any] | None = None) -> float:
    cfg = config if config is not None else load()
    return float(cfg.get("decision", {}).get("threshold", 0.5))


def matrix(config: dict[str, Any] | None = None) -> list[str]:
    cfg = config if config is not None else load()
    return list(cfg.get("matrix", {}).get("runtimes", ["keras"]))


def reference(config: dict[str, Any] | None = None) -> str:
    """The runtime every other one is compared with (the model as trained): [matrix] reference."""
    cfg = config if config is not None else load()
    return str(cfg.get("matrix", {}).get("reference", "keras"))

"""What a runtime is, as data: the registry, selection, reports and gates read these fields
instead of parsing runtime ids (no `startswith("tfjs-")` anywhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FAMILIES = ("keras", "tfjs", "coreml", "tflite", "coreai")
PLATFORMS = ("desktop", "web", "ios", "android")
PRECISIONS = ("float32", "float16", "uint8", "int8w", "int8")  # int8w: int8 weights, float math (dynamic range)
# Phones (docs/phones.md): float32 math on float16 textures (webgl16), float16 arithmetic (arm64 fp16)
PHONE_PRECISIONS = ("float16-storage", "float16-arith")


@dataclass(frozen=True)
class RuntimeSpec:
    """One runtime id and everything known about it without importing its engine."""

    id: str
    family: str  # "keras", "tfjs", "coreml", "tflite": the exported format and the engine family
    engine: str  # "module:Class" of its Runtime, imported only when used
    platform: str  # what shipped product it stands for: "desktop" (the reference), "web", "ios", "android"
    precision: str  # one of PRECISIONS or PHONE_PRECISIONS: picks the tolerance policy
    tokenizer: str  # the tokenizer runtime of the real app it stands for ("py", "js")
    target: str | None = None  # export target it executes (None: the bundle's model.keras)
    backend: str | None = None  # tfjs: cpu / wasm / webgl; coreml: ref / native; tflite: xnnpack / ref
    browser: str | None = None  # web runtimes: the browser engine ("chromium")
    variant: str = ""  # the id's `@variant`: the weights of the artifact ("f16", "u8", "fp32", "dr8", "int8")
    hosts: tuple[str, ...] = ()  # the systems (platform.system()) it can run on; empty: any
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def describe(self) -> dict[str, Any]:
        """The fields a report records for this runtime."""
        return {
            "family": self.family,
            "backend": self.backend,
            "precision": self.precision,
            "platform": self.platform,
            "browser": self.browser,
            "variant": self.variant,
            "target": self.target,
            "tokenizer": self.tokenizer,
        }

"""Runtime ids -> specs and lazy "module:Class" engines (after lm-evaluation-harness's registry).

Id syntax: `[<browser>:]<engine>[@<variant>]`. The variant names the weights of the artifact
it runs: TF.js `@f16` and `@u8` (quantized weights, dequantized at load; plain = float32
weights); Core ML `@fp32` (plain = float16, the converter's default precision); Core ML
NeuralNetwork (`coreml-nn-*`) `@f16` (float16 weights; plain = float32); LiteRT `@f16`
(float16 weights), `@dr8` (dynamic-range int8 weights) and `@int8` (full integer), on XNNPACK
(`tflite`) or the reference kernels (`tflite-ref`). A web runtime without a browser prefix
runs in Chromium; `firefox:` and `webkit:` name the other engines (`firefox:tfjs-wasm`,
`webkit:tfjs-webgl@u8`). WebGPU exists in Chromium only here. `tfjs-webgl16[@u8]` (in each browser)
is the webgl backend with half-float textures, as on a phone whose GPU cannot render to float32
(docs/phones.md); `arm64:tflite[@v]` is LiteRT's aarch64 build under qemu (runtimes/arm64/).
"""

from __future__ import annotations

import dataclasses
import importlib

from harness.core.errors import HarnessError, did_you_mean
from runtimes.base import Runtime
from runtimes.spec import RuntimeSpec

_TFJS = "runtimes.tfjs:TfjsRuntime"
TFJS_WEIGHTS = (("", "tfjs", "float32"), ("f16", "tfjs-f16", "float16"), ("u8", "tfjs-u8", "uint8"))
# TF.js layers models (a Keras 2 model as tensorflowjs.converters.save_keras_model writes it), loaded
# with tf.loadLayersModel: the format of apps that ship a tf_keras model (runtimes `tfjs-layers-*`)
TFJS_LAYERS_WEIGHTS = (
    ("", "tfjs-layers", "float32"),
    ("f16", "tfjs-layers-f16", "float16"),
    ("u8", "tfjs-layers-u8", "uint8"),
)
# browser engine -> (backends it offers, weight variants registered); the other engines carry the
# float32 weights and the variant the web app ships (u8), Chromium every variant.
TFJS_ENGINES = {
    "chromium": (("cpu", "wasm", "webgl", "webgpu"), ("", "f16", "u8")),
    "firefox": (("cpu", "wasm", "webgl"), ("", "u8")),
    "webkit": (("cpu", "wasm", "webgl"), ("", "u8")),
}
# webgl with half-float textures (TF.js's WEBGL_FORCE_F16_TEXTURES): every browser, the float32
# weights and the variant the web app ships; its own tolerance class (conformance.toml).
WEBGL16 = "webgl16"
WEBGL16_VARIANTS = ("", "u8")
WEBGL16_LABEL = "simulated float16 storage (the software renderer still computes in float32)"
TFLITE_WEIGHTS = (
    ("", "tflite", "float32"),
    ("f16", "tflite-f16", "float16"),
    ("dr8", "tflite-dr8", "int8w"),
    ("int8", "tflite-int8", "int8"),
)
TFLITE_KERNELS = (("xnnpack", "tflite"), ("ref", "tflite-ref"))
# Apple's Core AI (iOS/macOS 27), its portable CPU engine, on the .aimodel from Apple's converter
_COREAI = "runtimes.coreai:CoreaiRuntime"
COREAI_WEIGHTS = (("", "coreai", "float32"), ("f16", "coreai-f16", "float16"))

# LiteRT's own aarch64 build under qemu user mode (runtimes/arm64/): a phone's CPU kernels, emulated.
# `arm64:tflite-fp16@f16` asks XNNPACK for float16 arithmetic (flag FORCE_FP16, 0x4).
ARM64_LABEL = "emulated CPU: LiteRT's aarch64 build under qemu user mode"
ARM64 = tuple((f"arm64:tflite@{v}" if v else "arm64:tflite", t, p, 0) for v, t, p in TFLITE_WEIGHTS) + (
    ("arm64:tflite-fp16@f16", "tflite-f16", "float16-arith", 0x4),
)
COREML_ENGINES = (
    ("ref", "runtimes.coreml_ref:CoremlRefRuntime"),
    ("native", "runtimes.coreml_native:CoremlNativeRuntime"),
)
# Core ML NeuralNetwork (.mlmodel, iOS 13-14 apps): plain = float32 weights, `@f16` = float16 weights.
COREML_NN_WEIGHTS = (("", "coreml-nn", "float32"), ("f16", "coreml-nn-f16", "float16"))
COREML_NN_ENGINES = (
    ("ref", "runtimes.coreml_nn_ref:CoremlNnRefRuntime"),
    ("native", "runtimes.coreml_nn_native:CoremlNnNativeRuntime"),
)


def _id(base: str, variant: str) -> str:
    return f"{base}@{variant}" if variant else base


def _specs() -> list[RuntimeSpec]:
    specs = [RuntimeSpec("keras", "keras", "runtimes.keras_runtime:KerasRuntime", "desktop", "float32", "py")]
    for browser, (backends, variants) in TFJS_ENGINES.items():
        prefix = "" if browser == "chromium" else f"{browser}:"
        for backend in backends:
            # the graph model, then the layers model a Keras 2 model also converts to
            for model, weights in (("tfjs", TFJS_WEIGHTS), ("tfjs-layers", TFJS_LAYERS_WEIGHTS)):
                for variant, target, precision in weights:
                    if variant in variants:
                        specs.append(
                            RuntimeSpec(
                                _id(f"{prefix}{model}-{backend}", variant),
                                "tfjs",
                                _TFJS,
                                "web",
                                precision,
                                f"{prefix}js",
                                target,
                                backend=backend,
                                browser=browser,
                                variant=variant,
                            )
                        )
    for browser in TFJS_ENGINES:
        prefix = "" if browser == "chromium" else f"{browser}:"
        for variant, target, _ in TFJS_WEIGHTS:
            if variant in WEBGL16_VARIANTS:
                specs.append(
                    RuntimeSpec(
                        _id(f"{prefix}tfjs-{WEBGL16}", variant),
                        "tfjs",
                        _TFJS,
                        "web",
                        "float16-storage",
                        f"{prefix}js",
                        target,
                        backend=WEBGL16,
                        browser=browser,
                        variant=variant,
                        options={"label": WEBGL16_LABEL, "float16_ids": True},
                    )
                )
    for backend, engine in COREML_ENGINES:
        base = f"coreml-{backend}"
        hosts = ("Darwin",) if backend == "native" else ()  # Apple's Core ML framework: macOS only
        specs.append(
            RuntimeSpec(base, "coreml", engine, "ios", "float16", "py", "coreml", backend=backend, hosts=hosts)
        )
        specs.append(
            RuntimeSpec(
                _id(base, "fp32"),
                "coreml",
                engine,
                "ios",
                "float32",
                "py",
                "coreml-fp32",
                backend=backend,
                variant="fp32",
                hosts=hosts,
            )
        )
    for backend, engine in COREML_NN_ENGINES:
        hosts = ("Darwin",) if backend == "native" else ()  # Apple's Core ML framework: macOS only
        for variant, target, precision in COREML_NN_WEIGHTS:
            nn_id = _id(f"coreml-nn-{backend}", variant)
            options = {"model_type": "neuralnetwork"}
            specs.append(
                RuntimeSpec(
                    nn_id,
                    "coreml",
                    engine,
                    "ios",
                    precision,
                    "py",
                    target,
                    backend=backend,
                    variant=variant,
                    hosts=hosts,
                    options=options,
                )
            )
    for backend, base in TFLITE_KERNELS:
        for variant, target, precision in TFLITE_WEIGHTS:
            specs.append(
                RuntimeSpec(
                    _id(base, variant),
                    "tflite",
                    "runtimes.tflite:TfliteRuntime",
                    "android",
                    precision,
                    "py",  # the Android app would port the tokenizer to Kotlin; none runs here
                    target,
                    backend=backend,
                    variant=variant,
                )
            )
    for variant, target, precision in COREAI_WEIGHTS:
        specs.append(
            RuntimeSpec(
                _id("coreai", variant),
                "coreai",
                _COREAI,
                "ios",
                precision,
                "py",
                target,
                backend="cpu",
                variant=variant,
            )
        )
    for rid, target, precision, flags in ARM64:
        specs.append(
            RuntimeSpec(
                rid,
                "tflite",
                "runtimes.arm64.runtime:Arm64TfliteRuntime",
                "android",
                precision,
                "py",
                target,
                backend="xnnpack",
                variant=rid.partition("@")[2],
                hosts=("Linux",),
                options={"label": ARM64_LABEL, "emulated": True, "xnnpack_flags": flags},
            )
        )
    return specs


SPECS: dict[str, RuntimeSpec] = {s.id: s for s in _specs()}
# `<id>#exported`: the same runtime on a fresh export of its target when the bundle adopted the file
# its team ships (`harness report --compare-export`), so converter drift shows as its own row
EXPORTED = "#exported"


def _fresh(runtime_id: str) -> RuntimeSpec | None:
    base = SPECS.get(runtime_id.removesuffix(EXPORTED)) if runtime_id.endswith(EXPORTED) else None
    if base is None or base.target is None:
        return None
    return dataclasses.replace(base, id=runtime_id, options={**base.options, "fresh_export": True})


def ids() -> list[str]:
    return list(SPECS)


def spec(runtime_id: str) -> RuntimeSpec:
    found = SPECS.get(runtime_id) or _fresh(runtime_id)
    if found is None:
        raise HarnessError(
            f"unknown runtime {runtime_id!r}{did_you_mean(runtime_id, SPECS)}; `harness runtimes` lists them"
        )
    return found


def get(runtime_id: str) -> Runtime:
    """The Runtime for an id, its engine class imported now (a missing module is a HarnessError)."""
    s = spec(runtime_id)
    module_name, class_name = s.engine.split(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as e:
        raise HarnessError(f"runtime {runtime_id}: engine {s.engine} cannot be loaded ({e})") from None
    if not (isinstance(cls, type) and issubclass(cls, Runtime)):
        raise HarnessError(f"{s.engine} is not a Runtime")
    return cls(s)

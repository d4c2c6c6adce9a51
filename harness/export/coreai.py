"""Core AI (`.aimodel`) exports for iOS/macOS 27: `coreai` (float32) and `coreai-f16` (float16).

Apple's own converter, `coreai-torch`, takes `torch.export` programs, so the bundle's own
`model.keras` is loaded by Keras 3 on its torch backend and traced there: any bundle converts
the same way, with no TensorFlow in the path. That runs in `.venv-coreai` (Core AI cannot share
`.venv`), in a one-off worker process (runtimes/coreai_worker/apple.py has the steps and the
float16 choice: weights cast to half before the export, the converter has no precision flag).

The cache key holds the bundle hash, the target, this exporter's version and the versions of
coreai-core, coreai-torch, torch and Keras in that environment; the manifest adds the path taken,
the engine's compute and storage types, its operation counts and the converter's timings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from harness.core.keras_file import KERAS2
from harness.export import ArtifactFolder, Exporter
from runtimes import coreai_env
from runtimes.coreai import MODEL_DIR
from runtimes.coreai_client import Worker

PRECISIONS = {"coreai": "float32", "coreai-f16": "float16"}


class CoreaiExporter(Exporter):
    """One precision of the bundle's Keras model through Apple's coreai-torch converter."""

    version = 4  # 2: layers.json lists each op's inputs; 3, 4: float16 compute (dtype policies)

    def __init__(self, target: str) -> None:
        self.target = target
        self.precision = PRECISIONS[target]

    def tool_versions(self) -> dict[str, str]:
        return coreai_env.versions()  # the other environment's, not this process's

    def build(self, bundle: Bundle, out: Path, inputs: dict[str, ArtifactFolder]) -> dict[str, Any]:
        st = coreai_env.status()
        if not st.ok:
            raise HarnessError(f"export {self.target}: Core AI is unavailable: {st.reason}")
        worker = _converter()
        try:
            reply = worker.call(
                "convert", model=str(bundle.model_path), out=str(out / MODEL_DIR), precision=self.precision
            )
        except HarnessError as e:
            path = "Keras (torch backend) -> torch.export -> coreai-torch"
            why = KERAS2_WHY if bundle.model_framework == KERAS2 else ""
            raise HarnessError(f"export {self.target}: the conversion ({path}) failed: {e}{why}") from None
        return {"main": MODEL_DIR, "model_format": "Core AI .aimodel", **reply["facts"]}


# the Core AI environment has Keras 3 on torch and no tf_keras: a Keras 2 file loads there only when
# Keras 3 reads its config (a tf_keras CNN does; a tf_keras LSTM's `time_major` does not)
KERAS2_WHY = (
    "; the bundle's model was saved by tf_keras (Keras 2), and the Core AI converter loads it with Keras 3 "
    "on torch (.venv-coreai has no tf_keras)"
)
_CONVERTER: list[Worker] = []


def _converter() -> Worker:
    """One converting worker per process, reused by both targets (importing torch and Keras
    costs seconds); a dead one is replaced, and atexit stops it (runtimes/coreai_client.py)."""
    if _CONVERTER and _CONVERTER[0].proc is not None and _CONVERTER[0].proc.poll() is None:
        return _CONVERTER[0]
    _CONVERTER[:] = [Worker()]
    return _CONVERTER[0]


def coreai_f32() -> CoreaiExporter:
    return CoreaiExporter("coreai")


def coreai_f16() -> CoreaiExporter:
    return CoreaiExporter("coreai-f16")

"""What machine and which tool versions a run used, for reports and sign-off records."""

from __future__ import annotations

import os
import platform
import socket
from typing import Any

from harness.core.versions import dist_version, npm_version
from runtimes import coreai_env

PYTHON_TOOLS = (
    "tensorflow",
    "keras",
    "tensorflowjs",
    "coremltools",
    "ai-edge-litert",
    "numpy",
    "playwright",
    "hypothesis",
)
NPM_TOOLS = ("@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "pyodide")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def tool_versions() -> dict[str, str]:
    return {
        **{name: dist_version(name) for name in PYTHON_TOOLS},
        **{name: npm_version(name) for name in NPM_TOOLS},
        **coreai_tool_versions(),
    }


def coreai_tool_versions() -> dict[str, str]:
    """Apple's Core AI packages, from .venv-coreai (they cannot live in this environment)."""
    return {name: v for name, v in coreai_env.versions().items() if name.startswith("coreai")}


def describe() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "tool_versions": tool_versions(),
        "browsers": {},  # engine -> version, filled in by the run that launched them
    }

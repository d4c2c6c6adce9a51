"""Run a set of runtimes on the same token ids: export, verify, open, run, close."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness import export
from harness.bundle import Bundle
from harness.errors import HarnessError
from runtimes.base import RunResult, Runtime


@dataclass
class RuntimeRun:
    runtime_id: str
    result: RunResult
    load_seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    artifact: dict[str, Any] | None = None


def require_available(runtimes: list[Runtime]) -> None:
    for rt in runtimes:
        ok = rt.availability()
        if not ok.ok:
            raise HarnessError(f"runtime {rt.id} cannot run here: {ok.reason}; {ok.install}")


def artifact_for(bundle: Bundle, rt: Runtime) -> export.Artifact | None:
    if rt.spec.target is None:
        return None
    art = export.export(bundle, rt.spec.target)
    art.verify()  # refuse an edited artifact even when it came from the cache
    return art


def run(bundle: Bundle, runtimes: list[Runtime], ids: np.ndarray, progress: bool = False) -> dict[str, RuntimeRun]:
    require_available(runtimes)
    out: dict[str, RuntimeRun] = {}
    for rt in runtimes:
        if progress and sys.stderr.isatty():
            print(f"… {rt.id}", file=sys.stderr)
        art = artifact_for(bundle, rt)
        with rt.open(bundle, art) as session:
            result = session.run(ids)
            out[rt.id] = RuntimeRun(
                rt.id, result, session.load_seconds, dict(session.info), art.manifest if art else None
            )
    return out

"""What every run of a runtime needs first: that it can run here, and its verified artifact."""

from __future__ import annotations

from harness import export
from harness.bundle import Bundle
from harness.errors import HarnessError
from runtimes.base import Runtime


def require_available(runtimes: list[Runtime]) -> None:
    for rt in runtimes:
        ok = rt.availability()
        if not ok.ok:
            raise HarnessError(f"runtime {rt.id} cannot run here: {ok.reason}; {ok.install}")


def artifact_for(bundle: Bundle, rt: Runtime) -> export.Artifact | None:
    """The runtime's artifact, hash-verified by `export` (a cached one is re-read and checked)."""
    return export.export(bundle, rt.spec.target) if rt.spec.target is not None else None

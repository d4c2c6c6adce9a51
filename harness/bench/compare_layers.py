"""`make bench`: the time of one `harness compare --layers` on the reference model.

Warm: in one process whose sessions are open (a browser tab, the loaded ML Program, the
traced Keras probe function), the median of a few traces of different reviews; that is what
a second `--layers` query costs a tool or a report. First: the same process's first trace,
which opens the sessions and traces the Keras probe sub-model. Process: a fresh
`python -m harness.cli compare --layers` with the export cache warm (framework imports and
the browser launch included). Isolate: the warm trace with `--isolate` (harness/check/isolate.py),
whose target is the same 5 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

from harness.check.layers import trace
from harness.core import bundle
from harness.core.bundle import Bundle
from harness.data.corpus import held_out
from harness.run.engines import Engines
from runtimes.failures import RuntimeFailed
from runtimes.selection import select

RUNTIMES = "keras,tfjs-wasm@u8,coreml-ref"
TEXT = "a gorgeous, witty film"


def bench_layers(bundle: Bundle, runtimes: str = RUNTIMES, repeats: int = 5) -> dict[str, Any]:
    selection = select(runtimes, with_reference=True)
    texts = [r.text for r in held_out(bundle)[:repeats]]
    out: dict[str, Any] = {"runtimes": selection.ids, "target_warm_seconds": 5.0}
    with Engines(bundle, selection.runtimes, ["py"]) as engines:
        started = time.perf_counter()
        try:
            trace(engines, TEXT)
        except RuntimeFailed as e:
            return {**out, "error": e.failure.line()}
        out["first_seconds"] = round(time.perf_counter() - started, 3)
        warm = []
        for text in texts:
            started = time.perf_counter()
            trace(engines, text)
            warm.append(time.perf_counter() - started)
        isolated = []  # `--isolate`: every layer of every runtime run again on the reference's inputs
        for text in texts:
            started = time.perf_counter()
            trace(engines, text, isolated=True)
            isolated.append(time.perf_counter() - started)
    out["warm_seconds"] = round(statistics.median(warm), 3)
    out["warm_isolate_seconds"] = round(statistics.median(isolated), 3)
    cmd = [
        sys.executable,
        "-m",
        "harness.cli",
        "compare",
        "--layers",
        "--bundle",
        str(bundle.path),
        "--runtimes",
        runtimes,
        TEXT,
    ]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
    out["process_seconds"] = round(time.perf_counter() - started, 2)
    if proc.returncode != 0:
        out["process_error"] = (proc.stderr.strip().splitlines() or ["?"])[-1]
    return out


def main() -> None:
    import json

    print(json.dumps(bench_layers(bundle.load(None)), indent=2))


if __name__ == "__main__":
    main()

"""The worker's loop: `python -m runtimes.coreai_worker.serve`, run by `.venv-coreai`'s Python.

Reads one request per line on stdin, answers one line on the original stdout. File descriptor
1 is then pointed at stderr, so whatever Apple's native engine or torch prints (`ODIE
[default]: Loading function 'main'`) can never corrupt the protocol. An exception becomes an
answer with the engine's own words; the loop ends on `quit` or when stdin closes (the harness
died), so a worker never outlives its session.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Any

from runtimes.coreai_worker import protocol


def _handle(request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    from runtimes.coreai_worker import apple

    op = request.get("op")
    if op == "hello":
        return {"versions": apple.versions(), "engine": apple.engine_words(), "pid": os.getpid()}
    if op == "convert":
        return {"facts": apple.convert(request["model"], request["out"], request["precision"])}
    if op == "load":
        started = time.perf_counter()
        loaded = apple.Engine(request["path"], int(request.get("chunk", 2048)))
        state["engine"] = loaded
        return {"info": loaded.info, "load_seconds": time.perf_counter() - started}
    engine = state.get("engine")
    if engine is None:
        raise RuntimeError(f"request {op!r} before a model was loaded")
    if op == "run":
        out, seconds = engine.run(request["ids"])
        return {"out": out, "seconds": seconds}
    if op == "latency":
        return {"ms": engine.latency_ms(request["row"], int(request["repeats"]), int(request["warmup"]))}
    if op == "intermediates":
        from runtimes.coreai_worker import intermediates

        return intermediates.capture(engine, request["ids"])
    raise ValueError(f"unknown request {op!r}")


def main() -> int:
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # native and Python prints go to stderr; the protocol keeps its own descriptor
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    state: dict[str, Any] = {}
    try:
        while True:
            request = protocol.read_message(requests)
            if request is None or request.get("op") == "quit":
                return 0
            try:
                reply = {"ok": True, **_handle(request, state)}
            except Exception as e:  # the engine's words go back; the worker lives on for the next request
                words = " ".join(str(e).split()) or type(e).__name__
                traceback.print_exc(file=sys.stderr)
                reply = {"ok": False, "error": f"{type(e).__name__}: {words}"}
            protocol.write_message(replies, reply)
    finally:
        engine = state.get("engine")
        if engine is not None:
            engine.close()


if __name__ == "__main__":
    sys.exit(main())

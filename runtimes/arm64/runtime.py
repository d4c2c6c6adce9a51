"""`arm64:tflite[@f16|@dr8|@int8]` and `arm64:tflite-fp16@f16`: LiteRT's aarch64 build, emulated.

The same .tflite artifacts as `tflite[@v]`, run by ai-edge-litert's manylinux aarch64 wheel in
Debian's arm64 Python under qemu user mode (runtimes/arm64/env.py): XNNPACK's ARM kernels
(NEON, dot-product and, when asked, float16 arithmetic) instead of its x86 ones. The CPU is
emulated, so the numbers are an ARM core's and the timings are not: rows say `emulated`, the
qemu version and `-cpu` model, and latency is shown but never judged (harness/report/runtime_rows.py).

One long-lived worker (runtimes/arm64/worker.py) per session, started under qemu when the session
opens (several seconds) and stopped by its process group on close; a batch is one request.
`arm64:tflite-fp16@f16` passes XNNPACK's FORCE_FP16 flag through CompiledModel: on a core with
FP16 arithmetic (cortex-a55, the default) XNNPACK then computes in float16; the row records whether
the core has it (`fp16_inference`).
"""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import config
from harness.core.bundle import positive_scores
from harness.core.errors import HarnessError
from runtimes.arm64 import env as arm64_env
from runtimes.base import Availability, RunResult, Runtime, Session
from runtimes.browser import procs

WORKER = Path(__file__).with_name("worker.py")
MODEL_FILE = "model.tflite"
THREADS = 1
CHUNK = 4096  # rows per request: bounds the resized tensors and one answer line
START_TIMEOUT_S = 300.0  # a cold qemu start of LiteRT on a loaded 2-core machine


def cpu_model(cfg: dict[str, Any] | None = None) -> str:
    """The emulated core (conformance.toml [arm64] cpu)."""
    cfg = cfg if cfg is not None else config.load()
    return str(cfg.get("arm64", {}).get("cpu", "cortex-a55"))


class Arm64Session(Session):
    cannot_expose = "the arm64 worker returns the model's output only (LiteRT keeps no intermediate tensor)"

    def __init__(
        self,
        env: arm64_env.Arm64Env,
        cpu: str,
        path: Path,
        *,
        length: int,
        vocab_size: int,
        positive_index: int | None,
        flags: int,
    ) -> None:
        super().__init__(length, vocab_size)
        self._positive_index = positive_index
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close(): the worker's stderr, read when it aborts
        self._proc = procs.spawn(
            env.argv(cpu, WORKER), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env.environ(), stderr=self._log
        )
        try:
            facts = self._ask(
                {"op": "load", "path": str(path), "length": length, "xnnpack_flags": flags, "threads": THREADS},
                timeout=START_TIMEOUT_S,
            )
        except BaseException:
            self.close()
            raise
        self._batch_max = CHUNK if facts.get("batch_signature", -1) == -1 else 1
        self.info = {
            "engine": f"ai-edge-litert {facts.get('litert')} (aarch64, Python {facts.get('python')})",
            "emulated": True,
            "qemu": arm64_env.qemu_version(env.qemu),
            "cpu": cpu,
            "machine": facts.get("machine"),
            "api": facts.get("api"),
            "xnnpack_flags": flags,
            "num_threads": THREADS,
            "fp16_inference": bool(flags & 0x4) and bool(facts.get("fp16_arithmetic_core")),
            "fp16_arithmetic_core": facts.get("fp16_arithmetic_core"),
            "hwcap": facts.get("hwcap"),
            "xnnpack_partitions": facts.get("xnnpack_partitions"),
            "guest_load_seconds": facts.get("load_seconds"),
            "batch_max": self._batch_max,
        }

    def _ask(self, request: dict[str, Any], timeout: float = 600.0) -> dict[str, Any]:
        proc = self._proc
        if proc.stdin is None or proc.stdout is None or proc.poll() is not None:
            raise HarnessError(f"the arm64 worker has exited (code {proc.poll()})")
        proc.stdin.write((json.dumps(request) + "\n").encode())
        proc.stdin.flush()
        line = _read_line(proc, timeout)
        if not line:
            code = proc.wait(5)
            raise HarnessError(f"the arm64 worker exited during {request['op']} (code {code}){self._last_words()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise HarnessError(f"LiteRT (aarch64) {request['op']}: {answer['error']}")
        return answer

    def _last_words(self) -> str:
        """The last line the worker wrote to stderr that is not a log line, for a crash's message."""
        self._log.seek(0)
        lines = [ln.strip() for ln in self._log.read().decode(errors="replace").splitlines() if ln.strip()]
        said = [ln for ln in lines if not ln.startswith(("INFO:", "WARNING: [npu_registry"))]
        return f": {said[-1][:240]}" if said else ""

    def _request(self, ids: np.ndarray) -> tuple[np.ndarray, float]:
        ids = np.ascontiguousarray(ids, dtype=np.int32)
        out = self._ask({"op": "run", "n": len(ids), "ids": base64.b64encode(ids.tobytes()).decode()})
        rows = np.frombuffer(base64.b64decode(out["rows"]), dtype=np.float64).reshape(len(ids), int(out["cols"]))
        return rows, float(out["seconds"])

    def _run(self, ids: np.ndarray) -> RunResult:
        step = self._batch_max
        parts = [self._request(ids[i : i + step]) for i in range(0, len(ids), step)]
        out = np.concatenate([p[0] for p in parts])
        return RunResult(positive_scores(out, self._positive_index), sum(p[1] for p in parts))

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        row = np.ascontiguousarray(ids[:1], dtype=np.int32)
        out = self._ask(
            {"op": "latency", "row": base64.b64encode(row.tobytes()).decode(), "repeats": repeats, "warmup": warmup}
        )
        return [float(x) for x in out["ms"]]

    def close(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        procs.stop_group(proc.pid)
        proc.wait()
        self._log.close()
        self._proc = None  # type: ignore[assignment]


def _read_line(proc: Any, timeout: float) -> bytes:
    """One answer line, or HarnessError after `timeout` seconds (a hung emulation must not hang the run)."""
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise HarnessError(f"the arm64 worker did not answer within {timeout:.0f} s")
    return bytes(proc.stdout.readline())


class Arm64TfliteRuntime(Runtime):
    def availability(self) -> Availability:
        found, why = arm64_env.find()
        return Availability(True) if found else Availability(False, why, arm64_env.SETUP)

    def context(self) -> str:
        found, _ = arm64_env.find()
        qemu = f"qemu {arm64_env.qemu_version(found.qemu)}" if found else "qemu"
        return f"LiteRT aarch64 under {qemu} user mode, -cpu {cpu_model()}, {THREADS} thread"

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        if artifact is None:
            raise HarnessError(f"{self.id} needs a .tflite artifact (target {self.spec.target})")
        found, why = arm64_env.find()
        if found is None:
            raise HarnessError(f"{self.id}: {why}")
        artifact.verify()
        started = time.perf_counter()
        sig = bundle.signature()
        session = Arm64Session(
            found,
            cpu_model(),
            artifact.main_file(MODEL_FILE),
            length=sig.length,
            vocab_size=sig.vocab_size,
            positive_index=sig.positive_index,
            flags=int(self.spec.options.get("xnnpack_flags", 0)),
        )
        session.load_seconds = time.perf_counter() - started
        session.info["artifact"] = artifact.target
        session.info["runs_as"] = self.spec.options.get("label", "")
        return session

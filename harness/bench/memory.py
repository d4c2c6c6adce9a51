"""`make bench`: large inputs in bounded memory. 100,000 cases through `harness predict` per
runtime, in a child process, with its resident memory sampled while it runs.

Why a child process and these figures: the claim is about what a user sees running the
command. Per runtime:
- `max_rss_mb`: the child's maximum resident set size from its rusage (what `/usr/bin/time -v`
  prints), and `cpu_seconds`, its user + system time (a fairer speed figure on a busy machine);
- sampled every 0.2 s with psutil, `peak_rss_mb`: the same resident set (VmRSS), file-backed
  pages included;
- `peak_private_mb`: its private memory (USS: what it alone holds, without the shared
  libraries it maps; TensorFlow's alone are about 430 MB of the RSS of any process that imports it);
- `peak_browser_pss_mb`: the browser processes it started (proportional set size, summed),
  for the TF.js runtimes;
and `cases_per_second` over the whole command (start-up, export check and browser launch included).
The same command on BASELINE cases gives the growth: what 100,000 cases cost beyond a few
(`growth_private_mb`, `growth_browser_pss_mb`); bounded memory means a growth near zero, whatever
the floor (importing TensorFlow alone is about 700 MB of RSS, 430 MB of it shared libraries).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from harness.core import bundle
from harness.core.paths import REPO
from harness.data.corpus import held_out

LARGE = 100_000
BASELINE = 1_000
RUNTIMES = ("keras", "tfjs-wasm", "coreml-ref")
SAMPLE_SECONDS = 0.2


def write_cases(path: Path, texts: list[str], n: int) -> Path:
    """n distinct cases: the held-out reviews over and over, each with its number appended (so
    nothing a run remembers per text or per row can be reused: the worst case for memory)."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"c{i}", "text": f"{i} {texts[i % len(texts)]}"}, ensure_ascii=False) + "\n")
    return path


class Sampler(threading.Thread):
    """Peak memory of a process and of the browsers below it, while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = {"rss": 0, "uss": 0, "browser_pss": 0}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                mem = self.proc.memory_full_info()
                self.peak["rss"] = max(self.peak["rss"], mem.rss)
                self.peak["uss"] = max(self.peak["uss"], mem.uss)
                pss = 0
                for child in self.proc.children(recursive=True):
                    try:
                        pss += child.memory_full_info().pss
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        continue
                self.peak["browser_pss"] = max(self.peak["browser_pss"], pss)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                return
            self.done.wait(SAMPLE_SECONDS)


def measure(runtime: str, cases: Path, n: int, bundle_dir: str | None = None) -> dict[str, Any]:
    """`harness predict --runtimes RUNTIME --input CASES` in a child: memory, speed, lines out."""
    cmd = [sys.executable, "-m", "harness.cli", "predict", "--runtimes", runtime, "--input", str(cases)]
    if bundle_dir:
        cmd += ["--bundle", bundle_dir]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err)
        sampler = Sampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)  # its own rusage: what /usr/bin/time -v reports
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        sampler.done.set()
        sampler.join()
        seconds = time.perf_counter() - started
        out.seek(0)
        lines = sum(1 for _ in out)
        err.seek(0)
        tail = (err.read().decode("utf-8", "replace").strip().splitlines() or [""])[-1]
    mb = {k: round(v / 2**20, 1) for k, v in sampler.peak.items()}
    result: dict[str, Any] = {
        "cases": n, "lines_out": lines, "exit_code": code, "seconds": round(seconds, 1),
        "cases_per_second": round(n / seconds), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1), "peak_rss_mb": mb["rss"], "peak_private_mb": mb["uss"],
    }  # fmt: skip
    if mb["browser_pss"]:
        result["peak_browser_pss_mb"] = mb["browser_pss"]
    if code != 0:
        result["error"] = tail
    return result


def run(bundle_dir: str | None = None, runtimes: tuple[str, ...] = RUNTIMES, n: int = LARGE) -> dict[str, Any]:
    texts = [r.text for r in held_out(bundle.load(bundle_dir))]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="harness-large-") as tmp:
        cases = write_cases(Path(tmp) / "cases.jsonl", texts, n)
        few = write_cases(Path(tmp) / "few.jsonl", texts, min(BASELINE, n))
        for rid in runtimes:
            large, small = measure(rid, cases, n, bundle_dir), measure(rid, few, min(BASELINE, n), bundle_dir)
            large["growth_private_mb"] = round(large["peak_private_mb"] - small["peak_private_mb"], 1)
            if "peak_browser_pss_mb" in large and "peak_browser_pss_mb" in small:
                large["growth_browser_pss_mb"] = round(large["peak_browser_pss_mb"] - small["peak_browser_pss_mb"], 1)
            out[rid] = {**large, "baseline": small}
    return out


def main(argv: list[str]) -> None:  # python -m harness.bench.memory [RUNTIME ...]
    print(json.dumps(run(runtimes=tuple(argv) or RUNTIMES), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])

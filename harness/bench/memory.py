"""`make bench`: large inputs in bounded memory. 100,000 cases through `harness predict` per
runtime, in a child process, with its resident memory sampled while it runs.

Why a child process and these figures: the claim is about what a user sees running the
command. Per runtime:
- `cpu_seconds`: its user + system time from its rusage (a fairer speed figure on a busy
  machine). Not its `ru_maxrss`: Linux counts the pages of the forked child before it execs,
  so that figure is the bench process's own size (TensorFlow loaded: about 1.15 GB) for any runtime;
- sampled every 0.2 s with psutil, `peak_rss_mb`: its resident set (VmRSS), file-backed
  pages included;
- `peak_private_mb`: its private memory (USS: what it alone holds, without the shared
  libraries it maps; TensorFlow's alone are about 430 MB of the RSS of any process that imports it);
- `peak_browser_pss_mb`: the browser processes it started (proportional set size, summed),
  for the TF.js runtimes;
and `cases_per_second` over the whole command (start-up, export check and browser launch included).
The same command on BASELINE cases gives the growth: what 100,000 cases cost beyond a few
(`growth_private_mb`, `growth_browser_pss_mb`). That growth includes a warm-up that is not a leak:
TensorFlow's allocator and glibc's per-thread arenas fill during the first ~10 batches (about
+100 MB for keras, measured batch by batch) and then stay flat. So each run also gives the
steady-state growth, which a leak cannot hide from: the peak while the last third of the output
was written minus the peak while the middle third was (the warm-up may reach into the middle
third, never past it), of the resident set (`steady_growth_rss_mb`)
and of the browsers' summed resident sets (`steady_growth_browser_rss_mb`); bounded memory means
it is near zero. Resident sets, not USS or PSS, for this and for the tests' absolute bound: those
depend on who else maps the same libraries (TensorFlow's pages count as private when no other
process maps them; a second TensorFlow process moved USS by 20 MB in a test run).
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
from typing import Any, NamedTuple

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


class Sample(NamedTuple):
    out_bytes: int  # how much output the process had written by then
    rss: int
    uss: int
    browser_pss: int
    browser_rss: int


class Sampler(threading.Thread):
    """Memory of a process and of the browsers below it while it runs, each sample stamped with
    how much output the process had written by then (`out`: its stdout file)."""

    def __init__(self, pid: int, out: Any) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.out_fd = out.fileno()
        self.samples: list[Sample] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                mem = self.proc.memory_full_info()
                pss = browser_rss = 0
                for child in self.proc.children(recursive=True):
                    try:
                        child_mem = child.memory_full_info()
                        pss += child_mem.pss
                        browser_rss += child_mem.rss
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        continue
                self.samples.append(Sample(os.fstat(self.out_fd).st_size, mem.rss, mem.uss, pss, browser_rss))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                return
            self.done.wait(SAMPLE_SECONDS)

    def peak(self, field: str, third: str = "") -> int:
        """Peak of a Sample field over the run, or over the samples taken while the "middle" (or
        "last") third of the output was written; the last third ends with the last line out,
        since what the process does after that is its exit (keras: +20 MB after its last line)."""
        total = max((s.out_bytes for s in self.samples), default=0)
        rows = {
            "": self.samples,
            "middle": [s for s in self.samples if total / 3 < s.out_bytes <= 2 * total / 3],
            "last": [s for s in self.samples if 2 * total / 3 < s.out_bytes < total],
        }[third]
        return max((getattr(s, field) for s in rows), default=0)

    def figures(self) -> dict[str, float]:
        mb = {field: round(self.peak(field) / 2**20, 1) for field in ("rss", "uss", "browser_pss")}
        for field in ("rss", "browser_rss"):
            middle, last = self.peak(field, "middle"), self.peak(field, "last")
            mb[f"steady_{field}"] = round((last - middle) / 2**20, 1) if middle and last else 0.0
        return mb


def measure(runtime: str, cases: Path, n: int, *, bundle_dir: str | None = None) -> dict[str, Any]:
    """`harness predict --runtimes RUNTIME --input CASES` in a child: memory, speed, lines out."""
    cmd = [sys.executable, "-m", "harness.cli", "predict", "--runtimes", runtime, "--input", str(cases)]
    if bundle_dir:
        cmd += ["--bundle", bundle_dir]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err)
        sampler = Sampler(proc.pid, out)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)  # its own rusage
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        sampler.done.set()
        sampler.join()
        seconds = time.perf_counter() - started
        out.seek(0)
        lines = sum(1 for _ in out)
        err.seek(0)
        tail = (err.read().decode("utf-8", "replace").strip().splitlines() or [""])[-1]
    mb = sampler.figures()
    result: dict[str, Any] = {
        "cases": n,
        "lines_out": lines,
        "exit_code": code,
        "seconds": round(seconds, 1),
        "cases_per_second": round(n / seconds),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": mb["rss"],
        "peak_private_mb": mb["uss"],
        "steady_growth_rss_mb": mb["steady_rss"],
    }
    if mb["browser_pss"]:
        result["peak_browser_pss_mb"] = mb["browser_pss"]
        result["steady_growth_browser_rss_mb"] = mb["steady_browser_rss"]
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
            large, small = (
                measure(rid, cases, n, bundle_dir=bundle_dir),
                measure(rid, few, min(BASELINE, n), bundle_dir=bundle_dir),
            )
            large["growth_private_mb"] = round(large["peak_private_mb"] - small["peak_private_mb"], 1)
            if "peak_browser_pss_mb" in large and "peak_browser_pss_mb" in small:
                large["growth_browser_pss_mb"] = round(large["peak_browser_pss_mb"] - small["peak_browser_pss_mb"], 1)
            out[rid] = {**large, "baseline": small}
    return out


def main(argv: list[str]) -> None:  # python -m harness.bench.memory [RUNTIME ...]
    print(json.dumps(run(runtimes=tuple(argv) or RUNTIMES), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])

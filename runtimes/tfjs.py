"""`tfjs-cpu`, `tfjs-wasm`, `tfjs-webgl` (and `@f16`, `@u8`): a TF.js graph model in real Chromium.

Each session is one tab with one backend (TF.js's backend is global per page), loading the
exported artifact through the harness's loopback server. A batch is one page call.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from harness.core.bundle import positive_scores
from harness.core.errors import HarnessError
from harness.core.versions import npm_version
from runtimes.base import Availability, RunResult, Runtime, Session
from runtimes.browser import host as browser
from runtimes.browser.driver import Tab
from runtimes.browser.xvfb import available as xvfb_available

CHUNK = 512  # rows per predict call inside the page: bounds page memory, not timing


class TfjsSession(Session):
    def __init__(self, page: Tab, length: int, vocab_size: int, positive_index: int | None) -> None:
        super().__init__(length, vocab_size)
        self.page = page
        self._positive_index = positive_index

    def _run(self, ids: np.ndarray) -> RunResult:
        out = self.page.call(
            "([ids, n, chunk]) => harness.run(ids, n, chunk)", [ids.reshape(-1).tolist(), int(len(ids)), CHUNK]
        )
        rows = np.asarray(out["rows"], dtype=np.float64)
        return RunResult(positive_scores(rows, self._positive_index), out["ms"] / 1000.0)

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        return list(
            self.page.call("([row, r, w]) => harness.latency(row, r, w)", [ids.reshape(-1).tolist(), repeats, warmup])
        )

    def close(self) -> None:
        self.page.close()


class TfjsRuntime(Runtime):
    def availability(self) -> Availability:
        engine = self.spec.browser or browser.DEFAULT_ENGINE
        ok = browser.availability(engine)
        if ok.ok and engine == "firefox" and self.spec.backend == "webgl" and not xvfb_available():
            return Availability(
                False, "headless Firefox has no WebGL (the harness runs it headful on its own Xvfb)",
                "apt-get install -y xvfb (as root)",
            )  # fmt: skip
        return ok

    def context(self) -> str:
        return f"TF.js {npm_version('@tensorflow/tfjs')}, {self.spec.browser or browser.DEFAULT_ENGINE}"

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        if artifact is None:
            raise HarnessError(f"{self.id} needs a TF.js artifact")
        host = browser.BrowserHost.shared()
        started = time.perf_counter()
        prefix = f"/artifacts/{artifact.target}-{artifact.manifest['cache_key']}/"
        host.server.mount(prefix, artifact.path)
        engine = self.spec.browser or browser.DEFAULT_ENGINE
        page = host.open_page("/page/tfjs.html", "window.harness && window.harness.ready", engine)
        sig = bundle.signature()
        try:
            facts = page.call(
                "([url, backend, n]) => harness.load(url, backend, n)",
                [host.server.url(prefix + "model.json"), self.spec.backend, sig.length],
            )
        except BaseException:  # the tab would otherwise stay open, its model half loaded
            page.close()
            raise
        session = TfjsSession(page, sig.length, sig.vocab_size, sig.positive_index)
        session.load_seconds = time.perf_counter() - started
        session.info = {**host.driver(engine).facts, **facts, "artifact": artifact.target}
        return session

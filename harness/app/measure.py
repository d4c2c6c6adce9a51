"""The web app's budget figures: its gzip download and its time to first prediction, measured in a
real browser through the driver interface (a cold profile per visit, loopback only)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from harness.app.build import DIST, build
from harness.app.serve import app_server
from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from runtimes.browser.driver import BrowserDriver

FIRST_SCORE_MARK = "review-app:first-score"
MODEL_READY_MARK = "review-app:model-ready"
PROBE_TEXT = "a gorgeous, witty, seductive movie"


# Types `text` into the review box the moment it exists, from inside the page (a user pasting
# at once; no round trip to the driver in the measurement).
_TYPE_ON_SIGHT = """
(() => {
  const text = %s;
  const type = () => {
    const box = document.querySelector('[data-testid="review"]');
    if (!box) return false;
    box.focus();
    box.value = text;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  };
  const watch = new MutationObserver(() => type() && watch.disconnect());
  watch.observe(document, { childList: true, subtree: true });
})();
"""


def measure_first_prediction(
    driver: BrowserDriver, url: str, text: str = PROBE_TEXT, timeout_s: float = 60
) -> dict[str, Any]:
    """One cold visit (a fresh profile): the review is typed as soon as the box exists, and the
    page's own performance marks (performance.now(), from navigation start) say when the model
    was ready and when the first score was on screen."""
    tab = driver.open_tab(url, fresh_context=True, init_script=_TYPE_ON_SIGHT % json.dumps(text))
    try:
        tab.wait_for(
            f"""performance.getEntriesByName({json.dumps(FIRST_SCORE_MARK)}).length > 0
                || document.querySelector('[data-testid="error"]')""",
            timeout_s,
        )
        marks = tab.call(
            """([first, ready]) => {
                const at = (n) => { const m = performance.getEntriesByName(n)[0]; return m ? m.startTime : null; };
                const err = document.querySelector('[data-testid="error"]');
                return { first: at(first), ready: at(ready), error: err ? err.innerText : null,
                         score: document.querySelector('[data-testid="score"]')?.textContent ?? null,
                         backend: document.querySelector('[data-testid="backend-in-use"]')?.textContent ?? null };
            }""",
            [FIRST_SCORE_MARK, MODEL_READY_MARK],
        )
        if not marks["error"]:  # let the background fetch of the other backends finish first
            tab.wait_for('document.querySelector(\'[data-testid="backend"][data-prefetched="true"]\')', timeout_s)
    finally:
        tab.close()
    if marks["error"]:
        raise HarnessError(f"web app at {url}: {marks['error'].splitlines()[0]}")
    return {
        "time_to_first_prediction_ms": round(float(marks["first"]), 1),
        "model_ready_ms": round(float(marks["ready"]), 1),
        "score": float(marks["score"]),
        "backend": marks["backend"],
    }


def figures(bundle: Bundle | str | Path | None = None, runs: int = 3, engine: str = "chromium") -> dict[str, Any]:
    """The app's budget figures: gzip download (from dist/build.json) and the median time to
    first prediction over `runs` cold visits in the browser on the default (wasm) backend.
    A request the app makes off this machine is an error."""
    from runtimes.browser.host import BrowserHost

    record = build(bundle)
    out: dict[str, Any] = {
        "variant": record["variant"],
        "download": record["download"],
        "gzip_download_bytes": record["download"]["total_gzip_bytes"],
    }
    host = BrowserHost.shared()
    driver = host.driver(engine)
    server = app_server(DIST, prefix="/webapp/")
    blocked_before = len(driver.blocked)
    try:
        samples = []
        for _ in range(max(1, runs)):
            try:
                samples.append(measure_first_prediction(driver, server.url("/webapp/index.html")))
            except Exception:
                if len(driver.blocked) == blocked_before:
                    raise  # else the blocked request is the cause worth naming
            if len(driver.blocked) > blocked_before:
                raise HarnessError(f"web app: blocked a request off this machine: {driver.blocked[blocked_before]}")
    finally:
        server.close()
    out["time_to_first_prediction_ms"] = statistics.median(s["time_to_first_prediction_ms"] for s in samples)
    out["model_ready_ms"] = statistics.median(s["model_ready_ms"] for s in samples)
    out["time_to_first_prediction_samples_ms"] = [s["time_to_first_prediction_ms"] for s in samples]
    out["backend"] = samples[-1]["backend"]
    out["browser"] = driver.facts.get("browser")
    return out

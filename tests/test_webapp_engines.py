"""The shipped web app end to end in every browser engine it meets (Chromium, Firefox, WebKit),
through the harness's driver interface only: reviews typed key by key into the real UI must
show the scores `harness predict` computes for the same artifact on the same engine and
backend; it keeps scoring once the server is gone (offline); no request leaves 127.0.0.1.

The Chromium-only interactions (a clipboard paste of 1 MB, keyboard-only use, a screenshot,
DevTools' offline switch) are in tests/test_webapp_e2e.py.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from harness.app import build as webapp
from harness.app import config as app_config
from harness.app import serve
from harness.run.predict import predict
from runtimes.browser import host as browser_host
from runtimes.selection import select

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if shutil.which("npm") is None and webapp.read_build() is None:
    pytest.skip("npm is not installed and apps/web/dist was never built", allow_module_level=True)

ENGINES = ("chromium", "firefox", "webkit")
REVIEW = '[data-testid="review"]'
READY = "document.querySelector('[data-testid=\"score-button\"]') && !document.querySelector('[data-testid=\"score-button\"]').disabled"
TEXTS = [
    "a gorgeous, witty, seductive movie",
    "an utterly tedious, shapeless mess",
    "IT WAS NOT GOOD. not good at all!!! boring",
    "Ünïcödé ﬁne, naïve café — très bien!",
    "'''quoted''' don't can't won't -- it's 10/10",
    "שלום عالم 你好 мир: a film for everyone",
    "😀😀 loved it 👍🏽 best film of the year",
]
OFFLINE_TEXT = "sharp, funny and humane"
# The UI shows 6 decimals of the very artifact the harness runs on the same backend, with the
# same kernels: the app's graph executor and the harness's tfjs-converter differ only in op
# order (float32 rounding) and the display's half a last digit.
SAME_PROGRAM_ATOL = 1e-6

SCORED = """([n]) => {
  const box = document.querySelector('[data-testid="review"]');
  const r = document.querySelector('[data-testid="result"]');
  return box.value.length === n && r && r.dataset.status === "scored" && r.dataset.revision === box.dataset.revision;
}"""
READ = """() => ({ score: document.querySelector('[data-testid="score"]')?.textContent ?? null,
  verdict: document.querySelector('[data-testid="verdict"]')?.textContent ?? null,
  backend: document.querySelector('[data-testid="backend-in-use"]').textContent })"""
SELECT = """([name]) => {
  const select = document.querySelector('[data-testid="backend"]');
  Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, "value").set.call(select, name);
  select.dispatchEvent(new Event("change", { bubbles: true }));
}"""


def _backends(engine: str) -> list[str]:
    """The backends the app offers that this engine has here (Firefox's WebGL needs the Xvfb)."""
    out = []
    for backend in ("wasm", "cpu", "webgl"):
        rid = app_config.runtime_id(app_config.variant(), backend, engine)
        if select(rid).runtimes:
            out.append(backend)
    return out


@pytest.fixture(scope="module")
def built(reference_bundle):
    return webapp.build(reference_bundle)


@pytest.fixture(scope="module")
def expected(reference_bundle, built):
    """Scores of the same artifact through the harness's own TF.js runtimes, per engine and backend."""
    target = app_config.variant()
    ids = [
        app_config.runtime_id(target, b, e) for e in ENGINES if browser_host.availability(e).ok for b in _backends(e)
    ]
    scores, _, failures = predict(reference_bundle, select(",".join(ids), strict=True), [*TEXTS, OFFLINE_TEXT])
    assert not failures, failures
    return {rid: dict(zip([*TEXTS, OFFLINE_TEXT], s, strict=True)) for rid, s in scores.items()}


def _score(tab, text: str) -> dict[str, str]:
    tab.type_text(REVIEW, text)
    tab.wait_for(f"({SCORED})([{len(text.encode('utf-16-le')) // 2}])", 30)
    return tab.call(READ)


# Chromium's is the nightly job's: tests/test_webapp_e2e.py drives the app through every backend there.
@pytest.mark.parametrize(
    "engine", [pytest.param(e, marks=[pytest.mark.nightly] if e == "chromium" else []) for e in ENGINES]
)
def test_the_app_scores_as_the_harness_in_every_engine(engine, built, expected):
    if not browser_host.availability(engine).ok:
        pytest.skip(f"{engine} unavailable here: {browser_host.availability(engine).reason}")
    host = browser_host.BrowserHost.shared()
    server = serve.app_server(webapp.DIST, prefix="/app/")
    blocked_before = list(server.blocked)
    tab = host.driver(engine).open_tab(server.url("/app/index.html"), READY, timeout_s=90)
    try:
        target = app_config.variant()
        for backend in _backends(engine):
            if tab.call(READ)["backend"].split()[0] != backend:
                tab.call(SELECT, [backend])
                tab.wait_for(f"{READY} && document.querySelector('[data-testid=\"backend-in-use\"]').textContent.startsWith({backend!r})", 60)  # fmt: skip
            rid = app_config.runtime_id(target, backend, engine)
            for text in TEXTS:
                shown = _score(tab, text)
                score = float(shown["score"])
                assert abs(score - expected[rid][text]) <= SAME_PROGRAM_ATOL, (
                    f"{rid}: UI {score} vs harness {expected[rid][text]:.6f} for {text!r}"
                )
                assert shown["verdict"] == ("positive" if score > 0.5 else "negative")
        # Offline: the server is gone; the app still scores from what it loaded.
        server.close()
        shown = _score(tab, OFFLINE_TEXT)
        rid = app_config.runtime_id(target, _backends(engine)[-1], engine)
        assert np.isclose(float(shown["score"]), expected[rid][OFFLINE_TEXT], atol=SAME_PROGRAM_ATOL)
    finally:
        tab.close()
        server.close()
    assert server.blocked == blocked_before, f"requests that tried to leave 127.0.0.1: {server.blocked}"

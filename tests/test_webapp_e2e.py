"""The shipped web app, end to end: the built apps/web/dist, served on 127.0.0.1, driven
through its UI in real Chromium, must show the scores the harness computes for the same
artifact (`harness predict --runtimes tfjs-<backend>@<variant>`), on every backend, online and
offline, and must never send a request off the machine."""

from __future__ import annotations

import json
import re
import shutil
import time

import numpy as np
import pytest

from harness.app import build as webapp
from harness.app import config as app_config
from harness.app import measure, serve
from harness.core.paths import REPO
from harness.run.predict import predict
from runtimes.browser import host as browser_host
from runtimes.browser.chromium import guard_route
from runtimes.selection import select

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not browser_host.availability().ok:
    pytest.skip(f"browser unavailable: {browser_host.availability().reason}", allow_module_level=True)
if shutil.which("npm") is None and webapp.read_build() is None:
    pytest.skip("npm is not installed and apps/web/dist was never built", allow_module_level=True)

BACKENDS = ("wasm", "webgl", "cpu")
REVIEW = '[data-testid="review"]'
RESULT = '[data-testid="result"]'
SCORE = '[data-testid="score"]'
VERDICT = '[data-testid="verdict"]'
BUTTON = '[data-testid="score-button"]'
SELECT = '[data-testid="backend"]'
READY = f"{BUTTON}:not([disabled])"
SETTLED = f'{SELECT}[data-settled="true"]'
SCREENSHOT = REPO / "reports" / "webapp.png"
FIGURES = REPO / "reports" / "webapp.json"

ODD = [
    "Ünïcödé ﬁne, naïve café — très bien!",
    "😀😀 loved it 👍🏽 best film of the year",
    "<script>alert('x')</script> the worst film ever made",
    "IT WAS NOT GOOD.\nnot good at all!!!\t\tboring",
    "שלום عالم 你好 мир: a film for everyone",
    "'''quoted''' don't can't won't -- it's 10/10",
    "e\u0301le\u0301gant and \u200bstrange \U0001e5d0 film",
]
KEYBOARD_TEXT = "a warm, funny and moving film"
OFFLINE_TEXTS = ["an utterly tedious mess", "sharp, funny and humane", "neither here nor there"]
# The UI runs the very artifact the harness runs, on the same backend and kernels, and shows 6
# decimals: its graph executor (apps/web/src/graph.js) and the harness's tfjs-converter differ
# only in op order, so the two agree to float32 rounding plus the display's half a last digit.
SAME_PROGRAM_ATOL = 1e-6


def new_context(blocked: list[str]):
    """A fresh Chromium context (this test drives the UI with Playwright's own verbs) whose
    requests may only stay on this machine; the others land in `blocked`."""
    driver = browser_host.BrowserHost.shared().driver("chromium")
    context = driver.browser.new_context()  # type: ignore[attr-defined]
    context.route("**/*", lambda route: guard_route(route, blocked))
    return context


@pytest.fixture(scope="module")
def target():
    return app_config.variant()


@pytest.fixture(scope="module")
def built(reference_bundle, target):
    return webapp.build(reference_bundle, target)


@pytest.fixture(scope="module")
def one_mb(test_split):
    unit = test_split[0].text + "\n"
    return (unit * (1_000_000 // len(unit) + 1))[:1_000_000]


@pytest.fixture(scope="module")
def texts(test_split):
    return [r.text for r in test_split[:30]] + ODD


@pytest.fixture(scope="module")
def expected(reference_bundle, target, texts, one_mb):
    """Scores of the same artifact through the harness's own TF.js runtimes, one per backend."""
    everything = [*texts, KEYBOARD_TEXT, *OFFLINE_TEXTS, one_mb, "Not " + one_mb]
    runtimes = ",".join(app_config.runtime_id(target, b) for b in BACKENDS)
    scores, _, failures = predict(reference_bundle, select(runtimes, strict=True), everything)
    assert not failures, failures
    return {b: dict(zip(everything, scores[app_config.runtime_id(target, b)], strict=True)) for b in BACKENDS}


@pytest.fixture(scope="module")
def server(built, tmp_path_factory):
    broken = tmp_path_factory.mktemp("broken") / "dist"
    shutil.copytree(webapp.DIST, broken)
    (broken / "model" / "model.json").write_text('{"modelTopology": {"node": [', encoding="utf-8")
    srv = serve.app_server(webapp.DIST, prefix="/app/")
    srv.mount("/broken/", broken)
    # The browsers live in a loopback-only namespace: forward this server's port in (open_tab
    # does it for pages the harness opens; this test drives Playwright's own pages).
    browser_host.BrowserHost.shared().driver("chromium").reach(srv.url("/app/"))
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def blocked():
    return []


@pytest.fixture(scope="module")
def context(built, blocked):
    ctx = new_context(blocked)
    yield ctx
    ctx.close()


@pytest.fixture(autouse=True)
def nothing_leaves_loopback(blocked):
    yield
    assert blocked == [], f"requests that tried to leave 127.0.0.1: {blocked}"


class App:
    """One tab of the app, with its page errors collected."""

    def __init__(self, context, url: str, ready: bool = True, cpu_slowdown: float = 1) -> None:
        self.page = context.new_page()
        if cpu_slowdown != 1:  # Chromium's own CPU throttling (DevTools' "CPU: Nx slowdown")
            context.new_cdp_session(self.page).send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(url)
        if ready:
            self.page.wait_for_selector(READY, timeout=60_000)

    def score(self, text: str, via: str = "typing") -> tuple[float, str, str]:
        """Puts `text` in the box, waits for the score of exactly this text: (score, verdict, trigger)."""
        self.page.fill(REVIEW, text)
        if via == "button":
            self.page.click(BUTTON)
        return self.wait_scored(len(text.encode("utf-16-le")) // 2, via)

    def wait_scored(self, length: int, via: str = "typing") -> tuple[float, str, str]:
        """Waits until the result shown is the score of the box's current text (of `length` code units)."""
        handle = self.page.wait_for_function(
            """([n, via]) => {
                const box = document.querySelector('[data-testid="review"]');
                const r = document.querySelector('[data-testid="result"]');
                if (!(box.value.length === n && r.dataset.status === "scored" && r.dataset.revision === box.dataset.revision
                      && (via !== "button" || r.dataset.trigger === "button"))) return false;
                return [r.querySelector('[data-testid="score"]').textContent,
                        r.querySelector('[data-testid="verdict"]').textContent, r.dataset.trigger];
            }""",
            arg=[length, via],
            timeout=15_000,
        )
        score, verdict, trigger = handle.json_value()
        return float(score), verdict, trigger

    def settled_backend(self) -> str:
        """Waits until the app has chosen the backend it stays on; returns its name."""
        self.page.wait_for_selector(SETTLED, timeout=60_000)
        return self.in_use()

    def in_use(self) -> str:
        return (self.page.text_content('[data-testid="backend-in-use"]') or "").split()[0]

    def use_backend(self, name: str) -> None:
        self.page.select_option(SELECT, name)
        self.page.wait_for_function(
            """(name) => document.querySelector('[data-testid="backend-in-use"]').textContent.startsWith(name)
                && !document.querySelector('[data-testid="score-button"]').disabled""",
            arg=name,
            timeout=30_000,
        )

    def close(self) -> None:
        self.page.close()


def _check(backend, target, got: dict[str, float], expected, threshold: float = 0.5) -> None:
    want = np.array([expected[backend][t] for t in got])
    ui = np.array(list(got.values()))
    tol = app_config.tolerance(target, backend).atol
    diff = np.abs(ui - want)
    worst = int(diff.argmax())
    assert diff.max() <= tol, (
        f"{backend}: UI score {ui[worst]:.6f} vs harness {app_config.runtime_id(target, backend)} {want[worst]:.6f} "
        f"for {list(got)[worst][:80]!r} (|diff| {diff.max():.3g} > {tol})"
    )
    assert diff.max() <= SAME_PROGRAM_ATOL, (
        f"{backend}: UI differs from the harness's run of the same artifact by {diff.max():.3g}"
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_ui_scores_match_the_harness(server, context, target, texts, expected, backend):
    app = App(context, server.url("/app/index.html"))
    try:
        # The first prediction runs on cpu (no wasm binary on the first visit); the app stays there
        # unless cpu is slower than a frame on this machine (test_a_slow_device_settles_on_wasm).
        settled = app.settled_backend()
        assert settled in ("cpu", "wasm")
        if backend != settled:
            app.use_backend(backend)
        got, verdicts = {}, {}
        for i, text in enumerate(texts):
            via = "typing" if backend == "wasm" or i % 2 else "button"  # debounced as you type, and the button
            score, verdict, trigger = app.score(text, via)
            assert trigger == via
            got[text], verdicts[text] = score, verdict
        _check(backend, target, got, expected)
        for text, score in got.items():
            assert verdicts[text] == ("positive" if score > 0.5 else "negative"), text
        assert app.page.text_content('[data-testid="latency"]').endswith(" ms")
        assert "weights" in (app.page.text_content('[data-testid="model-size"]') or "")
        if backend == "wasm":
            positive = max(got, key=lambda t: got[t] if len(t) < 160 else 0)
            app.score(positive)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            app.page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert app.errors == []
    finally:
        app.close()


def test_empty_box_shows_a_prompt_not_a_score(server, context):
    app = App(context, server.url("/app/"))
    try:
        for text in ("", "   \n\t  "):
            app.page.fill(REVIEW, text)
            app.page.wait_for_selector('[data-testid="prompt"]', timeout=5_000)
            assert app.page.query_selector(SCORE) is None and app.page.query_selector(VERDICT) is None
        app.score("a fine film")
        app.page.fill(REVIEW, "")  # emptied after a score: back to the prompt
        app.page.wait_for_selector('[data-testid="prompt"]', timeout=5_000)
        assert app.page.query_selector(SCORE) is None
        assert app.errors == []
    finally:
        app.close()


def test_a_1mb_paste_stays_responsive(server, target, expected, one_mb, blocked):
    """A real paste (clipboard, Ctrl+V) of 1 MB: scored at once (the tokenizer stops after the
    model's length), the page keeps answering, and editing the huge text rescores quickly."""
    ctx = new_context(blocked)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.origin)
    app = App(ctx, server.url("/app/"))
    try:
        page = app.page
        page.evaluate("(text) => navigator.clipboard.writeText(text)", one_mb)
        page.focus(REVIEW)
        started = time.perf_counter()
        page.keyboard.press("Control+V")
        score, _, _ = app.wait_scored(len(one_mb))
        seconds = time.perf_counter() - started
        assert abs(score - expected[app.in_use()][one_mb]) <= SAME_PROGRAM_ATOL
        assert seconds < 5, f"a 1 MB paste took {seconds:.1f} s to score"
        latency_ms = float(page.text_content('[data-testid="latency"]').split()[0])
        assert latency_ms < 250, f"scoring a 1 MB text took {latency_ms} ms in the page"
        t0 = time.perf_counter()
        page.evaluate("() => new Promise((ok) => requestAnimationFrame(() => ok(1)))")
        assert time.perf_counter() - t0 < 1.0, "the page stopped answering after the paste"
        page.keyboard.press("Control+Home")
        page.keyboard.type("Not ")
        score, _, _ = app.wait_scored(len(one_mb) + 4)
        assert abs(score - expected[app.in_use()]["Not " + one_mb]) <= SAME_PROGRAM_ATOL
        assert app.errors == []
    finally:
        app.close()
        ctx.close()


def test_keyboard_only(server, context, target, expected):
    app = App(context, server.url("/app/"))
    try:
        page = app.page
        assert page.get_by_label("Your review").get_attribute("data-testid") == "review"  # labelled controls
        assert page.get_by_label("Engine").get_attribute("data-testid") == "backend"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.testid") == "review"
        page.keyboard.type(KEYBOARD_TEXT)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.testid") == "score-button"
        page.keyboard.press("Enter")
        page.wait_for_selector(f'{RESULT}[data-status="scored"][data-trigger="button"]', timeout=10_000)
        score = float(page.text_content(SCORE) or "nan")
        assert abs(score - expected[app.in_use()][KEYBOARD_TEXT]) <= SAME_PROGRAM_ATOL
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.testid") == "backend"
        assert app.errors == []
    finally:
        app.close()


def test_scores_offline_after_load(server, target, expected, blocked):
    """Settled, the app scores with the network gone. A backend whose code it never fetched
    cannot start offline: picking it shows why, and the app keeps scoring where it was."""
    ctx = new_context(blocked)
    app = App(ctx, server.url("/app/"))
    try:
        settled = app.settled_backend()
        before = len(server.requests)
        ctx.set_offline(True)
        got = {t: app.score(t)[0] for t in OFFLINE_TEXTS}
        _check(settled, target, got, expected)
        if settled == "cpu":  # wasm's code was never fetched
            app.page.select_option(SELECT, "wasm")
            notice = app.page.wait_for_selector('[data-testid="notice"]:not([hidden])', timeout=30_000)
            assert "Could not switch to wasm" in notice.inner_text() and "Still using cpu" in notice.inner_text()
            app.page.wait_for_selector(READY, timeout=10_000)
            assert app.in_use() == "cpu"
            app.errors.clear()  # the failed import logs the offline fetch as a console error
        else:
            app.use_backend("cpu")  # the model is rebuilt from memory: no download needed
        got = {t: app.score(t, "button")[0] for t in OFFLINE_TEXTS}
        _check("cpu", target, got, expected)
        assert len(server.requests) == before, f"requests while offline: {server.requests[before:]}"
        assert app.errors == []
    finally:
        ctx.set_offline(False)
        app.close()
        ctx.close()


def test_the_app_moves_to_wasm_only_when_cpu_is_slower_than_a_frame(server, blocked):
    """After the first score the app times its warm cpu prediction (data-cpu-ms) and moves to wasm,
    fetching its code and binary, only when that exceeds a frame (app.js FRAME_MS); otherwise it
    fetches no other backend. Checked on every visit: unthrottled (~2-8 ms on a quiet machine,
    slower when it is loaded) and with Chromium's CPU throttled 40x. DevTools' throttling pauses
    the page in bursts, so a short burst of predictions can fall between two pauses: of up to
    three throttled visits, one must move."""
    frame_ms = float(re.search(r"FRAME_MS = (\d+)", (webapp.APP / "src" / "app.js").read_text()).group(1))

    def visit(rate: int) -> tuple[str, float]:
        ctx = new_context(blocked)
        before = len(server.requests)
        app = App(ctx, server.url("/app/"), cpu_slowdown=rate)
        try:
            app.score(KEYBOARD_TEXT)
            settled = app.settled_backend()
            cpu_ms = float(app.page.get_attribute(SELECT, "data-cpu-ms") or "nan")
            paths = [p for _, p in server.requests[before:]]
            assert app.errors == []
        finally:
            app.close()
            ctx.close()
        assert settled == ("wasm" if cpu_ms > frame_ms else "cpu"), f"{rate}x: cpu {cpu_ms} ms, settled on {settled}"
        fetched_wasm = any(p.endswith(".wasm") for p in paths)
        assert fetched_wasm == (settled == "wasm"), f"{rate}x: settled on {settled}; fetched {paths}"
        return settled, cpu_ms

    visit(1)
    throttled = []
    for _ in range(3):
        throttled.append(visit(40))
        if throttled[-1][0] == "wasm":
            break
    assert throttled[-1][0] == "wasm", f"with the CPU 40x slower the app stayed on cpu: {throttled}"


def test_a_model_that_fails_to_load_shows_a_message(server, context):
    app = App(context, server.url("/broken/index.html"), ready=False)
    try:
        error = app.page.wait_for_selector('[data-testid="error"]', timeout=30_000)
        message = error.inner_text()
        assert "could not be loaded" in message and "model.json" in message
        assert app.page.is_visible(REVIEW)  # the page is not blank
        assert app.page.is_disabled(BUTTON) and app.page.query_selector(SCORE) is None
    finally:
        app.close()


def test_budget_figures(server, built, blocked):
    """The app's gzip download (from build.json) and its time to first prediction, in the page."""
    record = webapp.read_build()
    assert record is not None and record["fingerprint"] == built["fingerprint"]
    download = record["download"]
    assert (
        download["total_gzip_bytes"]
        == download["app_gzip_bytes"] + download["model_gzip_bytes"] + download["wasm_gzip_bytes"]
    )
    assert {"model/model.json", "model/group1-shard1of1.bin", "model/tokenizer.txt", "index.html"} <= set(
        record["files"]
    )
    samples = []
    for _ in range(2):
        fresh = new_context(blocked)
        try:
            samples.append(
                measure.measure_first_prediction(
                    browser_host.BrowserHost.shared().driver(), server.url("/app/index.html")
                )
            )
        finally:
            fresh.close()
    first = min(s["time_to_first_prediction_ms"] for s in samples)
    assert 0 < first < 20_000
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(
        json.dumps(
            {
                "variant": record["variant"],
                "gzip_download_bytes": download["total_gzip_bytes"],
                "download": download,
                "time_to_first_prediction_ms": sorted(s["time_to_first_prediction_ms"] for s in samples),
                "model_ready_ms": sorted(s["model_ready_ms"] for s in samples),
                "backend": samples[0]["backend"],
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )

"""Tokenizer runtimes `js` and `pyodide`: the same spec applied inside a real browser.

`js` is the app's own code: for a bundle that names an app tokenizer (app_tokenizer.json, or
`--app-tokenizer PATH.js:FUNCTION`), that module's function, called once per text with the
app's JSON assets (runtimes/tokenizers/app_module.py serves it); otherwise the web app's own
module (apps/web/src/tokenizer.js, the very file the app ships). `pyodide` is
harness/core/tokenizer/reference.py, unchanged, inside Pyodide loaded offline from the npm package, for
the harness's own kind of spec. They live in one page per browser engine and process
(runtimes/browser/static/tokenizer.html), opened on first use through the shared browser
host and the driver interface, so the engine is a parameter (the runtime's spec names it);
Pyodide boots only when first asked for.

Why the reference goes into Pyodide as a file and not as a wheel: pyodide-build downloads
its cross-build environment from the internet before building anything, even a pure-Python
wheel, and this machine has none (FACTS: Browser). The module is pure stdlib, so writing its
bytes to Pyodide's file system and importing it is the whole installation; the page reports
the sha256 of what it imported and we check it equals the file here.

Texts cross into the page as one ASCII JSON text per call (json.dumps escapes every non-ASCII
code point), so lone surrogates arrive intact in both runtimes. Whole batches go in one call.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Iterator
from typing import Any

from harness.core.bundle import TOKENIZER, Bundle
from harness.core.errors import HarnessError
from harness.core.hashing import file_sha256
from harness.core.paths import REPO
from harness.core.tokenizer import kinds as tokenizer_kinds
from harness.core.tokenizer.app_tokenizer import AppTokenizer
from runtimes.base import Availability
from runtimes.browser.call_deadline import page_call_seconds
from runtimes.browser.driver import CALL_TIMEOUT_S
from runtimes.tokenizers import app_module
from runtimes.tokenizers.outcome import Malformed, Outcome, Thrown

APP_SRC = REPO / "apps" / "web" / "src"
APP_TOKENIZER = APP_SRC / "tokenizer.js"
REFERENCE_TOKENIZER = REPO / "harness" / "core" / "tokenizer" / "reference.py"
# Served from here; the page writes it into Pyodide as harness/core/tokenizer.py (a stdlib-only module).
REFERENCE_URL_DIR = "/py/harness/core/tokenizer/"
PAGE = "/page/tokenizer.html"
READY = "window.tokenizerHarness && window.tokenizerHarness.ready"
RUNTIMES = ("js", "pyodide")
MAX_CALL_CHARS = 4_000_000  # JSON text per page call: bounds page memory, not timing
MAX_CALL_TEXTS = 5_000
REPORT_SETTLE_S = 0.5  # after a call into an app's module: time for the browser's CSP report to arrive
# Shrinking calls the module hundreds of times on one text each; there the settle is skipped (the
# policy still blocks every request, and a report that arrives late fails the next, settled call).
_SETTLE = contextvars.ContextVar("tokenizer_report_settle", default=True)


@contextlib.contextmanager
def without_report_settle() -> Iterator[None]:
    """Calls into an app's module made inside do not wait for the browser's reports."""
    token = _SETTLE.set(False)
    try:
        yield
    finally:
        _SETTLE.reset(token)


ADD_APP = (
    "name the app's tokenizer: harness bundle ... --app-tokenizer PATH.js:FUNCTION"
    " (or harness tokenize --app-tokenizer)"
)


def _kind(runtime: str) -> str:
    """What the page runs for a tokenizer id: "pyodide", or "js" (the app's module, in any engine)."""
    return "pyodide" if runtime == "pyodide" else "js"


def _engine(runtime: str) -> str:
    from runtimes.tokenizers import SPECS

    return SPECS[runtime].browser or "chromium"


def availability(runtime: str, bundle: Bundle | None = None, app: AppTokenizer | None = None) -> Availability:
    """Whether `runtime` can tokenize `bundle`'s kind here (any bundle when None)."""
    from runtimes.browser import host

    ok = host.availability(_engine(runtime))
    if not ok.ok:
        return ok
    kind = bundle.tokenizer_kind if bundle is not None else tokenizer_kinds.HARNESS
    if runtime == "pyodide" and kind != tokenizer_kinds.HARNESS:
        return Availability(
            False,
            f"pyodide runs the harness's own tokenizer, and this bundle's is {kind}",
            "compare py with js (the app's tokenizer) instead",
        )
    if _kind(runtime) == "js":
        if app is None and bundle is not None:
            try:
                app = bundle.app_tokenizer()
            except HarnessError as e:
                return Availability(False, str(e), ADD_APP)
        if app is None and kind != tokenizer_kinds.HARNESS:
            return Availability(False, f"this bundle's tokenizer is {kind} and it names no app tokenizer", ADD_APP)
        if app is None and not APP_TOKENIZER.is_file():
            return Availability(
                False, f"{APP_TOKENIZER.relative_to(REPO)} is missing", "restore the web app's tokenizer module"
            )
    return Availability(True)


class TokenizerPage:
    """The tokenizer page of one browser engine in this process, with what it has loaded per
    kind ("js", "pyodide") and the app tokenizers it imported. Methods take tokenizer ids
    ("js", "firefox:js", "pyodide")."""

    _shared: dict[str, TokenizerPage] = {}

    @classmethod
    def shared(cls, engine: str = "chromium") -> TokenizerPage:
        page = cls._shared.get(engine)
        if page is None or page.page.closed:
            page = cls._shared[engine] = cls(engine)
        return page

    def __init__(self, engine: str = "chromium") -> None:
        from runtimes.browser.host import BrowserHost

        self.engine = engine
        self.host = BrowserHost.shared()
        self.host.server.mount("/app/src/", APP_SRC, allow=("tokenizer.js",))
        self.host.server.mount(REFERENCE_URL_DIR, REFERENCE_TOKENIZER.parent, allow=(REFERENCE_TOKENIZER.name,))
        self.page = self.host.open_page(PAGE, READY, engine=engine)
        self.loaded: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in RUNTIMES}
        self.apps: dict[str, dict[str, Any]] = {}  # app key -> load facts

    def load_app(self, app: AppTokenizer) -> tuple[str, dict[str, Any]]:
        """Serve and import the app's module once per content; returns (key, load facts)."""
        key = app_module.content_key(app)
        if key not in self.apps:
            prepared = app_module.prepare(app)
            prefix = f"/app-tokenizer/{key}/"
            self.host.server.mount(prefix + "module/", prepared.folder, allow=(prepared.name,))
            assets = []
            for i, asset in enumerate(app.assets):
                self.host.server.mount(f"{prefix}asset{i}/", asset.parent, allow=(asset.name,))
                assets.append(self.host.server.url(f"{prefix}asset{i}/{asset.name}"))
            module_url = self.host.server.url(f"{prefix}module/{prepared.name}")
            try:
                facts = self.page.call(
                    "([key, module, fn, assets]) => tokenizerHarness.loadApp(key, module, fn, assets)",
                    [key, module_url, app.function, assets],
                    timeout_s=page_call_seconds(),
                )
            except HarnessError as e:
                raise HarnessError(f"{app.describe()}: cannot load it in {self.engine}: {e}") from None
            self.apps[key] = {**facts, **prepared.facts(), "engine": self.engine, "app_tokenizer": app.describe()}
        return key, self.apps[key]

    def app_outcomes(self, app: AppTokenizer, texts: list[str]) -> tuple[list[Outcome], float]:
        """Per text: the function's ids, what it threw, or why its result is not ids."""
        key, _ = self.load_app(app)
        rows: list[Outcome] = []
        ms = 0.0
        for chunk in _chunks([json.dumps(t) for t in texts]):
            out = json.loads(
                self.page.call(
                    "([key, texts]) => tokenizerHarness.app(key, texts)",
                    [key, "[" + ",".join(chunk) + "]"],
                    timeout_s=page_call_seconds(),
                    settle_s=REPORT_SETTLE_S if _SETTLE.get() else 0.0,
                )
            )
            rows.extend(_outcome(r) for r in out["rows"])
            ms += float(out["ms"])
        if len(rows) != len(texts):
            raise HarnessError(f"app tokenizer {app.describe()} returned {len(rows)} rows for {len(texts)} texts")
        return rows, ms

    def bench_app(self, app: AppTokenizer, texts: list[str], min_seconds: float) -> list[float]:
        key, _ = self.load_app(app)
        return [
            float(ms)
            for ms in self.page.call(
                "([key, texts, minMs]) => tokenizerHarness.benchApp(key, texts, minMs)",
                [key, json.dumps(texts), min_seconds * 1000],
            )
        ]

    def spec(self, bundle: Bundle) -> tuple[str, str]:
        """(key, URL) of the bundle's tokenizer.json; the key is that file's sha256."""
        key = (
            str(bundle.manifest["files"][TOKENIZER]["sha256"]) if TOKENIZER in bundle.manifest.get("files", {}) else ""
        )
        key = key or file_sha256(bundle.tokenizer_path)
        prefix = f"/bundle/{bundle.hash}/"
        self.host.server.mount(prefix, bundle.path, allow=(TOKENIZER,))
        return key, self.host.server.url(prefix + TOKENIZER)

    def load(self, runtime: str, bundle: Bundle) -> tuple[str, dict[str, Any]]:
        """Load the bundle's spec into `runtime` once; returns (key, load facts)."""
        key, url = self.spec(bundle)
        kind = _kind(runtime)
        if key not in self.loaded[kind]:
            if kind == "js":
                facts = self.page.call(
                    "([key, spec, module]) => tokenizerHarness.loadJs(key, spec, module)",
                    [key, url, self.host.server.url("/app/src/tokenizer.js")],
                    timeout_s=page_call_seconds(),
                )
            else:
                facts = self.page.call(
                    "([index, py, key, spec]) => tokenizerHarness.loadPyodide(index, py, key, spec)",
                    [
                        self.host.server.url("/node_modules/pyodide/"),
                        self.host.server.url(REFERENCE_URL_DIR + REFERENCE_TOKENIZER.name),
                        key,
                        url,
                    ],
                )
                expected = file_sha256(REFERENCE_TOKENIZER)
                if facts.get("tokenizer_py_sha256") != expected:
                    raise HarnessError(
                        f"pyodide imported a {REFERENCE_TOKENIZER.name} with sha256 "
                        f"{facts.get('tokenizer_py_sha256')}, expected {expected}"
                    )
            self.loaded[kind][key] = facts
        return key, self.loaded[kind][key]

    def encode(self, runtime: str, bundle: Bundle, texts: list[str]) -> tuple[list[list[int]], float]:
        """Ids for every text, and the milliseconds spent inside the tokenizer."""
        key, _ = self.load(runtime, bundle)
        length = bundle.tokenizer_info().length  # the spec's own length: a tokenizer-only bundle has no signature
        ids: list[list[int]] = []
        ms = 0.0
        for chunk in _chunks([json.dumps(t) for t in texts]):
            out = self.page.call(
                "([runtime, key, texts]) => runtime === 'js' ? tokenizerHarness.js(key, texts) : "
                "tokenizerHarness.pyodide(key, texts)",
                [_kind(runtime), key, "[" + ",".join(chunk) + "]"],
                timeout_s=page_call_seconds() if _kind(runtime) == "js" else CALL_TIMEOUT_S,
            )
            ids.extend(out["ids"])
            ms += float(out["ms"])
        if len(ids) != len(texts) or any(len(row) != length for row in ids):
            raise HarnessError(
                f"tokenizer runtime {runtime} returned a malformed batch (expected {len(texts)} rows of {length} ids)"
            )
        return ids, ms

    def bench(self, runtime: str, bundle: Bundle, texts: list[str], *, min_seconds: float) -> list[float]:
        """Milliseconds of each pass over all `texts`, timed inside the runtime after a warm-up."""
        key, _ = self.load(runtime, bundle)
        return [
            float(ms)
            for ms in self.page.call(
                "([runtime, key, texts, minMs]) => tokenizerHarness.bench(runtime, key, texts, minMs)",
                [_kind(runtime), key, json.dumps(texts), min_seconds * 1000],
            )
        ]


def _outcome(row: Any) -> Outcome:
    if isinstance(row, list):
        return [int(i) for i in row]
    if isinstance(row, dict) and "error" in row:
        return Thrown(str(row["error"]))
    return Malformed(str(row.get("malformed") if isinstance(row, dict) else row))


def _chunks(encoded: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    size = 0
    for text in encoded:
        if out[-1] and (size + len(text) > MAX_CALL_CHARS or len(out[-1]) >= MAX_CALL_TEXTS):
            out.append([])
            size = 0
        out[-1].append(text)
        size += len(text) + 1
    return out


def page_for(runtime: str, bundle: Bundle | None = None, app: AppTokenizer | None = None) -> TokenizerPage:
    ok = availability(runtime, bundle, app)
    if not ok.ok:
        raise HarnessError(f"tokenizer runtime {runtime} unavailable: {ok.reason}; {ok.install}")
    return TokenizerPage.shared(_engine(runtime))


def outcomes(runtime: str, bundle: Bundle, texts: list[str], *, app: AppTokenizer | None = None) -> list[Outcome]:
    """Per text, what `runtime` gave: the app tokenizer's function when one is named, else the spec's."""
    if not texts:
        return []
    page = page_for(runtime, bundle, app)
    app = (app or bundle.app_tokenizer()) if _kind(runtime) == "js" else None  # pyodide runs the spec
    if app is not None:
        return page.app_outcomes(app, texts)[0]
    return list(page.encode(runtime, bundle, texts)[0])


def load_facts(runtime: str, bundle: Bundle) -> dict[str, Any]:
    """What loading `runtime` took and found (Pyodide start time, Python version, sha256...)."""
    page = page_for(runtime, bundle)
    app = bundle.app_tokenizer() if _kind(runtime) == "js" else None
    return page.load_app(app)[1] if app is not None else page.load(runtime, bundle)[1]


def bench(bundle: Bundle, texts: list[str], min_seconds: float = 1.0) -> dict[str, dict[str, Any]]:
    """Throughput of `js` and `pyodide` measured inside the page, and Pyodide's start time.

    Each runtime encodes the whole list repeatedly for at least `min_seconds` after a
    warm-up; sentences/s is the total over the total (what `bench_tokenizer_py` reports).
    A runtime that cannot run here gets its reason instead of numbers.
    """
    out: dict[str, dict[str, Any]] = {}
    for runtime in RUNTIMES:
        ok = availability(runtime)
        if not ok.ok:
            out[runtime] = {"unavailable": ok.reason, "install": ok.install}
            continue
        page = TokenizerPage.shared(_engine(runtime))
        _, facts = page.load(runtime, bundle)
        passes = page.bench(runtime, bundle, texts, min_seconds=min_seconds)
        total_ms = sum(passes)
        row: dict[str, Any] = {
            "sentences_per_second": round(len(texts) * len(passes) / (total_ms / 1000)) if total_ms > 0 else None,
            "passes": len(passes),
            "best_pass_ms": round(min(passes), 3) if passes else None,
        }
        if runtime == "pyodide":
            row["start_seconds"] = round(float(facts["start_ms"]) / 1000, 3)
            row["tokenizer_import_seconds"] = round(float(facts["tokenizer_import_ms"]) / 1000, 3)
            row["python"] = facts.get("python")
            row["pyodide"] = facts.get("pyodide")
        out[runtime] = row
    return out

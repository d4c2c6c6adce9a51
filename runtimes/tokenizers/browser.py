"""Tokenizer runtimes `js` and `pyodide`: the same spec applied inside real Chromium.

`js` is the web app's own module (apps/web/src/tokenizer.js, the very file the app ships);
`pyodide` is harness/core/tokenizer.py, unchanged, inside Pyodide loaded offline from the npm
package. Both live in one page per process (runtimes/browser/static/tokenizer.html), opened
on first use through the shared browser host; Pyodide boots only when first asked for.

Why the reference goes into Pyodide as a file and not as a wheel: pyodide-build downloads
its cross-build environment from the internet before building anything, even a pure-Python
wheel, and this machine has none (FACTS: Browser). The module is pure stdlib, so writing its
bytes to Pyodide's file system and importing it is the whole installation; the page reports
the sha256 of what it imported and we check it equals the file here.

Texts cross into the page as one ASCII JSON text per call (json.dumps escapes every non-ASCII
code point), so lone surrogates arrive intact in both runtimes. Whole batches go in one call.
"""

from __future__ import annotations

import json
from typing import Any

from harness.core.bundle import TOKENIZER, Bundle
from harness.core.errors import HarnessError
from harness.core.hashing import file_sha256
from harness.core.paths import REPO
from runtimes.base import Availability

APP_SRC = REPO / "apps" / "web" / "src"
APP_TOKENIZER = APP_SRC / "tokenizer.js"
REFERENCE_TOKENIZER = REPO / "harness" / "core" / "tokenizer.py"
PAGE = "/page/tokenizer.html"
READY = "window.tokenizerHarness && window.tokenizerHarness.ready"
RUNTIMES = ("js", "pyodide")
MAX_CALL_CHARS = 4_000_000  # JSON text per page call: bounds page memory, not timing
MAX_CALL_TEXTS = 5_000


def _kind(runtime: str) -> str:
    """What the page runs for a tokenizer id: "pyodide", or "js" (the app's module, in any engine)."""
    return "pyodide" if runtime == "pyodide" else "js"


def _engine(runtime: str) -> str:
    from runtimes.tokenizers import SPECS

    return SPECS[runtime].browser or "chromium"


def availability(runtime: str) -> Availability:
    from runtimes.browser import host

    ok = host.availability(_engine(runtime))
    if not ok.ok:
        return ok
    if _kind(runtime) == "js" and not APP_TOKENIZER.is_file():
        return Availability(
            False, f"{APP_TOKENIZER.relative_to(REPO)} is missing", "restore the web app's tokenizer module"
        )
    return Availability(True)


class TokenizerPage:
    """The tokenizer page of one browser engine in this process, with the specs it has loaded
    per kind ("js", "pyodide"). Methods take tokenizer ids ("js", "firefox:js", "pyodide")."""

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
        self.host.server.mount("/py/harness/core/", REFERENCE_TOKENIZER.parent, allow=("tokenizer.py",))
        self.page = self.host.open_page(PAGE, READY, engine)
        self.loaded: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in RUNTIMES}

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
                )
            else:
                facts = self.page.call(
                    "([index, py, key, spec]) => tokenizerHarness.loadPyodide(index, py, key, spec)",
                    [
                        self.host.server.url("/node_modules/pyodide/"),
                        self.host.server.url("/py/harness/core/tokenizer.py"),
                        key,
                        url,
                    ],
                )
                expected = file_sha256(REFERENCE_TOKENIZER)
                if facts.get("tokenizer_py_sha256") != expected:
                    raise HarnessError(
                        f"pyodide imported a tokenizer.py with sha256 {facts.get('tokenizer_py_sha256')}, expected {expected}"
                    )
            self.loaded[kind][key] = facts
        return key, self.loaded[kind][key]

    def encode(self, runtime: str, bundle: Bundle, texts: list[str]) -> tuple[list[list[int]], float]:
        """Ids for every text, and the milliseconds spent inside the tokenizer."""
        key, _ = self.load(runtime, bundle)
        length = bundle.tokenizer().length  # the spec's own length: a tokenizer-only bundle has no signature
        ids: list[list[int]] = []
        ms = 0.0
        for chunk in _chunks([json.dumps(t) for t in texts]):
            out = self.page.call(
                "([runtime, key, texts]) => runtime === 'js' ? tokenizerHarness.js(key, texts) : tokenizerHarness.pyodide(key, texts)",
                [_kind(runtime), key, "[" + ",".join(chunk) + "]"],
            )
            ids.extend(out["ids"])
            ms += float(out["ms"])
        if len(ids) != len(texts) or any(len(row) != length for row in ids):
            raise HarnessError(
                f"tokenizer runtime {runtime} returned a malformed batch (expected {len(texts)} rows of {length} ids)"
            )
        return ids, ms

    def bench(self, runtime: str, bundle: Bundle, texts: list[str], min_seconds: float) -> list[float]:
        """Milliseconds of each pass over all `texts`, timed inside the runtime after a warm-up."""
        key, _ = self.load(runtime, bundle)
        return [float(ms) for ms in self.page.call(
            "([runtime, key, texts, minMs]) => tokenizerHarness.bench(runtime, key, texts, minMs)",
            [_kind(runtime), key, json.dumps(texts), min_seconds * 1000],
        )]  # fmt: skip


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


def page_for(runtime: str) -> TokenizerPage:
    ok = availability(runtime)
    if not ok.ok:
        raise HarnessError(f"tokenizer runtime {runtime} unavailable: {ok.reason}; {ok.install}")
    return TokenizerPage.shared(_engine(runtime))


def tokenize(runtime: str, bundle: Bundle, texts: list[str]) -> list[list[int]]:
    if not texts:
        return []
    return page_for(runtime).encode(runtime, bundle, texts)[0]


def load_facts(runtime: str, bundle: Bundle) -> dict[str, Any]:
    """What loading `runtime` took and found (Pyodide start time, Python version, sha256...)."""
    return page_for(runtime).load(runtime, bundle)[1]


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
        page = TokenizerPage.shared()
        _, facts = page.load(runtime, bundle)
        passes = page.bench(runtime, bundle, texts, min_seconds)
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

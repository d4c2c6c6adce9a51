"""One real Chromium per process, driven by Playwright, behind the harness's static server.

Every request the pages make goes through a route guard: loopback passes, anything else is
aborted and recorded (so a runtime that tries to reach a CDN is caught and reported).
Page errors and console errors surface as errors of the call that was running.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.errors import HarnessError
from harness.paths import REPO
from runtimes.base import Availability
from runtimes.browser.server import StaticServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--use-angle=swiftshader",  # WebGL on the CPU, no GPU here (FACTS)
    "--enable-unsafe-swiftshader",
]
INSTALL_HINT = "install a Chromium: `apt-get install -y chromium` (as root) or set HARNESS_CHROMIUM=/path/to/chrome"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
NODE_MODULES = REPO / "node_modules"
STATIC = Path(__file__).resolve().parent / "static"
SERVED_PACKAGES = ("@tensorflow/tfjs/dist", "@tensorflow/tfjs-backend-wasm/dist", "pyodide")


def find_chromium() -> str | None:
    explicit = os.environ.get("HARNESS_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def availability() -> Availability:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return Availability(False, "playwright is not installed", "make setup (installs the pinned Python set)")
    if find_chromium() is None:
        return Availability(False, "no Chromium found on this machine", INSTALL_HINT)
    missing = [p for p in SERVED_PACKAGES if not (NODE_MODULES / p).exists()]
    if missing:
        return Availability(False, f"npm packages missing: {', '.join(missing)}", "make setup (runs npm ci)")
    return Availability(True)


def guard_route(route: Any, blocked: list[str]) -> None:
    """Playwright route handler: loopback, data: and blob: pass; anything else is aborted and
    its URL appended to `blocked`."""
    url = route.request.url
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob") or parts.hostname in LOOPBACK:
        route.continue_()
    else:
        blocked.append(url)
        route.abort("blockedbyclient")


class HarnessPage:
    """A tab with error capture; `call` evaluates one function of the page's API."""

    def __init__(self, page: Any, blocked: list[str] | None = None) -> None:
        self.page = page
        self.errors: list[str] = []
        self.blocked = blocked if blocked is not None else []
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("console", lambda m: self.errors.append(f"console error: {m.text}") if m.type == "error" else None)

    def call(self, expression: str, arg: Any = None) -> Any:
        from playwright.sync_api import Error as PlaywrightError

        self.errors.clear()
        blocked_before = len(self.blocked)
        try:
            result = self.page.evaluate(expression, arg)
        except PlaywrightError as e:
            message = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
            raise HarnessError(f"browser: {message}") from None
        if len(self.blocked) > blocked_before:
            raise HarnessError(f"browser: blocked a request off this machine: {self.blocked[blocked_before]}")
        if self.errors:
            raise HarnessError(f"browser: {self.errors[0]}")
        return result

    def close(self) -> None:
        self.page.close()


class BrowserHost:
    _shared: BrowserHost | None = None

    @classmethod
    def shared(cls) -> BrowserHost:
        if cls._shared is None:
            cls._shared = cls()
            atexit.register(cls._shared.close)
        return cls._shared

    def __init__(self) -> None:
        ok = availability()
        if not ok.ok:
            raise HarnessError(f"browser runtimes unavailable: {ok.reason}; {ok.install}")
        started = time.perf_counter()
        self.server = StaticServer()
        self.server.mount("/node_modules/", NODE_MODULES, allow=SERVED_PACKAGES)
        self.server.mount("/page/", STATIC)
        self.blocked: list[str] = []
        from playwright.sync_api import sync_playwright

        executable = find_chromium()
        self._pw: Any = None
        try:
            self._pw = sync_playwright().start()
            self.browser = self._pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
            self.context = self.browser.new_context()
            self.context.route("**/*", lambda route: guard_route(route, self.blocked))
        except Exception as e:  # a bad executable, a crash at start-up, a driver that would not start
            self._stop_playwright()
            self.server.close()
            first = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
            raise HarnessError(f"browser: could not start Chromium {executable}: {first}; {INSTALL_HINT}") from None
        self.start_seconds = time.perf_counter() - started
        self.facts = {
            "browser": f"Chromium {self.browser.version}",
            "executable": executable,
            "start_seconds": round(self.start_seconds, 3),
        }

    def open_page(self, path: str, ready: str) -> HarnessPage:
        """Open a harness page and wait until `ready` (a JS expression) is true."""
        page = HarnessPage(self.context.new_page(), self.blocked)
        try:
            page.page.goto(self.server.url(path), wait_until="load")
            page.page.wait_for_function(ready, timeout=60_000)
        except Exception as e:  # playwright's timeout and navigation errors
            detail = page.errors[0] if page.errors else str(e).splitlines()[0]
            with contextlib.suppress(Exception):  # keep this error, not a failed close
                page.close()
            raise HarnessError(f"browser: could not open {path}: {detail}") from None
        if page.errors:
            detail = page.errors[0]
            with contextlib.suppress(Exception):
                page.close()
            raise HarnessError(f"browser: {path}: {detail}")
        return page

    def _stop_playwright(self) -> None:
        if self._pw is not None:
            with contextlib.suppress(Exception):  # already gone (interpreter exit, driver crashed)
                self._pw.stop()  # also ends a browser it launched
            self._pw = None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone at interpreter exit
            self.browser.close()
        self._stop_playwright()
        self.server.close()
        if BrowserHost._shared is self:
            BrowserHost._shared = None

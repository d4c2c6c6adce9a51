"""Chromium through Python Playwright: the first implementation of the driver interface.

Every request goes through a Playwright route: loopback passes, anything else is aborted and
recorded in `blocked`. Page errors and console errors surface as errors of the call that was
running. Playwright's own driver process ends the browser it launched when it stops.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

from runtimes.base import Availability
from runtimes.browser.driver import BrowserDriver, BrowserError, Tab, first_line, stays_on_machine

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


def find_chromium() -> str | None:
    explicit = os.environ.get("HARNESS_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def guard_route(route: Any, blocked: list[str]) -> None:
    """Playwright route handler: what stays on the machine continues; anything else is aborted
    and its URL appended to `blocked`."""
    url = route.request.url
    if stays_on_machine(url):
        route.continue_()
    else:
        blocked.append(url)
        route.abort("blockedbyclient")


class ChromiumTab(Tab):
    def __init__(self, page: Any, blocked: list[str], context: Any | None = None) -> None:
        super().__init__()
        self.page = page
        self.blocked = blocked
        self._own_context = context  # a fresh context made for this tab only, closed with it
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("console", lambda m: self.errors.append(f"console error: {m.text}") if m.type == "error" else None)

    def call(self, function_source: str, arg: Any = None) -> Any:
        from playwright.sync_api import Error as PlaywrightError

        self.errors.clear()
        blocked_before = len(self.blocked)
        try:
            result = self.page.evaluate(function_source, arg)
        except PlaywrightError as e:
            raise BrowserError(f"browser: {first_line(e)}") from None
        if len(self.blocked) > blocked_before:
            raise BrowserError(f"browser: blocked a request off this machine: {self.blocked[blocked_before]}")
        if self.errors:
            raise BrowserError(f"browser: {self.errors[0]}")
        return result

    def wait_for(self, expression: str, timeout_s: float = 60.0) -> None:
        try:
            self.page.wait_for_function(expression, timeout=timeout_s * 1000)
        except Exception as e:  # playwright's timeout and navigation errors
            raise BrowserError(f"browser: {self.errors[0] if self.errors else first_line(e)}") from None

    @property
    def closed(self) -> bool:
        return bool(self.page.is_closed())

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone (browser closed, interpreter exit)
            self.page.close()
        if self._own_context is not None:
            with contextlib.suppress(Exception):
                self._own_context.close()


class ChromiumDriver(BrowserDriver):
    engine = "chromium"

    def __init__(self, args: list[str] | None = None) -> None:
        super().__init__()
        self.args = list(args or CHROMIUM_ARGS)
        self._pw: Any = None
        self.browser: Any = None
        self.context: Any = None

    @classmethod
    def availability(cls) -> Availability:
        try:
            import playwright  # noqa: F401
        except ImportError:
            return Availability(False, "playwright is not installed", "make setup (installs the pinned Python set)")
        if find_chromium() is None:
            return Availability(False, "no Chromium found on this machine", INSTALL_HINT)
        return Availability(True)

    def launch(self) -> None:
        from playwright.sync_api import sync_playwright

        started = time.perf_counter()
        executable = find_chromium()
        try:
            self._pw = sync_playwright().start()
            self.browser = self._pw.chromium.launch(executable_path=executable, headless=True, args=self.args)
            self.context = self.new_context()
        except Exception as e:  # a bad executable, a crash at start-up, a driver that would not start
            self.close()
            raise BrowserError(
                f"browser: could not start Chromium {executable}: {first_line(e)}; {INSTALL_HINT}"
            ) from None
        self.start_seconds = time.perf_counter() - started
        self.facts = {
            "browser": f"Chromium {self.browser.version}",
            "engine": self.engine,
            "executable": executable,
            "start_seconds": round(self.start_seconds, 3),
        }

    def new_context(self, **options: Any) -> Any:
        """A Playwright context whose requests may only stay on this machine (Chromium-only
        features such as CDP throttling hang off it)."""
        context = self.browser.new_context(**options)
        context.route("**/*", lambda route: guard_route(route, self.blocked))
        return context

    def open_tab(
        self, url: str, ready: str | None = None, *, fresh_context: bool = False, init_script: str | None = None,
        timeout_s: float = 60.0,
    ) -> ChromiumTab:  # fmt: skip
        context = self.new_context() if fresh_context else self.context
        tab = ChromiumTab(context.new_page(), self.blocked, context if fresh_context else None)
        try:
            if init_script:
                tab.page.add_init_script(init_script)
            tab.page.goto(url, wait_until="load" if ready else "commit")
            if ready:
                tab.wait_for(ready, timeout_s)
        except Exception as e:
            detail = tab.errors[0] if tab.errors else first_line(e).removeprefix("browser: ")
            tab.close()
            raise BrowserError(f"browser: could not open {url}: {detail}") from None
        if tab.errors and ready:
            detail = tab.errors[0]
            tab.close()
            raise BrowserError(f"browser: {url}: {detail}")
        return tab

    def close(self) -> None:
        if self.browser is not None:
            with contextlib.suppress(Exception):  # already gone at interpreter exit
                self.browser.close()
            self.browser = None
        if self._pw is not None:
            with contextlib.suppress(Exception):  # already gone (interpreter exit, driver crashed)
                self._pw.stop()  # also ends a browser it launched
            self._pw = None

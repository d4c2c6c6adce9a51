"""Chromium through Python Playwright: one implementation of the driver interface.

Every request goes through a Playwright route: loopback passes, anything else is aborted and
recorded in `blocked` (the server's Content-Security-Policy catches the rest, as in every
engine). Page errors and console errors surface as errors of the call that was running.
Playwright's own driver process ends the browser it launched when it stops. WebGPU comes from
`--enable-unsafe-webgpu` (SwiftShader's adapter here); a device profile throttles CPU and
network through the DevTools protocol, as Lighthouse does.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from runtimes.base import Availability
from runtimes.browser.driver import (
    BrowserDriver,
    BrowserError,
    DeviceProfile,
    Tab,
    first_line,
    stays_on_machine,
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",  # WebRTC: no UDP of its own (no STUN)
    "--dns-prefetch-disable",  # no DNS look-ups ahead of a page's requests
    "--no-first-run",
    "--use-angle=swiftshader",  # WebGL on the CPU, no GPU here (FACTS)
    "--enable-unsafe-swiftshader",
    "--enable-unsafe-webgpu",  # a WebGPU adapter (SwiftShader) for tfjs-webgpu
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
    engine = "chromium"

    def __init__(self, page: Any, driver: ChromiumDriver, context: Any | None = None) -> None:
        super().__init__()
        self.page = page
        self.blocked = driver.blocked  # the host's one list
        self._routed = driver.routed  # what the route guard refused (the CSP's reports land in `blocked`)
        self._own_context = context  # a fresh context made for this tab only, closed with it
        self._opened: list[Any] = []  # windows the page opened (window.open), until asked for
        page.on("popup", lambda popup: self._opened.append(popup))
        self._navigations: list[str] = []  # where the main frame was sent during the current call
        page.on("request", self._on_request)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("console", lambda m: self.errors.append(f"console error: {m.text}") if m.type == "error" else None)

    def _call(self, function_source: str, arg: Any, timeout_s: float) -> Any:
        from playwright.sync_api import Error as PlaywrightError

        routed_before = len(self._routed)
        self._navigations.clear()
        # Argument and result cross as one JSON string each: Playwright's own serializer takes
        # ~600 ms for a list of 57k ints, a string of the same data ~20 ms. page.evaluate has no
        # timeout of its own, so the page races the call against a timer.
        wrapper = (
            f"async (a) => JSON.stringify(await Promise.race([({function_source})(JSON.parse(a)), "
            f"new Promise((_, no) => setTimeout(() => no(new Error('call timed out after {timeout_s:g} s')), "
            f"{int(timeout_s * 1000)}))]) ?? null)"
        )
        try:
            result = json.loads(self.page.evaluate(wrapper, json.dumps(arg)))
        except PlaywrightError as e:
            raise BrowserError(f"browser: {first_line(e)}") from None
        if len(self._routed) > routed_before:  # the route guard caught one (outside the CSP's reach)
            raise BrowserError(f"browser: blocked a request off this machine: {self._routed[routed_before]}")
        return result

    def type_text(self, selector: str, text: str) -> None:
        """Key by key, as a user types (Playwright's keyboard)."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.page.fill(selector, "")
            self.page.locator(selector).press_sequentially(text)
        except PlaywrightError as e:
            raise BrowserError(f"browser: {first_line(e)}") from None

    def _on_request(self, request: Any) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self._navigations.append(str(request.url))

    def _where(self) -> str | None:
        """The URL the main frame was last sent to (a refused one shows chrome-error:// as page.url)."""
        if self._navigations:
            return self._navigations[-1]
        return None if self.page.is_closed() else str(self.page.url)

    def _popups(self) -> list[str]:
        opened, self._opened[:] = list(self._opened), []
        urls = []
        for popup in opened:
            urls.append(str(popup.url))
            with contextlib.suppress(Exception):
                popup.close()
        return urls

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
        self.routed: list[str] = []  # requests the route guard refused

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
            with self._network().entered():  # Playwright's node driver, and so Chromium, born inside
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
            "network": self._network().describe(),
        }

    def new_context(self, **options: Any) -> Any:
        """A Playwright context whose requests may only stay on this machine (Chromium-only
        features such as CDP throttling hang off it)."""
        context = self.browser.new_context(**options)
        context.route("**/*", lambda route: self._guard(route))
        return context

    def _guard(self, route: Any) -> None:
        before = len(self.routed)
        guard_route(route, self.routed)
        self.blocked.extend(self.routed[before:])

    def open_tab(
        self,
        url: str,
        ready: str | None = None,
        *,
        fresh_context: bool = False,
        init_script: str | None = None,
        profile: DeviceProfile | None = None,
        timeout_s: float = 60.0,
    ) -> ChromiumTab:
        fresh = fresh_context or profile is not None  # a device profile gets its own context
        context = self.new_context(**_context_options(profile)) if fresh else self.context
        self.reach(url)
        tab = ChromiumTab(context.new_page(), self, context if fresh else None)
        tab.opened(url, self)
        try:
            if profile is not None:
                _throttle(context.new_cdp_session(tab.page), profile)
            if init_script:
                tab.page.add_init_script(init_script)
            tab.page.goto(url, wait_until="load" if ready else "commit", timeout=timeout_s * 1000)
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
        # BaseException: after a Ctrl-C inside Playwright's dispatcher the interrupt can surface
        # again here; the host then stops what is left by pid.
        if self.browser is not None:
            with contextlib.suppress(BaseException):  # already gone at interpreter exit
                self.browser.close()
            self.browser = None
        if self._pw is not None:
            with contextlib.suppress(BaseException):  # already gone (interpreter exit, driver crashed)
                self._pw.stop()  # also ends a browser it launched
            self._pw = None


def _context_options(profile: DeviceProfile | None) -> dict[str, Any]:
    if profile is None:
        return {}
    return {
        "viewport": {"width": profile.width, "height": profile.height},
        "device_scale_factor": profile.device_scale_factor,
        "is_mobile": True,
        "has_touch": True,
        "user_agent": profile.user_agent,
    }


def _throttle(cdp: Any, profile: DeviceProfile) -> None:
    """CPU and network throttling as Lighthouse applies them (the CPU slowdown reaches the page's
    main thread only: wasm worker threads run at full speed, as DevTools documents)."""
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile.cpu_slowdown})
    if not profile.throttles_network:
        return
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": profile.latency_ms,
            "downloadThroughput": int(profile.download_kbps * 1024 / 8),
            "uploadThroughput": int(profile.upload_kbps * 1024 / 8),
        },
    )

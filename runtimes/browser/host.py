"""The browsers of this process: one loopback server, one Xvfb when an engine needs a screen,
and per engine one driver launched on first use.

The server serves the harness's pages and the npm packages they load (TF.js, Pyodide) from
node_modules; every engine's tabs load from it, under its Content-Security-Policy, and every
request refused off this machine lands in one `blocked` list. Drivers and the Xvfb are closed at
interpreter exit (and by `close`), which stops every process they started, by pid.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.paths import REPO
from runtimes.base import Availability
from runtimes.browser import guardian, procs
from runtimes.browser.driver import BrowserDriver, Tab
from runtimes.browser.network import BrowserNetwork
from runtimes.browser.server import StaticServer
from runtimes.browser.xvfb import Xvfb
from runtimes.browser.xvfb import available as xvfb_available

NODE_MODULES = REPO / "node_modules"
STATIC = Path(__file__).resolve().parent / "static"
SERVED_PACKAGES = (
    "@tensorflow/tfjs/dist",
    "@tensorflow/tfjs-backend-wasm/dist",
    "@tensorflow/tfjs-backend-webgpu/dist",
    "pyodide",
)
DRIVERS = {  # engine -> "module:Class"
    "chromium": "runtimes.browser.chromium:ChromiumDriver",
    "firefox": "runtimes.browser.firefox:FirefoxDriver",
    "webkit": "runtimes.browser.webkit:WebKitDriver",
}
DEFAULT_ENGINE = "chromium"
SCREEN_ENGINES = {"firefox", "webkit"}  # drawn on the process's Xvfb when there is one (WebGL; WebKit has no headless)


def driver_class(engine: str) -> type[BrowserDriver]:
    if engine not in DRIVERS:
        raise HarnessError(f"unknown browser engine {engine!r} (known: {', '.join(DRIVERS)})")
    module_name, class_name = DRIVERS[engine].split(":")
    cls: type[BrowserDriver] = getattr(importlib.import_module(module_name), class_name)
    return cls


def availability(engine: str = DEFAULT_ENGINE) -> Availability:
    """Can this engine run the harness's pages here: its driver, its browser, the npm packages."""
    ok = driver_class(engine).availability()
    if not ok.ok:
        return ok
    missing = [p for p in SERVED_PACKAGES if not (NODE_MODULES / p).exists()]
    if missing:
        return Availability(False, f"npm packages missing: {', '.join(missing)}", "make setup (runs npm ci)")
    return Availability(True)


# Process names of what the drivers start: browsers, their helpers, drivers, bridges, Xvfb.
_STARTED = (
    "chrom",
    "headless",
    "firefox",
    "Web Content",
    "WebExtensions",
    "Isolated",
    "RDD",
    "Socket",
    "Utility",
    "MiniBrowser",
    "WebKit",
    "node",
    "Xvfb",
    "playwright",
)


def _ours(name: str) -> bool:
    return any(part in name for part in _STARTED)


def _still(pid: int, name: str) -> bool:
    """The same process is still running (its name matches: the pid was not reused)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == name
    except OSError:
        return False


class BrowserHost:
    _shared: BrowserHost | None = None

    @classmethod
    def shared(cls) -> BrowserHost:
        if cls._shared is None:
            cls._shared = cls()
            atexit.register(cls._shared.close)
        return cls._shared

    @classmethod
    def current(cls) -> BrowserHost | None:
        """The process's host if one was started (to read its facts without starting one)."""
        return cls._shared

    def __init__(self) -> None:
        self.server = StaticServer()
        self.server.mount("/node_modules/", NODE_MODULES, allow=SERVED_PACKAGES)
        self.server.mount("/page/", STATIC)
        self.blocked = self.server.blocked  # one list: the server's CSP reports and every driver's guard
        self.drivers: dict[str, BrowserDriver] = {}
        self.xvfb: Xvfb | None = None
        self.guardian = guardian.start()  # ends what we grew if we die without closing (kill -9)

    def screen(self) -> Xvfb | None:
        """The process's one Xvfb, started on first use; None where Xvfb is not installed."""
        if self.xvfb is None and xvfb_available():
            screen = Xvfb()
            screen.start()
            self.xvfb = screen
        return self.xvfb

    def driver(self, engine: str = DEFAULT_ENGINE) -> BrowserDriver:
        """The engine's driver, launched now if this is the first use."""
        if engine not in self.drivers:
            ok = availability(engine)
            if not ok.ok:
                raise HarnessError(f"browser {engine} unavailable: {ok.reason}; {ok.install}")
            driver = driver_class(engine)()
            driver.blocked = self.blocked
            driver.network = BrowserNetwork.create(engine)  # its own: what it tries is its own
            if engine in SCREEN_ENGINES:
                driver.display = self.screen()
            try:
                driver.launch()
            except BaseException:
                driver.network.close()
                raise
            self.drivers[engine] = driver
        return self.drivers[engine]

    @property
    def facts(self) -> dict[str, object]:
        """The default engine's facts (browser version, executable, start time)."""
        return dict(self.driver(DEFAULT_ENGINE).facts)

    def open_page(self, path: str, ready: str, engine: str = DEFAULT_ENGINE) -> Tab:
        """Open a harness page (a path on the server) and wait until `ready` (a JS expression) is true."""
        return self.driver(engine).open_tab(self.server.url(path), ready)

    def close(self) -> None:
        """Every driver closed, then the Xvfb and the server; a browser process a driver failed
        to end (an interrupt mid-call can leave Playwright unable to) is stopped by pid."""
        started = {pid: name for pid, name in procs.descendants(os.getpid()).items() if _ours(name)}
        for driver in self.drivers.values():
            with contextlib.suppress(BaseException):  # a second Ctrl-C must not stop the cleanup
                driver.close()
            if driver.network is not None:
                driver.network.close()
        self.drivers.clear()
        if self.xvfb is not None:
            self.xvfb.stop()
            self.xvfb = None
        self.server.close()
        procs.stop_pids([pid for pid, name in started.items() if _still(pid, name)])
        guardian.dismiss(self.guardian)  # everything is closed: nothing left for it to end
        if BrowserHost._shared is self:
            BrowserHost._shared = None

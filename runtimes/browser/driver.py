"""The browser-driver interface: every engine (Chromium, Firefox, WebKit) behind the same five verbs.

launch, open a tab, call a function in it, wait for a condition, close. The harness's pages
(runtimes/browser/static) and the web app are engine-agnostic: they are loaded from the
loopback server, expose plain JavaScript functions, and every call is "evaluate this function
source with this JSON argument, await its promise, return its JSON result". A driver adds only
what its engine needs to do that, plus the loopback guard: any request a page makes to another
host is refused and recorded in `blocked`, so a runtime that tries to reach a CDN is caught.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from harness.core.errors import HarnessError
from runtimes.base import Availability
from runtimes.browser.network import BrowserNetwork
from runtimes.browser.sniffer import Attempt

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = ("data", "blob", "about")


class BrowserError(HarnessError):
    """What the engine said went wrong in a page, in one line ("browser: ...")."""


def stays_on_machine(url: str) -> bool:
    """The guard's rule: loopback hosts and local schemes pass; anything else leaves the machine."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _leave_target(url: str) -> str:
    """The URL a page navigated to; an engine's error page carries it in its query (Firefox's
    about:neterror?...&u=URL)."""
    if url.startswith("about:"):
        target = parse_qs(urlsplit(url).query).get("u")
        if target:
            return target[0]
    return url


def _error_page(url: str) -> bool:
    return url.startswith(("chrome-error:", "about:"))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


def start_timeout_s(default: float = 60.0) -> float:
    """How long a browser may take to start before it counts as hung: HARNESS_BROWSER_START_TIMEOUT."""
    try:
        return float(os.environ.get("HARNESS_BROWSER_START_TIMEOUT", default))
    except ValueError:
        return default


CALL_TIMEOUT_S = 600.0  # one page call: a whole batch of reviews on the slowest backend fits


# The page side of the guard, the same in every engine: the server's CSP makes the browser refuse
# a request off this origin and fire `securitypolicyviolation`, which a harness page records
# (runtimes/browser/static/guard.js) and `Tab.call` collects together with the call's result.
# The violation event is a task queued behind the refused request's rejection, hence one turn of
# the event loop before collecting.
_WITH_VIOLATIONS = (
    "async (a) => {{ const value = await ({fn})(a); await new Promise((r) => setTimeout(r, 0));"
    " const blocked = (window.__harnessBlocked || []).splice(0); return {{ value, blocked }}; }}"
)


_SETTLE = "() => new Promise((r) => setTimeout(r, {ms})).then(() => (window.__harnessBlocked || []).splice(0))"

# Chromium's console line for a refusal: "Connecting to 'URL' violates the following Content
# Security Policy directive: "connect-src ..."", "Sending form data to 'URL' violates ...".
_CSP_CONSOLE = re.compile(r"'([^']+)' violates the following Content Security Policy directive: \"([a-z-]+)")

_SET_VALUE = """([selector, text]) => {
  const box = document.querySelector(selector);
  if (!box) throw new Error(`no element ${selector}`);
  box.focus();
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(box), "value").set.call(box, text);
  box.dispatchEvent(new Event("input", { bubbles: true }));
}"""


_UNCONTAINED = BrowserNetwork(None, "not set")


class Tab(ABC):
    """One page of one engine; errors the page reports during a call fail that call, and so
    does a request it tried to send off this machine."""

    engine = ""  # set by each engine's Tab: whose content processes the call's watchdog watches

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.blocked: list[str] = []  # the host's one list, set by the driver
        self.network: BrowserNetwork | None = None  # the driver's, set by it: its namespace's witness
        self.origin = ""  # the origin the tab was opened on (set by `opened`): leaving it is a navigation

    def opened(self, url: str, driver: BrowserDriver) -> None:
        """Called by each driver's open_tab: where the tab belongs, and its driver's witnesses."""
        self.origin = _origin(url)
        self.blocked = driver.blocked
        self.network = driver.network

    def call(
        self, function_source: str, arg: Any = None, *, timeout_s: float = CALL_TIMEOUT_S, settle_s: float = 0.0
    ) -> Any:
        """`(function_source)(arg)` in the page, awaited; its JSON result, or BrowserError.

        The argument and the result cross as JSON (so every engine sees the same values); a call
        that does not settle within `timeout_s` is a BrowserError, never a hang, in every engine
        (runtimes/browser/call_deadline.py), and the page is discarded.

        A refusal fails the call whether or not the page saw it: the page's own record can be
        silenced by the page (a module that stops the `securitypolicyviolation` event), the
        browser's report to the server cannot. Reports travel on their own POST, so a call into
        code the harness did not write waits `settle_s` for them."""
        from runtimes.browser.call_deadline import Watchdog

        self.errors.clear()
        reports = self._reports()
        reported_before = len(reports)
        started = time.monotonic()
        failure: BrowserError | None = None
        out: dict[str, Any] = {}
        with self._network().watching() as dialed:
            try:
                with Watchdog(self.engine, timeout_s) as dog:
                    out = self._call(_WITH_VIOLATIONS.format(fn=function_source), arg, timeout_s)
            except BrowserError as e:
                if dog.fired or time.monotonic() - started >= timeout_s:
                    with contextlib.suppress(Exception):  # a page whose process was killed may not close cleanly
                        self.close()
                    raise BrowserError(
                        f"browser: the page did not return within {timeout_s:g} s (page discarded)"
                    ) from None
                failure = e
            if settle_s > 0 and not self.closed:  # a page call, not a sleep: Playwright delivers events only then
                with contextlib.suppress(BrowserError):  # the page's record of what came late is this call's
                    late = self._call(_SETTLE.format(ms=int(settle_s * 1000)), None, settle_s + 30)
                    out["blocked"] = [*(out.get("blocked") or []), *(late or [])]
        leaks = self._leaks(out, reports[reported_before:], dialed)
        if leaks:
            url, channel = leaks[0]
            channel = channel or next((c for u, c in leaks if u == url and c), "")  # another witness may name it
            if any(c == "navigation" for _, c in leaks):
                with contextlib.suppress(Exception):  # the harness's page is gone: the next call opens a fresh one
                    self.close()
            if url not in self.blocked:  # the host's one list (a guard or an uncontained report may have it)
                self.blocked.append(url)
            named = f" ({channel})" if channel else ""
            raise BrowserError(f"browser: blocked a request off this machine: {url}{named}")
        if failure is not None:
            raise failure
        if self.errors:
            raise BrowserError(f"browser: {self.errors[0]}")
        return out.get("value")

    def _leaks(self, out: dict[str, Any], reported: list[str], dialed: list[Attempt]) -> list[tuple[str, str]]:
        """Every witness of a request off this page's server during the call, most telling
        first, as (address, channel): the page's own record (silenceable), the engine's console
        line (names the CSP directive), the page leaving its origin, a window it opened, what
        the namespace refused, and the browser's CSP report to the server (unsilenceable)."""
        leaks: list[tuple[str, str]] = [(str(u), self._refused_as(str(u))) for u in out.get("blocked") or []]
        leaks += [(m.group(1), m.group(2)) for m in map(_CSP_CONSOLE.search, self.errors) if m]
        where = self._where()
        if self.origin and where and not where.startswith(("about:blank",)) and _origin(where) != self.origin:
            leaks.append((_leave_target(where), "navigation"))
        leaks += [(url, "window.open") for url in self._popups()]
        if dialed:  # an engine's error page names no target: the address the namespace refused does
            leaks = [(dialed[0].address if _error_page(u) else u, c) for u, c in leaks]
        leaks += [(a.address, a.channel) for a in dialed]
        leaks += [(str(u), self._refused_as(str(u)) or "reported to the server") for u in reported]
        return leaks

    def _refused_as(self, url: str) -> str:
        """The channel a refusal of `url` can only have been, where the engine's policy tells
        ("": the witness names it, or nothing can)."""
        return ""

    def _network(self) -> BrowserNetwork:
        return self.network if self.network is not None else _UNCONTAINED

    def _reports(self) -> list[str]:
        """Where the server's CSP reports for this tab land: its engine's own list when the engine
        has a namespace (a late report is then its engine's), else the host's one list."""
        network = self._network()
        return network.reports if network.contained else self.blocked

    def _where(self) -> str | None:
        """The URL the tab shows now (None where the driver cannot tell)."""
        return None

    def _popups(self) -> list[str]:
        """URLs of windows the page opened since the last asking (closed on the way)."""
        return []

    @abstractmethod
    def _call(self, function_source: str, arg: Any, timeout_s: float) -> Any:
        """The engine's own way to evaluate `(function_source)(arg)` and return its JSON value;
        it raises BrowserError for an exception or a timeout, and leaves the page's error and
        console messages during the call in `self.errors` (the caller decides)."""

    def wait_for(self, expression: str, timeout_s: float = 60.0) -> None:
        """Until the JS expression is truthy, polled from inside the page (a page function, not
        the driver's own eval: that works under the pages' Content-Security-Policy in every engine)."""
        self._call(
            f"async () => {{ while (!({expression})) await new Promise((r) => setTimeout(r, 50)); }}",
            None,
            timeout_s,
        )

    def type_text(self, selector: str, text: str) -> None:
        """Replace the text of the input at `selector` as a user would. This default sets it in
        one step, as a paste does (through the element's native setter, so frameworks such as
        React see the change); engines whose driver can press keys override it with keystrokes."""
        self.call(_SET_VALUE, [selector, text])

    @property
    @abstractmethod
    def closed(self) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...


@dataclass(frozen=True)
class DeviceProfile:
    """A phone as Lighthouse's default mobile run sees it (core/config/constants.js: mobileSlow4G
    and the Moto G Power screen), applied as Lighthouse applies it with DevTools throttling:
    request latency RTT x 3.75 and throughput x 0.9 (DEVTOOLS_*_ADJUSTMENT_FACTOR)."""

    name: str = "mobile"
    cpu_slowdown: float = 4.0
    latency_ms: float = 150 * 3.75
    download_kbps: float = 1.6 * 1024 * 0.9
    upload_kbps: float = 750 * 0.9
    width: int = 412
    height: int = 823
    device_scale_factor: float = 1.75
    user_agent: str = (
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36"
    )

    @property
    def throttles_network(self) -> bool:
        return self.latency_ms > 0 or self.download_kbps > 0 or self.upload_kbps > 0

    def cpu_only(self) -> DeviceProfile:
        """The same phone on a free network: for timings of a page whose loading is not measured."""
        return replace(self, name=f"{self.name}-cpu", latency_ms=0.0, download_kbps=0.0, upload_kbps=0.0)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cpu_slowdown": self.cpu_slowdown,
            "latency_ms": self.latency_ms,
            "download_kbps": round(self.download_kbps, 2),
            "upload_kbps": self.upload_kbps,
            "viewport": [self.width, self.height],
        }


class BrowserDriver(ABC):
    """One launched engine. `close` stops every process it started, on every path."""

    engine: str = ""

    def __init__(self) -> None:
        self.facts: dict[str, Any] = {}
        self.blocked: list[str] = []  # URLs a page tried to reach off this machine
        self.start_seconds = 0.0
        self.display: Any = None  # the process's Xvfb, for engines that need a screen (set by the host)
        self.network: BrowserNetwork | None = None  # what its browsers can reach (set by the host)

    def _network(self) -> BrowserNetwork:
        return self.network if self.network is not None else _UNCONTAINED

    def reach(self, url: str) -> None:
        """Make the server of `url` reachable from this driver's browsers (call before opening it)."""
        if self.network is not None:
            self.network.expose(url)

    @classmethod
    @abstractmethod
    def availability(cls) -> Availability: ...

    @abstractmethod
    def launch(self) -> None: ...

    @abstractmethod
    def open_tab(
        self,
        url: str,
        ready: str | None = None,
        *,
        fresh_context: bool = False,
        init_script: str | None = None,
        profile: DeviceProfile | None = None,
        timeout_s: float = 60.0,
    ) -> Tab:
        """Navigate a new tab to `url` and wait until `ready` (a JS expression) is true.

        `fresh_context`: a cold profile (no cache, no storage), as a first visit sees it;
        `init_script`: JavaScript run in the page before any of its own scripts;
        `profile`: emulate a device (CPU and network throttling, a phone screen) where the engine
        can. A driver that cannot do one of these raises BrowserError saying so.
        """

    @abstractmethod
    def close(self) -> None: ...

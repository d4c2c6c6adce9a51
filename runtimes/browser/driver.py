"""The browser-driver interface: every engine (Chromium, Firefox, WebKit) behind the same five verbs.

launch, open a tab, call a function in it, wait for a condition, close. The harness's pages
(runtimes/browser/static) and the web app are engine-agnostic: they are loaded from the
loopback server, expose plain JavaScript functions, and every call is "evaluate this function
source with this JSON argument, await its promise, return its JSON result". A driver adds only
what its engine needs to do that, plus the loopback guard: any request a page makes to another
host is refused and recorded in `blocked`, so a runtime that tries to reach a CDN is caught.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import urlsplit

from harness.core.errors import HarnessError
from runtimes.base import Availability

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = ("data", "blob", "about")


class BrowserError(HarnessError):
    """What the engine said went wrong in a page, in one line ("browser: ...")."""


def stays_on_machine(url: str) -> bool:
    """The guard's rule: loopback hosts and local schemes pass; anything else leaves the machine."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOOPBACK


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


class Tab(ABC):
    """One page of one engine; errors the page reports during a call fail that call."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    @abstractmethod
    def call(self, function_source: str, arg: Any = None) -> Any:
        """`(function_source)(arg)` in the page, awaited; its JSON result, or BrowserError."""

    @abstractmethod
    def wait_for(self, expression: str, timeout_s: float = 60.0) -> None:
        """Until the JS expression is truthy; BrowserError (with the page's own error) after the timeout."""

    @property
    @abstractmethod
    def closed(self) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...


class BrowserDriver(ABC):
    """One launched engine. `close` stops every process it started, on every path."""

    engine: str = ""

    def __init__(self) -> None:
        self.facts: dict[str, Any] = {}
        self.blocked: list[str] = []  # URLs a page tried to reach off this machine
        self.start_seconds = 0.0

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
        timeout_s: float = 60.0,
    ) -> Tab:
        """Navigate a new tab to `url` and wait until `ready` (a JS expression) is true.

        `fresh_context`: a cold profile (no cache, no storage), as a first visit sees it;
        `init_script`: JavaScript run in the page before any of its own scripts.
        """  # fmt: skip

    @abstractmethod
    def close(self) -> None: ...

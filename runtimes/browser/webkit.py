"""WebKit (WebKitGTK's MiniBrowser) driven by Selenium through Debian's WebKitWebDriver.

WebKitGTK has no headless mode: the browser draws on a private Xvfb this driver starts. With no
display the new-session request hangs without an error, so session start runs under a timeout
and a timeout kills the driver's whole process group (WebKitWebDriver, MiniBrowser and its
network and web processes all share it). WebKitWebDriver 2.50 speaks classic WebDriver only
(no BiDi: `webSocketUrl` -> "Failed to match capabilities"), so there are no console events:
`call` installs its own collector (onerror, unhandledrejection, console.error) in the page.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runtimes.base import Availability
from runtimes.browser import procs, xvfb
from runtimes.browser.driver import BrowserDriver, BrowserError, DeviceProfile, Tab, start_timeout_s

MINIBROWSER_DIRS = (
    "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1",
    "/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1",
)
INSTALL_HINT = "apt-get install -y webkit2gtk-driver xvfb (as root)"

# execute_async_script body; the driver turns it into a function (no eval: the page's CSP may
# forbid it). arguments = [arg, done]; __SOURCE__ is the caller's function source.
CALL_SCRIPT = """
const [arg, done] = arguments;
if (!window.__harnessErrors) {
  const errors = (window.__harnessErrors = []);
  addEventListener("error", (e) => errors.push(`page error: ${e.message}`));
  addEventListener("unhandledrejection", (e) =>
    errors.push(`page error: ${(e.reason && e.reason.message) || e.reason}`));
  const original = console.error.bind(console);
  console.error = (...a) => { errors.push(`console error: ${a.join(" ")}`); original(...a); };
}
window.__harnessErrors.length = 0;
const finish = (reply) => done({ ...reply, errors: window.__harnessErrors.slice() });
try {
  Promise.resolve((__SOURCE__)(arg)).then(
    (v) => finish({ json: JSON.stringify(v === undefined ? null : v) }),
    (e) => finish({ error: String((e && e.message) || e) }));
} catch (e) {
  finish({ error: String((e && e.message) || e) });
}
"""


def find_webdriver() -> str | None:
    return os.environ.get("HARNESS_WEBKITWEBDRIVER") or shutil.which("WebKitWebDriver")


def find_minibrowser() -> str | None:
    explicit = os.environ.get("HARNESS_MINIBROWSER")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for folder in MINIBROWSER_DIRS:
        path = Path(folder, "MiniBrowser")
        if path.is_file():
            return str(path)
    return None


# What a refused worker is called in the run's error (server.py: NO_WORKER_ENGINES).
WORKER_REFUSED = "a Worker, refused: WebKit names nothing a worker sends, so its pages run none"


class WebKitTab(Tab):
    """WebDriver classic has one current window per session: a tab is a window (handle)."""

    engine = "webkit"

    def _refused_as(self, url: str) -> str:
        """Under the policy a contained WebKit's pages get, a refused blob: or same-origin URL can
        only be a worker's script (worker-src 'none'; every other directive allows both). A CSP
        report and event give a blob: URL as its scheme alone ("blob")."""
        network = self.network
        local = url in ("blob", "blob:") or url.startswith("blob:") or _same_origin(url, self.origin)
        if network is not None and network.contained and local:
            return WORKER_REFUSED
        return ""

    def __init__(self, driver: WebKitDriver, handle: str) -> None:
        super().__init__()
        self.driver = driver
        self.handle = handle
        self._windows_before: set[str] = set()

    def _call(self, function_source: str, arg: Any, timeout_s: float) -> Any:
        from selenium.common.exceptions import WebDriverException

        wd = self.driver._wd
        try:
            if wd.current_window_handle != self.handle:
                wd.switch_to.window(self.handle)
            self._windows_before = set(wd.window_handles)
            wd.set_script_timeout(timeout_s)
            reply = wd.execute_async_script(CALL_SCRIPT.replace("__SOURCE__", function_source), arg)
        except WebDriverException as e:
            raise BrowserError(f"browser: {(e.msg or type(e).__name__).strip().splitlines()[0]}") from None
        self.errors.extend(reply.get("errors", []))
        if "error" in reply:
            raise BrowserError(f"browser: {reply['error']}")
        return json.loads(reply["json"])

    def _where(self) -> str | None:
        from selenium.common.exceptions import WebDriverException

        try:
            self.driver._wd.switch_to.window(self.handle)
            return str(self.driver._wd.current_url)
        except (WebDriverException, AttributeError):
            return None

    def _popups(self) -> list[str]:
        """Windows that appeared during the call: window.open (WebDriver classic has no events)."""
        from selenium.common.exceptions import WebDriverException

        wd, urls = self.driver._wd, []
        try:
            for handle in set(wd.window_handles) - self._windows_before:
                wd.switch_to.window(handle)
                urls.append(str(wd.current_url))
                wd.close()
            wd.switch_to.window(self.handle)
        except (WebDriverException, AttributeError):
            pass
        return urls

    def type_text(self, selector: str, text: str) -> None:
        """Cleared, then WebDriver's Element Send Keys (the text as key events). WebKitWebDriver
        cannot send a character outside the BMP (an emoji) as keys; those go in as an input
        method inserts them (`insertText`), between the typed runs."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.common.by import By

        super().type_text(selector, "")
        try:
            box = self.driver._wd.find_element(By.CSS_SELECTOR, selector)
            for run, astral in _runs(text):
                if astral:
                    self.call("(s) => document.execCommand('insertText', false, s)", run)
                else:
                    box.send_keys(run)
        except WebDriverException as e:
            raise BrowserError(f"browser: {(e.msg or type(e).__name__).strip().splitlines()[0]}") from None

    @property
    def closed(self) -> bool:
        return not self.handle or self.driver._wd is None

    def close(self) -> None:
        wd = self.driver._wd
        if wd is None or not self.handle:
            return
        from selenium.common.exceptions import WebDriverException

        try:
            handles = wd.window_handles
            if self.handle in handles and len(handles) > 1:  # closing the last window ends the session
                wd.switch_to.window(self.handle)
                wd.close()
                wd.switch_to.window([h for h in handles if h != self.handle][0])
        except WebDriverException:  # "session deleted because of page crash or hang": nothing left to close
            pass
        finally:
            self.handle = ""


class WebKitDriver(BrowserDriver):
    engine = "webkit"

    def __init__(self, session_timeout_s: float | None = None, env: dict[str, str] | None = None) -> None:
        super().__init__()
        self.session_timeout_s = session_timeout_s or start_timeout_s(30.0)
        # LANG: WebKit takes its default locale from the environment; with none (C) it is
        # en-US-u-va-posix and 'a'.localeCompare('A') is +1, unlike every other engine here.
        # JSC_useSharedArrayBuffer=true would enable wasm threads (slower here, see FINDINGS).
        self.extra_env = {"LANG": "en_US.UTF-8", **(env or {})}
        self._wd: Any = None
        self._service: subprocess.Popen[bytes] | None = None
        self._service_url = ""
        self._fresh_tab_used = False

    @classmethod
    def availability(cls) -> Availability:
        if find_webdriver() is None or find_minibrowser() is None:
            return Availability(False, "WebKitWebDriver/MiniBrowser not found", INSTALL_HINT)
        if not xvfb.available():
            return Availability(False, "Xvfb not found (WebKitGTK has no headless mode)", INSTALL_HINT)
        try:
            import selenium  # noqa: F401
        except ImportError:
            return Availability(False, "selenium is not installed", "make setup (pins selenium)")
        return Availability(True)

    def launch(self) -> None:
        """On the process's Xvfb (set by the host); with none, the session start would hang,
        which the timeout turns into an error."""
        ok = self.availability()
        if not ok.ok:
            raise BrowserError(f"browser: webkit unavailable: {ok.reason}; {ok.install}")
        os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never try to download a driver
        from selenium import webdriver

        t0 = time.perf_counter()
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(self.extra_env)
        try:
            if self.display is not None:
                env.update(self.display.env())
            # Unlinked at once: nothing is left in /tmp even if we are SIGKILLed.
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the driver
            # Its own session: MiniBrowser and the web/network processes join the driver's group.
            # Started here, in the calling thread (PR_SET_PDEATHSIG is per thread), not by
            # webdriver.WebKitGTK(...) in the session thread below; inside the browsers' network
            # namespace, its port forwarded out to Selenium (Selenium's own Service would look
            # for the port on this machine's loopback, where it is not).
            network = self._network()
            port = network.free_port()
            self._service = procs.spawn(
                [find_webdriver() or "WebKitWebDriver", f"--port={port}"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
                enter=network.preexec(),
            )
            service = self._service
            if not network.wait_listening(port, self.session_timeout_s, lambda: service.poll() is None):
                raise BrowserError(f"browser: WebKitWebDriver did not listen within {self.session_timeout_s} s")
            self._service_url = f"http://127.0.0.1:{network.reach_in(port)}"
            opts = webdriver.WebKitGTKOptions()
            opts.binary_location = find_minibrowser() or ""
            opts.add_argument("--automation")  # with explicit args MiniBrowser needs it (FACTS)
            self._wd = self._start_session(opts)
        except BaseException:
            self.close()
            raise
        caps = self._wd.capabilities
        self.facts = {
            "browser": f"WebKitGTK {caps.get('browserVersion')} ({caps.get('browserName')})",
            "executable": find_minibrowser(),
            "driver": find_webdriver(),
            "display": self.display.display if self.display is not None else None,
            "user_agent": self._wd.execute_script("return navigator.userAgent"),
            "start_seconds": round(time.perf_counter() - t0, 3),
            "network": self._network().describe(),
        }
        self.start_seconds = self.facts["start_seconds"]

    def _start_session(self, opts: Any) -> Any:
        """The new-session request in a thread: it can hang forever, and only we can end it."""
        from selenium.webdriver.remote.client_config import ClientConfig
        from selenium.webdriver.remote.remote_connection import RemoteConnection
        from selenium.webdriver.remote.webdriver import WebDriver as RemoteWebDriver

        box: dict[str, Any] = {}

        def start() -> None:
            try:
                config = ClientConfig(remote_server_addr=self._service_url)
                box["wd"] = RemoteWebDriver(command_executor=RemoteConnection(client_config=config), options=opts)
            except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = e

        thread = threading.Thread(target=start, name="webkit-session", daemon=True)
        thread.start()
        thread.join(self.session_timeout_s)
        if thread.is_alive() or "error" in box:
            if thread.is_alive():
                self._stop_service()  # ends the hung request too: its connection drops
                thread.join(5)
                raise BrowserError(
                    f"browser: WebKit session did not start within {self.session_timeout_s} s (no usable display?)"
                )
            first = str(box["error"]).strip().splitlines()[0]
            raise BrowserError(f"browser: WebKit session failed: {first}")
        return box["wd"]

    def open_tab(
        self,
        url: str,
        ready: str | None = None,
        *,
        fresh_context: bool = False,
        init_script: str | None = None,
        profile: DeviceProfile | None = None,
        timeout_s: float = 60.0,
    ) -> WebKitTab:
        """fresh_context: WebDriver classic has no contexts; a fresh context means a new session
        (not done here). New tabs share cookies and storage with the first."""
        from selenium.common.exceptions import WebDriverException

        wd = self._wd
        if wd is None:
            raise BrowserError("browser: webkit is not running")
        if init_script is not None or profile is not None:
            raise BrowserError("browser: webkit: init scripts and device profiles need Chromium's DevTools protocol")
        try:
            if self._fresh_tab_used:  # a window, not a tab: a background tab is hidden, so
                wd.switch_to.new_window("window")  # rAF never fires and webgl reads take ~1 s
            self._fresh_tab_used = True
            wd.set_page_load_timeout(timeout_s)
            self.reach(url)
            wd.get(url)
            tab = WebKitTab(self, wd.current_window_handle)
            tab.opened(url, self)
            if ready:
                tab.wait_for(ready, timeout_s)
        except WebDriverException as e:
            raise BrowserError(f"browser: could not open {url}: {(e.msg or '').strip().splitlines()[0]}") from None
        return tab

    def _stop_service(self) -> None:
        if self._service is not None:
            procs.stop(self._service)

    def close(self) -> None:
        wd, self._wd = self._wd, None
        if wd is not None:
            with contextlib.suppress(Exception):  # the group is killed below either way
                wd.quit()  # ends the session (MiniBrowser); the driver process is ours to stop
        self._stop_service()
        self._service = None


def _same_origin(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    return bool(origin) and f"{parts.scheme}://{parts.netloc}" == origin


def _runs(text: str) -> list[tuple[str, bool]]:
    """`text` as consecutive runs of BMP characters and of characters beyond it (True)."""
    out: list[tuple[str, bool]] = []
    for ch in text:
        astral = ord(ch) > 0xFFFF
        if out and out[-1][1] == astral:
            out[-1] = (out[-1][0] + ch, astral)
        else:
            out.append((ch, astral))
    return out

"""Firefox (Debian firefox-esr) driven over WebDriver BiDi by puppeteer-core in a Node bridge.

Python Playwright cannot launch a stock Firefox and Debian has no geckodriver, so the harness
talks JSON lines to `firefox_bridge.mjs` (see its header for the protocol). The bridge runs in
its own session: Ctrl-C reaches Python only, and Python's `close` ends bridge and browser by
pid. If Python dies without closing (SIGTERM, SIGKILL), the bridge gets SIGTERM from
PR_SET_PDEATHSIG or sees stdin close, and kills the browser's process group.

Headless Firefox has wasm threads + SIMD but no WebGL; `headless=False` runs it on a private
Xvfb, where WebGL works (Mesa llvmpipe).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from harness.core.paths import REPO
from runtimes.base import Availability
from runtimes.browser import procs
from runtimes.browser.driver import BrowserDriver, BrowserError, DeviceProfile, Tab, start_timeout_s

HERE = Path(__file__).resolve().parent
BRIDGE = HERE / "firefox_bridge.mjs"
PUPPETEER = REPO / "node_modules" / "puppeteer-core"
INSTALL_HINT = "apt-get install -y firefox-esr (as root), or set HARNESS_FIREFOX=/path/to/firefox"
PROFILE_PREFIX = "harness-firefox-"
NPM_HINT = "make setup (npm ci; puppeteer-core is pinned in package.json and downloads no browser)"

# Nothing on the way to a page may reach for the network (there is none here anyway).
PREFS = {
    "network.dns.disablePrefetch": True,
    "network.dns.disablePrefetchFromHTTPS": True,
    "network.prefetch-next": False,
    "network.predictor.enabled": False,  # no speculative connections (preconnect ahead of use)
    "network.http.speculative-parallel-limit": 0,
    "media.peerconnection.enabled": False,  # no WebRTC at all: no STUN over UDP
    "media.peerconnection.ice.no_host": True,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.region.network.url": "",
    "toolkit.telemetry.enabled": False,
    "dom.webgpu.enabled": False,
    "webgl.force-enabled": True,  # else "Exhausted GL driver options" on llvmpipe under Xvfb
}


def sweep_stale_profiles() -> None:
    """Remove profiles of harness processes that died without cleaning up (SIGKILL)."""
    for path in Path(tempfile.gettempdir()).glob(f"{PROFILE_PREFIX}*-*"):
        pid = path.name[len(PROFILE_PREFIX) :].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def find_firefox() -> str | None:
    explicit = os.environ.get("HARNESS_FIREFOX")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("firefox-esr", "firefox"):
        found = shutil.which(name)
        if found:
            return str(Path(found).resolve())  # the real binary, not a wrapper script's symlink
    return None


class FirefoxTab(Tab):
    engine = "firefox"

    def __init__(self, driver: FirefoxDriver, tab_id: str) -> None:
        super().__init__()
        self.driver = driver
        self.id = tab_id
        self._state: dict[str, Any] = {}  # the bridge's last word on where the tab is and what it opened

    def _call(self, function_source: str, arg: Any, timeout_s: float) -> Any:
        reply = self.driver._request(
            {
                "op": "call",
                "tab": self.id,
                "fn": function_source,
                "arg": arg,
                "timeoutMs": int(timeout_s * 1000),
            },
            timeout_s + 10,
        )
        self.errors.extend(reply.get("errors", []))
        self._state = {"where": reply.get("where"), "popups": reply.get("popups") or []}
        if "error" in reply:
            raise BrowserError(f"browser: {reply['error']}")
        return reply["value"]

    def _where(self) -> str | None:
        return self._state.get("where")

    def _popups(self) -> list[str]:
        popups, self._state["popups"] = self._state.get("popups") or [], []
        return [str(u) for u in popups]

    def type_text(self, selector: str, text: str) -> None:
        """Key by key through puppeteer's keyboard (WebDriver BiDi input actions)."""
        reply = self.driver._request({"op": "type", "tab": self.id, "selector": selector, "text": text}, 120)
        if "error" in reply:
            raise BrowserError(f"browser: {reply['error']}")

    @property
    def closed(self) -> bool:
        return not self.id or self.driver._proc is None

    def close(self) -> None:
        if self.id and self.driver._proc is not None:
            with contextlib.suppress(BrowserError):  # the bridge is gone: so is the tab
                self.driver._request({"op": "closeTab", "tab": self.id}, 15)
        self.id = ""


class FirefoxDriver(BrowserDriver):
    """Headful on the process's Xvfb when there is one (WebGL works there), headless otherwise."""

    engine = "firefox"

    def __init__(self, launch_timeout_s: float | None = None) -> None:
        super().__init__()
        self.launch_timeout_s = launch_timeout_s or start_timeout_s()
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._next_id = 0
        self._browser_pid: int | None = None
        self._stderr: Any = None
        self._profile: str | None = None

    @property
    def headless(self) -> bool:
        return self.display is None

    @classmethod
    def availability(cls, headless: bool = True) -> Availability:
        if find_firefox() is None:
            return Availability(False, "no Firefox found on this machine", INSTALL_HINT)
        if shutil.which("node") is None:
            return Availability(False, "node is not installed", "apt-get install -y nodejs")
        if not PUPPETEER.is_dir():
            return Availability(False, "npm package puppeteer-core missing", NPM_HINT)
        if not headless and shutil.which("Xvfb") is None:
            return Availability(
                False,
                "Xvfb not found (needed for WebGL in Firefox)",
                "apt-get install -y xvfb",
            )
        return Availability(True)

    def launch(self) -> None:
        ok = self.availability(self.headless)
        if not ok.ok:
            raise BrowserError(f"browser: firefox unavailable: {ok.reason}; {ok.install}")
        t0 = time.perf_counter()
        env = dict(os.environ)
        try:
            if self.display is not None:
                env.update(self.display.env())
            sweep_stale_profiles()
            self._profile = tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{os.getpid()}-")
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the bridge
            self._proc = procs.spawn(
                ["node", str(BRIDGE)],
                cwd=HERE,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                enter=self._network().preexec(),  # the bridge, and so Firefox, born inside
            )
            threading.Thread(target=self._read_replies, name="firefox-bridge", daemon=True).start()
            value = self._request(
                {
                    "op": "launch",
                    "executablePath": find_firefox(),
                    "userDataDir": self._profile,
                    "headless": self.headless,
                    "prefs": PREFS,
                    "env": {"MOZ_CRASHREPORTER_DISABLE": "1"},
                    "timeoutMs": int(self.launch_timeout_s * 1000),
                },
                self.launch_timeout_s + 10,
            )["value"]
        except BaseException:
            self.close()
            raise
        self._browser_pid = value["pid"]
        name, _, version = value["version"].partition("/")
        self.facts = {
            "browser": f"{name.capitalize()} {version}{'esr' if 'esr' in (find_firefox() or '') else ''}",
            "executable": find_firefox(),
            "user_agent": value["userAgent"],
            "headless": self.headless,
            "display": self.display.display if self.display is not None else None,
            "start_seconds": round(time.perf_counter() - t0, 3),
            "network": self._network().describe(),
        }
        self.start_seconds = self.facts["start_seconds"]

    def _read_replies(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._replies.put(json.loads(line))
        self._replies.put(None)  # the bridge exited

    def _request(self, req: dict, timeout_s: float) -> dict:
        if self._proc is None or self._proc.stdin is None:
            raise BrowserError("browser: firefox is not running")
        self._next_id += 1
        req["id"] = self._next_id
        try:
            self._proc.stdin.write((json.dumps(req) + "\n").encode())
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise BrowserError(f"browser: the firefox bridge is gone{self._stderr_tail()}") from None
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise BrowserError(f"browser: firefox did not answer {req['op']} within {timeout_s:.0f} s") from None
            if reply is None:
                raise BrowserError(f"browser: the firefox bridge exited{self._stderr_tail()}")
            if reply.get("id") == req["id"]:
                break  # older replies belong to requests that timed out
        if req["op"] in ("launch", "open", "quit") and "error" in reply:
            raise BrowserError(f"browser: firefox {req['op']}: {reply['error']}")
        return reply

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return f": {lines[-1]}" if lines else ""

    def open_tab(
        self,
        url: str,
        ready: str | None = None,
        *,
        fresh_context: bool = False,
        init_script: str | None = None,
        profile: DeviceProfile | None = None,
        timeout_s: float = 60.0,
    ) -> FirefoxTab:
        if init_script is not None or profile is not None:
            raise BrowserError("browser: firefox: init scripts and device profiles need Chromium's DevTools protocol")
        self.reach(url)
        reply = self._request(
            {
                "op": "open",
                "url": url,
                "ready": ready or "true",
                "fresh": fresh_context,
                "timeoutMs": int(timeout_s * 1000),
            },
            timeout_s * 2 + 10,
        )
        tab = FirefoxTab(self, reply["value"]["tab"])
        tab.opened(url, self)
        return tab

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                self._proc = proc
                with contextlib.suppress(BrowserError):  # a dead bridge: the kill below does it
                    self._request({"op": "quit"}, 15)
                self._proc = None
            procs.stop(proc)
            procs.stop_group(self._browser_pid)  # the bridge normally did; this is by pid too
        self._browser_pid = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

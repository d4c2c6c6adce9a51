"""The shipped web app (apps/web): build it against the current export, serve it, measure it.

`build` runs `npm ci` in apps/web when its lock file changed, `vite build` into a staging folder,
copies the configured TF.js variant of the bundle's export plus tokenizer.json into
dist/model/, writes dist/build.json (every file with bytes, gzip bytes and sha256, grouped as
app code / wasm / model, and the fingerprint of the build's inputs) and swaps the folder in
whole. When the fingerprint and the files on disk match, it returns at once (no npm, no vite).

`serve` serves dist/ on 127.0.0.1 with the harness's static server (COOP/COEP, so the wasm
backend gets threads). `figures` returns the app's budget figures: its gzip download and its
time to first prediction measured in real Chromium.

Importing this module imports neither Playwright nor TensorFlow.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from harness import atomic, config
from harness.bundle import TOKENIZER, Bundle
from harness.bundle import load as load_bundle
from harness.errors import HarnessError
from harness.paths import REPO, cache_dir
from runtimes.browser.server import StaticServer

APP = REPO / "apps" / "web"
DIST = APP / "dist"
BUILD_JSON = "build.json"
MODEL_DIR = "model"
INFO_JSON = "info.json"
DEFAULT_VARIANT = "tfjs-u8"
BUILD_FORMAT = "harness-webapp-build/1"
# The files whose content decides the build (besides the export and the bundle's tokenizer).
SOURCES = ("package.json", "package-lock.json", "vite.config.js", "index.html", "src")
NPM_STAMP = ".harness-npm-stamp"
# The wasm binary a cross-origin-isolated Chromium fetches (threads + SIMD); the others are fallbacks.
DEFAULT_WASM = "wasm/tfjs-backend-wasm-threaded-simd.wasm"
FIRST_SCORE_MARK = "review-app:first-score"
MODEL_READY_MARK = "review-app:model-ready"
PROBE_TEXT = "a gorgeous, witty, seductive movie"


# ---------------------------------------------------------------------------- configuration


def variant(cfg: dict[str, Any] | None = None) -> str:
    """The TF.js export target the app ships: conformance.toml [webapp] variant, else tfjs-u8."""
    cfg = cfg if cfg is not None else config.load()
    chosen = str(cfg.get("webapp", {}).get("variant", DEFAULT_VARIANT))
    known = tfjs_variants()
    if chosen not in known:
        raise HarnessError(f"conformance.toml [webapp] variant = {chosen!r}: expected one of {', '.join(known)}")
    return chosen


def tfjs_variants() -> list[str]:
    from runtimes.registry import SPECS

    return sorted({s.target for s in SPECS.values() if s.id.startswith("tfjs-") and s.target})


def runtime_id(target: str, backend: str = "wasm") -> str:
    """The harness runtime that runs the same artifact on the same backend, e.g. tfjs-wasm@u8."""
    from runtimes.registry import SPECS

    for spec in SPECS.values():
        if spec.target == target and spec.options.get("backend") == backend:
            return spec.id
    raise HarnessError(f"no TF.js runtime runs {target!r} on {backend!r}")


def tolerance(target: str, backend: str = "wasm") -> config.Tolerance:
    from runtimes.registry import SPECS

    rid = runtime_id(target, backend)
    return config.tolerance(rid, SPECS[rid].precision)


# ---------------------------------------------------------------------------- build


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _source_files() -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        path = APP / name
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise HarnessError(f"{path}: missing from the web app")
    return files


def fingerprint(bundle: Bundle, artifact: Any, target: str) -> str:
    """sha256 over everything the build depends on: app sources, lock file, export, tokenizer."""
    h = hashlib.sha256()
    for path in _source_files():
        h.update(path.relative_to(APP).as_posix().encode() + b"\0" + _sha256(path.read_bytes()).encode() + b"\n")
    facts = {
        "format": BUILD_FORMAT,
        "variant": target,
        "artifact": artifact.manifest.get("artifact_hash"),
        "tokenizer": bundle.manifest["files"].get(TOKENIZER, {}).get("sha256"),
        "signature": bundle.signature().__dict__,
        "threshold": config.threshold(),
    }
    h.update(json.dumps(facts, sort_keys=True).encode())
    return h.hexdigest()


def _run(cmd: list[str], what: str) -> None:
    if shutil.which(cmd[0]) is None:
        raise HarnessError(f"{cmd[0]} not found: install Node 20.19+ with npm to build the web app ({what})")
    proc = subprocess.run(cmd, cwd=APP, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise HarnessError(f"{what} failed in {APP} (exit {proc.returncode}):\n{tail}")


def ensure_node_modules() -> bool:
    """`npm ci` when apps/web/node_modules does not match package-lock.json; True if it ran."""
    lock = APP / "package-lock.json"
    stamp = APP / "node_modules" / NPM_STAMP
    wanted = _sha256((APP / "package.json").read_bytes() + b"\0" + lock.read_bytes())
    if stamp.is_file() and stamp.read_text().strip() == wanted and (APP / "node_modules" / ".bin" / "vite").exists():
        return False
    _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci")
    atomic.write_text(stamp, wanted + "\n")
    return True


def _gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def _group(name: str) -> str:
    if name.startswith(f"{MODEL_DIR}/"):
        return "model"
    if name.startswith("wasm/"):
        return "wasm"
    return "app"


def describe(dist: Path) -> dict[str, dict[str, Any]]:
    """Every file of `dist` but build.json: its group, bytes, gzip bytes and sha256."""
    from harness.export import describe_files

    return {
        name: {"group": _group(name), **entry} for name, entry in describe_files(dist).items() if name != BUILD_JSON
    }


def download_sizes(files: dict[str, dict[str, Any]]) -> dict[str, int]:
    """What a first visit downloads: app code, model + tokenizer files, and the wasm binary it uses."""

    def total(key: str, group: str) -> int:
        return sum(e[key] for e in files.values() if e["group"] == group)

    wasm = files.get(DEFAULT_WASM, {"bytes": 0, "gzip_bytes": 0})
    out = {}
    for key in ("bytes", "gzip_bytes"):
        out[f"app_{key}"] = total(key, "app")
        out[f"model_{key}"] = total(key, "model")
        out[f"wasm_{key}"] = int(wasm[key])
        out[f"total_{key}"] = out[f"app_{key}"] + out[f"model_{key}"] + out[f"wasm_{key}"]
    return out


def _dist_matches(dist: Path, record: dict[str, Any]) -> bool:
    for name, entry in record.get("files", {}).items():
        path = dist / name
        if not path.is_file() or path.stat().st_size != entry["bytes"]:
            return False
        if _sha256(path.read_bytes()) != entry["sha256"]:
            return False
    return bool(record.get("files"))


def read_build(dist: Path = DIST) -> dict[str, Any] | None:
    path = dist / BUILD_JSON
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) and record.get("format") == BUILD_FORMAT else None


def _copy_model(bundle: Bundle, artifact: Any, target: str, out: Path) -> None:
    model = out / MODEL_DIR
    model.mkdir(parents=True, exist_ok=True)
    artifact.verify()
    for name in artifact.files:
        shutil.copyfile(artifact.path / name, model / name)
    shutil.copyfile(bundle.tokenizer_path, model / TOKENIZER)
    shipped = {n: artifact.files[n] for n in artifact.files} | {
        TOKENIZER: {
            "bytes": bundle.tokenizer_path.stat().st_size,
            "gzip_bytes": _gzip_size(bundle.tokenizer_path.read_bytes()),
        }
    }
    sig = bundle.signature()
    atomic.write_json(
        model / INFO_JSON,
        {
            "variant": target,
            "weights": artifact.manifest.get("weights", target),
            "bundle_hash": bundle.hash,
            "artifact_hash": artifact.manifest.get("artifact_hash"),
            "signature": {
                "length": sig.length,
                "vocab_size": sig.vocab_size,
                "kind": sig.output_kind,
                "classes": sig.classes,
                "positive_index": sig.positive_index,
            },
            "threshold": config.threshold(),
            "bytes": sum(int(e["bytes"]) for e in shipped.values()),
            "gzip_bytes": sum(int(e["gzip_bytes"]) for e in shipped.values()),
        },
    )


def build(bundle: Bundle | str | Path | None = None, target: str | None = None, force: bool = False) -> dict[str, Any]:
    """Build apps/web into apps/web/dist against the bundle's export; returns build.json's content.

    Idempotent: when nothing it depends on changed (and dist/ is intact) it returns the
    recorded build without running npm or vite (`"cached": true`).
    """
    from harness import export

    started = time.perf_counter()
    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    target = target or variant()
    if target not in tfjs_variants():
        raise HarnessError(f"web app variant {target!r}: expected a TF.js target ({', '.join(tfjs_variants())})")
    artifact = export.export(b, target)
    with atomic.file_lock(cache_dir() / "webapp-build.lock"):
        key = fingerprint(b, artifact, target)
        record = read_build()
        if not force and record is not None and record.get("fingerprint") == key and _dist_matches(DIST, record):
            return {**record, "cached": True}
        ran_npm_ci = ensure_node_modules()
        with atomic.staged_dir(DIST) as stage:
            _run(["npx", "--no", "vite", "build", "--outDir", str(stage), "--emptyOutDir"], "vite build")
            _copy_model(b, artifact, target, stage)
            files = describe(stage)
            record = {
                "format": BUILD_FORMAT,
                "fingerprint": key,
                "variant": target,
                "runtime": runtime_id(target, "wasm"),
                "bundle_hash": b.hash,
                "artifact_hash": artifact.manifest.get("artifact_hash"),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "build_seconds": round(time.perf_counter() - started, 3),
                "npm_ci": ran_npm_ci,
                "download": download_sizes(files),
                "files": files,
            }
            atomic.write_json(stage / BUILD_JSON, record)
    return {**record, "cached": False}


# ---------------------------------------------------------------------------- serve


class AppServer(StaticServer):
    """The harness's StaticServer (same handler and headers), answering a folder URL
    (`/`, `/webapp/`) with its index.html."""

    def find(self, url_path: str) -> Path | None:
        path = url_path.split("?", 1)[0].split("#", 1)[0]
        return super().find(path + "index.html" if path.endswith("/") else path)


def app_server(dist: Path = DIST, port: int = 0, prefix: str = "/") -> AppServer:
    """The app's server (loopback, COOP/COEP) with `dist` mounted at `prefix`."""
    try:
        server = AppServer(port=port)
    except OSError as e:
        raise HarnessError(f"cannot serve on 127.0.0.1:{port} ({e.strerror or e})") from None
    server.mount(prefix, dist)
    return server


def serve(port: int = 8000, dist: Path = DIST) -> None:
    """Serve the built app on http://127.0.0.1:PORT/ until interrupted (call `build` first)."""
    if read_build(dist) is None:
        raise HarnessError(f"{dist}: no built app (run `harness app build` first)")
    server = app_server(dist, port)
    print(f"serving {dist} at {server.origin}/ (Ctrl+C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.close()


# ---------------------------------------------------------------------------- measure


# Types `text` into the review box the moment it exists, from inside the page (a user pasting
# at once; no round trip to the driver in the measurement).
_TYPE_ON_SIGHT = """
(() => {
  const text = %s;
  const type = () => {
    const box = document.querySelector('[data-testid="review"]');
    if (!box) return false;
    box.focus();
    box.value = text;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  };
  const watch = new MutationObserver(() => type() && watch.disconnect());
  watch.observe(document, { childList: true, subtree: true });
})();
"""


def measure_first_prediction(
    context: Any, url: str, text: str = PROBE_TEXT, timeout_ms: int = 60_000
) -> dict[str, Any]:
    """One navigation in a Playwright `context`: the review is typed as soon as the box exists,
    and the page's own performance marks (performance.now(), from navigation start) say when
    the model was ready and when the first score was on screen."""
    page = context.new_page()
    try:
        page.add_init_script(_TYPE_ON_SIGHT % json.dumps(text))
        page.goto(url, wait_until="commit")
        page.wait_for_function(
            f"""() => performance.getEntriesByName({json.dumps(FIRST_SCORE_MARK)}).length > 0
                   || document.querySelector('[data-testid="error"]')""",
            timeout=timeout_ms,
        )
        marks = page.evaluate(
            """([first, ready]) => {
                const at = (n) => { const m = performance.getEntriesByName(n)[0]; return m ? m.startTime : null; };
                const err = document.querySelector('[data-testid="error"]');
                return { first: at(first), ready: at(ready), error: err ? err.innerText : null,
                         score: document.querySelector('[data-testid="score"]')?.textContent ?? null,
                         backend: document.querySelector('[data-testid="backend-in-use"]')?.textContent ?? null };
            }""",
            [FIRST_SCORE_MARK, MODEL_READY_MARK],
        )
        if not marks["error"]:  # let the background fetch of the other backends finish first
            page.wait_for_selector('[data-testid="backend"][data-prefetched="true"]', timeout=timeout_ms)
    finally:
        page.close()
    if marks["error"]:
        raise HarnessError(f"web app at {url}: {marks['error'].splitlines()[0]}")
    return {
        "time_to_first_prediction_ms": round(float(marks["first"]), 1),
        "model_ready_ms": round(float(marks["ready"]), 1),
        "score": float(marks["score"]),
        "backend": marks["backend"],
    }


def figures(bundle: Bundle | str | Path | None = None, runs: int = 3) -> dict[str, Any]:
    """The app's budget figures: gzip download (from dist/build.json) and the median time to
    first prediction over `runs` cold visits (fresh browser context each) in headless Chromium
    on the default (wasm) backend. A request the app makes off this machine is an error."""
    record = build(bundle)
    out: dict[str, Any] = {
        "variant": record["variant"],
        "download": record["download"],
        "gzip_download_bytes": record["download"]["total_gzip_bytes"],
    }
    from runtimes.browser.host import BrowserHost

    host = BrowserHost.shared()
    server = app_server(DIST, prefix="/webapp/")
    blocked: list[str] = []
    try:
        samples = []
        for _ in range(max(1, runs)):
            context = new_context(host.browser, blocked)
            try:
                samples.append(measure_first_prediction(context, server.url("/webapp/index.html")))
            except Exception:
                if not blocked:
                    raise  # else the blocked request is the cause worth naming
            finally:
                context.close()
            if blocked:
                raise HarnessError(f"web app: blocked a request off this machine: {blocked[0]}")
    finally:
        server.close()
    out["time_to_first_prediction_ms"] = statistics.median(s["time_to_first_prediction_ms"] for s in samples)
    out["model_ready_ms"] = statistics.median(s["model_ready_ms"] for s in samples)
    out["time_to_first_prediction_samples_ms"] = [s["time_to_first_prediction_ms"] for s in samples]
    out["backend"] = samples[-1]["backend"]
    out["browser"] = f"Chromium {host.browser.version}"
    return out


def new_context(browser: Any, blocked: list[str] | None = None) -> Any:
    """A fresh browser context whose requests may only go to loopback (others are aborted and
    appended to `blocked`), with the harness's BrowserHost guard."""
    from runtimes.browser.host import guard_route

    sink = blocked if blocked is not None else []
    context = browser.new_context()
    context.route("**/*", lambda route: guard_route(route, sink))
    return context

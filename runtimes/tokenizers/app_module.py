"""The app's tokenizer module as a browser can import it from the loopback server.

A module that imports nothing is served as it is, byte for byte. One that imports other
files (`./words.js`) or packages (`import escape from "lodash/escapeRegExp"`) is bundled
first into one ES module, with a bundler the app already keeps: esbuild, or rolldown (what
Vite 8, the web app's build tool, bundles with), looked up in node_modules/.bin from the
module's folder upwards, then in the web app's. Packages resolve the way the app's own build
resolves them, from the nearest node_modules. When no bundler is there, or an import does
not resolve, the module is refused with one line that says which import and why; nothing is
fetched from a network.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.hashing import file_sha256
from harness.core.paths import REPO
from harness.core.tokenizer.app_tokenizer import AppTokenizer

BUNDLERS = ("esbuild", "rolldown")  # preferred first
WEB_APP_BIN = REPO / "apps" / "web" / "node_modules" / ".bin"
BUNDLE_TIMEOUT_S = 120
# Static imports and re-exports (`import x from "m"`, `import "m"`, `export * from "m"`) and
# dynamic `import("m")`; a match inside a comment only costs an unneeded bundling step.
_IMPORT = re.compile(
    r"""(?:^|[;\n}])\s*(?:import|export)\b[^;'"`]*?\bfrom\s*(['"])(?P<a>[^'"]+)\1"""
    r"""|(?:^|[;\n}])\s*import\s*(['"])(?P<b>[^'"]+)\3"""
    r"""|\bimport\s*\(\s*(['"])(?P<c>[^'"]+)\5\s*\)""",
    re.MULTILINE,
)
_UNRESOLVED = re.compile(r"""Could not resolve ['"]?([^'"\s]+)""")
_PREPARED: dict[str, Prepared] = {}  # content key -> the file to serve, once per process
_SCRATCH: list[Path] = []  # this process's folder of bundled modules, removed at exit
_DIGESTS: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class Prepared:
    folder: Path  # what the server mounts
    name: str  # the one file it may serve from there
    bundled_with: str | None  # "rolldown 1.2.19", or None when served as it is
    sha256: str  # of the file the browser imports

    def facts(self) -> dict[str, object]:
        return {"module_sha256": self.sha256, "bundled_with": self.bundled_with}


def imports(source: str) -> list[str]:
    return [m.group("a") or m.group("b") or m.group("c") for m in _IMPORT.finditer(source)]


def is_bare(specifier: str) -> bool:
    return not specifier.startswith(("./", "../", "/", "data:", "blob:", "http:", "https:"))


def find_bundler(module: Path) -> tuple[str, Path] | None:
    """(name, executable) of the first bundler in node_modules/.bin above the module, then the web app's."""
    folders = [p / "node_modules" / ".bin" for p in module.parents] + [WEB_APP_BIN]
    for folder in dict.fromkeys(folders):
        for name in BUNDLERS:
            exe = folder / name
            if exe.is_file() and os.access(exe, os.X_OK):
                return name, exe
    return None


def _sha256(path: Path) -> str:
    """A file's sha256, re-read only when its size or mtime changed (shrinking asks per text)."""
    st = path.stat()
    stamp = (str(path), st.st_size, st.st_mtime_ns)
    if stamp not in _DIGESTS:
        _DIGESTS[stamp] = file_sha256(path)
    return _DIGESTS[stamp]


def content_key(app: AppTokenizer) -> str:
    """Key of an app tokenizer as it is now: its module, function and assets."""
    h = hashlib.sha256()
    for part in (str(app.module), _sha256(app.module), app.function, *(_sha256(a) for a in app.assets)):
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()[:24]


def prepare(app: AppTokenizer) -> Prepared:
    """The file to serve for `app`'s module (bundled once per content and process), or a
    one-line HarnessError saying why it cannot be imported in a browser."""
    key = content_key(app)
    if key not in _PREPARED:
        if not _SCRATCH:
            _SCRATCH.append(Path(tempfile.mkdtemp(prefix="harness-app-tokenizer-")))
            atexit.register(shutil.rmtree, _SCRATCH[0], True)
        _PREPARED[key] = _prepare(app, _SCRATCH[0] / key)
    return _PREPARED[key]


def _prepare(app: AppTokenizer, scratch: Path) -> Prepared:
    source = app.module.read_text(encoding="utf-8")
    found = imports(source)
    if not found:
        return Prepared(app.module.parent, app.module.name, None, file_sha256(app.module))
    bundler = find_bundler(app.module)
    if bundler is None:
        what = next((s for s in found if is_bare(s)), found[0])
        raise HarnessError(
            f"{app.module}: imports {what!r}, so it must be bundled first, and no bundler "
            f"({' or '.join(BUNDLERS)}) is in node_modules/.bin above it or in apps/web (run make setup)"
        )
    name, exe = bundler
    scratch.mkdir(parents=True, exist_ok=True)
    out = scratch / f"{app.module.stem}.bundle.mjs"
    if name == "esbuild":
        cmd = [
            str(exe),
            str(app.module),
            "--bundle",
            "--format=esm",
            "--platform=browser",
            f"--outfile={out}",
            "--log-level=warning",
        ]
    else:
        cmd = [str(exe), str(app.module), "--format", "esm", "--platform", "browser", "--file", str(out)]
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=BUNDLE_TIMEOUT_S, env=env, cwd=app.module.parent
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise HarnessError(f"{app.module}: {name} could not bundle it ({e})") from None
    said = proc.stderr + proc.stdout
    unresolved = _UNRESOLVED.search(said)
    if proc.returncode != 0 or unresolved or not out.is_file():
        why = (
            f"import {unresolved.group(1)!r} does not resolve from its node_modules"
            if unresolved
            else (said.strip().splitlines() or [f"exit code {proc.returncode}"])[0][:300]
        )
        raise HarnessError(f"{app.module}: {name} cannot bundle it: {why}")
    left = [s for s in imports(out.read_text(encoding="utf-8")) if is_bare(s)]
    if left:
        raise HarnessError(f"{app.module}: still imports {left[0]!r} after bundling with {name}")
    return Prepared(scratch, out.name, f"{name} {_version(exe)}", file_sha256(out))


def _version(exe: Path) -> str:
    try:
        proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return proc.stdout.strip().split()[-1] if proc.stdout.strip() else "?"

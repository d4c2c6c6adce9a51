"""What the built app does so its first prediction waits for as little as possible.

On a phone network every serial round trip costs about half a second, so the files the first
prediction needs (model.json, its weight shards, info.json, tokenizer.txt) are announced in
index.html with `<link rel="preload">`: the browser fetches them in parallel with the script
instead of after it has run. The kernel list the build derived from model.json (vite.config.js,
first_kernels.js) moves into build.json, so it is recorded and not shipped.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError

KERNEL_LIST = "first-kernels.json"
HEAD_END = "</head>"


def take_kernel_list(dist: Path) -> dict[str, Any] | None:
    """The {ops, kernels} the vite build wrote, taken out of `dist` (None: a full cpu build)."""
    path = dist / KERNEL_LIST
    if not path.is_file():
        return None
    found = json.loads(path.read_text(encoding="utf-8"))
    path.unlink()
    return {"ops": list(found["ops"]), "kernels": list(found["kernels"])}


def preload_names(model_dir: Path, extra: tuple[str, ...]) -> list[str]:
    """model.json, its weight shards and `extra` (files of `model_dir`), the largest first.

    The largest first because on HTTP/1.1 a browser opens six connections to an origin: what the
    page's code takes plus these may exceed six, and the request that waits for a free
    connection (a round trip more) had better be the smallest (info.json), which is still in
    before the script needs it."""
    try:
        manifest = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))["weightsManifest"]
    except (OSError, ValueError, KeyError) as e:
        raise HarnessError(f"{model_dir / 'model.json'}: expected a TF.js model with a weightsManifest ({e})") from None
    shards = [str(p) for group in manifest for p in group["paths"]]
    names = ["model.json", *shards, *extra]
    size = {n: (model_dir / n).stat().st_size if (model_dir / n).is_file() else 0 for n in names}
    return sorted(names, key=lambda n: -size[n])  # stable: equal sizes keep manifest order


def add_preloads(index: Path, model_dir: Path, extra: tuple[str, ...]) -> list[str]:
    """Writes a preload link for each model file the first prediction fetches into `index`'s
    head (the code is named by the page itself: the entry chunk holds the first backend, see
    apps/web/src/engine.js); returns the names.

    `crossorigin="anonymous"` makes the preload's request the same as the page's fetch() (cors
    mode, same-origin credentials), so the browser reuses it instead of downloading twice.
    """
    page = index.read_text(encoding="utf-8")
    if HEAD_END not in page:
        raise HarnessError(f"{index}: no {HEAD_END} to put the preload links before")
    base = model_dir.name
    names = preload_names(model_dir, extra)
    links = "".join(
        f'    <link rel="preload" href="{html.escape(f"{base}/{name}")}" as="fetch" crossorigin="anonymous" />\n'
        for name in names
    )
    line = page.rfind("\n", 0, page.index(HEAD_END)) + 1  # before the line that closes the head
    index.write_text(page[:line] + links + page[line:], encoding="utf-8")
    return names


_STATIC_REF = re.compile(r'(?:src|href)="\./([^"]+)"')
_STATIC_IMPORT = re.compile(r'(?:\bfrom\s*|\bimport\s*)"\./([^"]+\.js)"')


def first_visit_code(dist: Path) -> list[str]:
    """The code files a first prediction needs: what index.html names (entry script, module
    preloads, CSS) and every chunk they import statically."""
    page = (dist / "index.html").read_text(encoding="utf-8")
    todo = [name for name in _STATIC_REF.findall(page) if (dist / name).is_file() and not name.startswith("model/")]
    seen: list[str] = ["index.html"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.append(name)
        if name.endswith(".js"):
            folder = Path(name).parent
            for ref in _STATIC_IMPORT.findall((dist / name).read_text(encoding="utf-8")):
                todo.append((folder / ref).as_posix())
    return sorted(seen)


def app_code_gzip_bytes(bundle: str | Path | None = None) -> int:
    """Gzip bytes of the app's first-visit code, from a build of the app (built when stale)."""
    from harness.app.build import build

    record = build(bundle)
    names = record.get("first_visit_code")
    if not names:
        raise HarnessError(
            "apps/web/dist/build.json lists no first-visit code: rebuild with `harness app build --force`"
        )
    return sum(int(record["files"][n]["gzip_bytes"]) for n in names)

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
    """model.json, its weight shards in manifest order, then `extra` (files of `model_dir`)."""
    try:
        manifest = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))["weightsManifest"]
    except (OSError, ValueError, KeyError) as e:
        raise HarnessError(f"{model_dir / 'model.json'}: expected a TF.js model with a weightsManifest ({e})") from None
    shards = [str(p) for group in manifest for p in group["paths"]]
    return ["model.json", *shards, *extra]


def add_preloads(index: Path, model_dir: Path, extra: tuple[str, ...]) -> list[str]:
    """Writes a preload link for each file the first prediction fetches into `index`'s head:
    the model's files, and the first backend's code (imported only once the entry script has
    run, which would cost one more round trip); returns the names.

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
    named = set(_STATIC_REF.findall(page))
    lazy_code = [n for n in first_visit_code(index.parent) if n.endswith(".js") and n not in named]
    links += "".join(f'    <link rel="modulepreload" crossorigin href="./{html.escape(n)}" />\n' for n in lazy_code)
    line = page.rfind("\n", 0, page.index(HEAD_END)) + 1  # before the line that closes the head
    index.write_text(page[:line] + links + page[line:], encoding="utf-8")
    return names + lazy_code


_STATIC_REF = re.compile(r'(?:src|href)="\./([^"]+)"')
_STATIC_IMPORT = re.compile(r'(?:\bfrom\s*|\bimport\s*)"\./([^"]+\.js)"')
FIRST_BACKEND_CHUNK = "_virtual_cpu-kernels-"  # vite's name for the chunk of virtual:cpu-kernels


def first_visit_code(dist: Path) -> list[str]:
    """The code files a first prediction needs: what index.html names (entry script, module
    preloads, CSS), the first backend's chunk, and every chunk they import statically."""
    page = (dist / "index.html").read_text(encoding="utf-8")
    todo = [name for name in _STATIC_REF.findall(page) if (dist / name).is_file() and not name.startswith("model/")]
    todo += [p.relative_to(dist).as_posix() for p in sorted((dist / "assets").glob(f"{FIRST_BACKEND_CHUNK}*.js"))]
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

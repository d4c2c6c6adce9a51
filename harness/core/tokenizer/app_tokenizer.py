"""The app's own tokenizer, named by path: an ES module, one exported function, its JSON assets.

`--app-tokenizer src/preprocess.js:encode --app-asset public/word_index.json` names the code
a team ships in its app; the harness runs that very file (not a copy of it) as the `js`
tokenizer runtime: `encode(text, wordIndex)` must return the model's ids as an array of
integers. A bundle names it in app_tokenizer.json, so `predict` and `report` feed the web
runtimes what the app would. The files stay where the app keeps them (the point is to test
the app's current code); the bundle records their paths, relative to the repository when
they are inside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core import json_reader
from harness.core.errors import HarnessError
from harness.core.paths import REPO

APP_TOKENIZER = "app_tokenizer.json"
APP_FORMAT = "harness-app-tokenizer/1"
MODULE_SUFFIXES = (".js", ".mjs")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class AppTokenizer:
    module: Path
    function: str
    assets: tuple[Path, ...] = ()

    @classmethod
    def parse(cls, target: str, assets: Sequence[str] = ()) -> AppTokenizer:
        """`PATH.js:FUNCTION` and asset paths, checked: the files exist, the name is a JS identifier."""
        path, sep, function = target.rpartition(":")
        if not sep or not path or not function:
            raise HarnessError(f"--app-tokenizer {target!r}: expected PATH.js:FUNCTION (an ES module and its export)")
        made = cls(Path(path).resolve(), function, tuple(Path(a).resolve() for a in assets))
        made.check()
        return made

    def check(self) -> None:
        if self.module.suffix not in MODULE_SUFFIXES:
            raise HarnessError(f"{self.module}: an app tokenizer must be an ES module (.js or .mjs)")
        if not self.module.is_file():
            raise HarnessError(f"{self.module}: app tokenizer module not found")
        if not _IDENTIFIER.match(self.function):
            raise HarnessError(f"--app-tokenizer: {self.function!r} is not a JavaScript function name")
        for asset in self.assets:
            if not asset.is_file():
                raise HarnessError(f"{asset}: app asset not found")
            json_reader.read_file(asset, "app asset", hint="an app asset must be a JSON file")

    def as_json(self) -> dict[str, Any]:
        return {
            "format": APP_FORMAT,
            "module": _stored(self.module),
            "function": self.function,
            "assets": [_stored(a) for a in self.assets],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: Path) -> AppTokenizer:
        try:
            if data.get("format") != APP_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {APP_FORMAT!r}")
            made = cls(_resolved(data["module"]), str(data["function"]), tuple(_resolved(a) for a in data["assets"]))
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise HarnessError(f"{where}: not an app tokenizer reference ({e})") from None
        made.check()
        return made

    def describe(self) -> str:
        return f"{_stored(self.module)}:{self.function}"


def _stored(path: Path) -> str:
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def _resolved(text: str) -> Path:
    path = Path(text)
    return path if path.is_absolute() else REPO / path

"""Case files: JSON Lines of `{"id": "...", "text": "..."}`, read strictly, line by line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import HarnessError, where


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    origin: str = "input"


def read_cases(path: str | Path) -> list[Case]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise HarnessError(f"{path}: cannot read case file ({e.strerror})") from None
    cases: list[Case] = []
    seen: set[str] = set()
    for lineno, chunk in enumerate(raw.splitlines(), start=1):
        try:
            line = chunk.decode("utf-8")
        except UnicodeDecodeError:
            raise HarnessError(f"{where(path, lineno)}: not valid UTF-8") from None
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise HarnessError(
                f'{where(path, lineno)}: not valid JSON ({e.msg}); expected {{"id": ..., "text": ...}}'
            ) from None
        if not isinstance(obj, dict) or "id" not in obj or "text" not in obj:
            raise HarnessError(f"{where(path, lineno)}: expected an object with 'id' and 'text'")
        if not isinstance(obj["text"], str) or not isinstance(obj["id"], (str, int)):
            raise HarnessError(f"{where(path, lineno)}: 'id' must be a string or number and 'text' a string")
        cid = str(obj["id"])
        if cid in seen:
            raise HarnessError(f"{where(path, lineno)}: duplicate id {cid!r}")
        seen.add(cid)
        cases.append(Case(cid, obj["text"], str(obj.get("origin", "input"))))
    return cases


def from_texts(texts: Iterable[str]) -> list[Case]:
    return [Case(f"arg-{i}", t, "argument") for i, t in enumerate(texts, start=1)]


def gather(input_path: str | None, texts: list[str]) -> list[Case]:
    if input_path and texts:
        raise HarnessError("give either --input FILE or texts, not both")
    if input_path:
        return read_cases(input_path)
    if not texts:
        raise HarnessError("nothing to do: give --input FILE.jsonl or one or more texts")
    return from_texts(texts)

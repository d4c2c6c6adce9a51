"""Case files: JSON Lines of `{"id": "...", "text": "..."}`, read strictly, line by line.

A case file may be larger than memory should hold (100,000 reviews and more), so it is read
twice, lazily: `CaseFile.check` parses every line once before anything runs (a mistake on
line 90,000 is found before the first runtime starts, and an empty file is an error), then
`CaseFile.batches` reads it again and yields the cases in batches, so `predict` and
`tokenize` print each batch as it finishes and hold one batch at a time. Standard input
(`--input -`) is spooled to a temporary file first, so it gets the same two passes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from harness.core import json_reader
from harness.core.errors import HarnessError, where

STDIN = "-"
EXPECTED = 'expected JSON Lines of {"id": ..., "text": ...}'


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    origin: str = "input"


def _parse(path: object, lineno: int, chunk: bytes) -> Case | None:
    """One line as a Case (None for a blank line), or the line's one-line error."""
    try:
        line = chunk.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HarnessError(f"{where(path, lineno)}: not valid UTF-8 (byte {e.start + 1} of the line)") from None
    if not line.strip():
        return None
    try:
        obj = json_reader.parse(line, lines=False)
    except json_reader.JsonProblem as e:
        raise HarnessError(f'{where(path, lineno)}: {e.what}; expected {{"id": ..., "text": ...}}') from None
    if not isinstance(obj, dict) or "id" not in obj or "text" not in obj:
        raise HarnessError(f"{where(path, lineno)}: expected an object with 'id' and 'text'")
    if not isinstance(obj["text"], str) or not isinstance(obj["id"], (str, int)) or isinstance(obj["id"], bool):
        raise HarnessError(f"{where(path, lineno)}: 'id' must be a string or number and 'text' a string")
    return Case(str(obj["id"]), obj["text"], str(obj.get("origin", "input")))


def _lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for lineno, raw in enumerate(stream, start=1):
        yield lineno, raw.rstrip(b"\r\n")


class CaseFile:
    """A case file on disk (or standard input, spooled), read lazily."""

    def __init__(self, path: str | Path) -> None:
        self.name = "<stdin>" if str(path) == STDIN else str(path)
        self._spool: IO[bytes] | None = None
        if str(path) == STDIN:
            self._spool = tempfile.NamedTemporaryFile(prefix="harness-stdin-", suffix=".jsonl")  # noqa: SIM115 - lives as long as this CaseFile
            shutil.copyfileobj(sys.stdin.buffer, self._spool)
            self._spool.flush()
            self.path = Path(self._spool.name)
        else:
            self.path = Path(path)
        self.count = 0

    def _open(self) -> BinaryIO:
        try:
            return open(self.path, "rb")
        except OSError as e:
            raise HarnessError(f"{self.name}: cannot read case file ({e.strerror})") from None

    def __iter__(self) -> Iterator[Case]:
        with self._open() as f:
            for lineno, chunk in _lines(f):
                case = _parse(self.name, lineno, chunk)
                if case is not None:
                    yield case

    def check(self) -> CaseFile:
        """Every line parsed once (ids unique, at least one case), nothing kept but the ids."""
        seen: set[str] = set()
        with self._open() as f:
            for lineno, chunk in _lines(f):
                case = _parse(self.name, lineno, chunk)
                if case is None:
                    continue
                if case.id in seen:
                    raise HarnessError(f"{where(self.name, lineno)}: duplicate id {case.id!r}")
                seen.add(case.id)
        if not seen:
            raise HarnessError(f"{self.name}: no cases (the file is empty or blank); {EXPECTED}")
        self.count = len(seen)
        return self

    def batches(self, size: int) -> Iterator[list[Case]]:
        yield from batched(self, size)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def batched(cases: Iterable[Case], size: int) -> Iterator[list[Case]]:
    batch: list[Case] = []
    for case in cases:
        batch.append(case)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def read_cases(path: str | Path) -> list[Case]:
    """A whole (small) case file as a list, checked first."""
    source = CaseFile(path).check()
    try:
        return list(source)
    finally:
        source.close()


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


def source(input_path: str | None, texts: list[str]) -> Iterable[Case] | CaseFile:
    """What `predict`/`tokenize` read: a checked CaseFile (streamed) or the texts given."""
    if input_path and texts:
        raise HarnessError("give either --input FILE or texts, not both")
    if input_path:
        return CaseFile(input_path).check()
    if not texts:
        raise HarnessError("nothing to do: give --input FILE.jsonl or one or more texts")
    return from_texts(texts)

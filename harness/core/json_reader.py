"""The one JSON reader: every JSON the harness reads (manifests, case lines, reports, merged
and signed reports, summaries) goes through `loads` or `read_file`, so every way a text can
fail to be the JSON we mean is one line naming the file and line, never a traceback.

Python's `json` alone lets several inputs through as exceptions other than JSONDecodeError,
or as values that break later code:
- a number with more than 4,300 digits (ValueError from the int-string limit), and a float
  beyond the double range (`1e400` reads as inf), or `NaN`/`Infinity`, which are not JSON
  (jq and JSON.parse refuse them; Python writes them);
- nesting deeper than the interpreter's stack (RecursionError), and nesting merely deep
  enough to overflow a validator afterwards: the harness's files are shallow, so anything
  deeper than MAX_DEPTH is refused where it is read;
- bytes that are not UTF-8, and a UTF-8 byte-order mark.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError

MAX_DEPTH = 64  # a report nests about 8 deep; 64 leaves room and stays far from the stack
MAX_DIGITS = 400  # no count or score the harness reads has more digits than this


class JsonProblem(ValueError):
    """What is wrong with a JSON text and where (1-based line), without the file's name."""

    def __init__(self, what: str, line: int | None = None) -> None:
        super().__init__(what)
        self.what, self.line = what, line


class _Literal(ValueError):
    def __init__(self, literal: str, why: str) -> None:
        super().__init__(why)
        self.literal, self.why = literal, why


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Literal(text, f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_DIGITS:
        raise _Literal(text, f"a number written with {len(text)} characters (at most {MAX_DIGITS})")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Literal(text, f"the number {text[:20]} is beyond a double's range")
    return value


def _constant(name: str) -> Any:
    raise _Literal(name, f"{name} is not JSON (a number must be finite)")


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def _line_of_literal(text: str, literal: str) -> int | None:
    """Where a number or constant stands outside a string: json does not tell a parse hook
    its position, so the first occurrence not inside quotes is taken."""
    pattern = re.compile(r'"(?:[^"\\]|\\.)*"|' + re.escape(literal) + r"(?![0-9.eE+-])", re.S)
    for m in pattern.finditer(text):
        if not m.group().startswith('"'):
            return _line_of(text, m.start())
    return None


def _too_deep_at(text: str, limit: int) -> int:
    """The line where nesting first passes `limit` (strings skipped)."""
    depth, in_string, escaped = 0, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return _line_of(text, i)
        elif ch in "]}":
            depth -= 1
    return 1


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items: Any = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in items if isinstance(child, (dict, list)))
    return False


def json_error(e: json.JSONDecodeError, lines: bool = True) -> str:
    """json's own message made whole ("Invalid control character at" ends where json gives the
    position separately), with the position; a raw control character is named, with its escape."""
    pos = f"line {e.lineno} column {e.colno}" if lines else f"column {e.colno}"
    msg = e.msg[:1].lower() + e.msg[1:]
    if e.msg == "Invalid control character at" and e.pos < len(e.doc):
        cp = ord(e.doc[e.pos])
        return f"a raw control character U+{cp:04X} inside a string at {pos}; write it as \\u{cp:04x}"
    return f"{msg} {pos}" if msg.endswith(" at") else f"{msg} at {pos}"


def decode(raw: bytes) -> str:
    """UTF-8 text, or JsonProblem naming the line and the byte."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise JsonProblem(f"not UTF-8 (byte {e.start} is 0x{raw[e.start]:02x})", line) from None
    if text.startswith("\ufeff"):
        raise JsonProblem("starts with a byte-order mark; JSON is UTF-8 without one", 1)
    return text


def parse(text: str, max_depth: int = MAX_DEPTH, lines: bool = True) -> Any:
    """The JSON value of `text`, or JsonProblem (what, line within `text`). A syntax error
    names its own position (line and column, or only the column for one line of JSON Lines)."""
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise JsonProblem(f"not valid JSON ({json_error(e, lines=lines)})") from None
    except _Literal as e:
        raise JsonProblem(e.why, _line_of_literal(text, e.literal)) from None
    except RecursionError:
        raise JsonProblem(f"nested deeper than {max_depth} levels", _too_deep_at(text, max_depth)) from None
    except ValueError as e:  # anything json raises besides (the int-string limit, if it changes)
        raise JsonProblem(f"not valid JSON ({' '.join(str(e).split())[:120]})") from None
    if _depth_exceeds(value, max_depth):
        raise JsonProblem(f"nested deeper than {max_depth} levels", _too_deep_at(text, max_depth))
    return value


def loads(text: str | bytes, source: object, line: int | None = None, *, hint: str = "") -> Any:
    """`text` (all of a file, or line `line` of a JSON Lines file) as JSON, or HarnessError
    `source:line: what` (the line within the file when known)."""
    tail = f"; {hint}" if hint else ""
    try:
        return parse(decode(text) if isinstance(text, bytes) else text, lines=line is None)
    except JsonProblem as e:
        at = line if line is not None else e.line
        place = f"{source}:{at}" if at is not None else f"{source}"
        raise HarnessError(f"{place}: {e.what}{tail}") from None


def read_file(path: Path, what: str = "JSON file", hint: str = "") -> Any:
    """A JSON file's value; missing, unreadable, not UTF-8 or not our JSON is one line."""
    tail = f"; {hint}" if hint else ""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise HarnessError(f"{path}: no {what}{tail}") from None
    except OSError as e:
        raise HarnessError(f"{path}: cannot read the {what} ({e.strerror or e.__class__.__name__}){tail}") from None
    return loads(raw, path, hint=hint)

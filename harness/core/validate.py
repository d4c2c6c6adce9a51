"""Reading the harness's own file formats strictly: one line naming the file, the field and
what was expected, never a traceback.

Every format the harness reads back (bundle manifest, model signature, tokenizer spec,
training metrics, artifact manifest; the report has its own schema module) is a pydantic
model, the same machinery as the typed report, so a wrong type, a missing key or an unknown
one is found where the file is read, with its JSON path:

    golden/x/manifest.json: $.files: expected an object, got an array

`read_json` turns every way a file can fail before it is even JSON (missing, unreadable,
not UTF-8, not JSON) into such a line too; `parse` does the rest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from harness.core import json_reader
from harness.core.errors import HarnessError

M = TypeVar("M", bound=BaseModel)

_ARTICLE = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}
# pydantic error type -> what was expected, in the words of JSON
_EXPECTED = {
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "an array",
    "tuple_type": "an array",
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "none_required": "null",
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for t, name in ((dict, "object"), (list, "array"), (str, "string"), (int, "integer"), (float, "number")):
        if isinstance(value, t):
            return name
    return type(value).__name__


def with_article(kind: str) -> str:
    """ "an array" for "array": a JSON type's name as a message says it."""
    return _ARTICLE.get(kind, kind)


def json_type_with_article(value: Any) -> str:
    """ "an array", "null": the JSON type of a value with its article."""
    return with_article(json_type(value))


def peek(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def read_json(path: Path, what: str, hint: str = "") -> Any:
    """A JSON file's data; any failure is a HarnessError naming the file (and `hint`: how to fix)."""
    tail = f"; {hint}" if hint else ""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise HarnessError(f"{path}: no {what}{tail}") from None
    except OSError as e:
        raise HarnessError(f"{path}: cannot read the {what} ({e.strerror or e.__class__.__name__}){tail}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HarnessError(
            f"{path}: not UTF-8 (byte {e.start} is 0x{raw[e.start]:02x}); a {what} is UTF-8 JSON{tail}"
        ) from None
    try:
        return json_reader.parse(text)
    except json_reader.JsonProblem as e:
        place = f"{path}:{e.line}" if e.line is not None else f"{path}"
        raise HarnessError(f"{place}: {e.what}{tail}") from None


def json_path(loc: tuple[int | str, ...]) -> str:
    def step(p: int | str) -> str:
        if isinstance(p, int):
            return f"[{p}]"
        return f".{p}" if p.isidentifier() else f"[{json.dumps(p)}]"

    return "$" + "".join(step(p) for p in loc)


def describe_error(error: Any) -> str:
    """One pydantic error as "$.files.x.sha256: missing required field 'sha256'"."""
    loc = tuple(error.get("loc", ()))
    kind, got = error.get("type", ""), error.get("input")
    if kind == "missing":
        parent, name = loc[:-1], loc[-1] if loc else "?"
        return f"{json_path(parent)}: missing required field {str(name)!r}"
    if kind == "extra_forbidden":
        parent, name = loc[:-1], loc[-1] if loc else "?"
        return f"{json_path(parent)}: unexpected field {str(name)!r}"
    where = json_path(loc)
    if kind in _EXPECTED:
        return f"{where}: expected {_EXPECTED[kind]}, got {json_type_with_article(got)}"
    if kind == "literal_error":
        want = error.get("ctx", {}).get("expected", "?")
        return f"{where}: expected {want}, got {peek(got)}"
    if kind == "string_pattern_mismatch":
        return f"{where}: expected a string matching {error.get('ctx', {}).get('pattern')}, got {peek(got)}"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {one_line(message)}" + (f" (got {peek(got)})" if kind.endswith(("_than", "_equal")) else "")


def parse(model: type[M], data: Any, source: object, *, hint: str = "") -> M:
    """`data` as `model`, or HarnessError: the source, the first bad field and what was expected."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        tail = f"; {hint}" if hint else ""
        raise HarnessError(f"{source}: {describe_error(e.errors()[0])}{tail}") from None


def load(model: type[M], path: Path, what: str, *, hint: str = "") -> M:
    """A JSON file read and parsed as `model`, every failure one line naming `path`."""
    return parse(model, read_json(path, what, hint), path, hint=hint)

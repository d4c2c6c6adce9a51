"""The committed JSON Schema of harness-report/2, and validation against it.

The schema is generated from the pydantic models (harness/results/) and committed here
(harness-report-2.schema.json), so a report can be checked by any tool that speaks JSON
Schema, and a change to the models shows up as a diff of the contract. A test keeps the file
equal to what the models generate; regenerate it with

    python -m harness.report.schema --write

`validate` runs jsonschema (Draft 2020-12) against the committed file first, so the error a
user sees is the schema's own, one line: where in the JSON and what was expected. The
pydantic model then checks what a schema cannot say (a stored verdict that does not follow
from the gates, a gate id that does not match its kind and subject).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match
from pydantic import ValidationError

from harness.core import json_reader
from harness.core.errors import HarnessError
from harness.core.validate import json_type_with_article, with_article
from harness.results import SCHEMA, Report

SCHEMA_FILE = Path(__file__).with_name("harness-report-2.schema.json")
DIALECT = "https://json-schema.org/draft/2020-12/schema"
OLDER = {"harness-report/1"}


def generate() -> dict[str, Any]:
    """The schema as the models define it today; "schema" and "verdict" are required in a file
    (the model fills them in when a report is built in code)."""
    body = {k: v for k, v in Report.model_json_schema().items() if k != "title"}
    body["required"] = ["schema", "verdict", *body.get("required", [])]
    return {"$schema": DIALECT, "title": SCHEMA, **body}


def render() -> str:
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate(data: Any, source: str = "report") -> Report:
    """A parsed report.json as a Report, or HarnessError naming the first problem in one line."""
    if not isinstance(data, dict):
        got = json_type_with_article(data)
        raise HarnessError(f'{source}: not a report: expected an object with "schema": "{SCHEMA}", got {got}')
    schema = data.get("schema")
    if schema in OLDER:
        raise HarnessError(
            f"{source}: schema {schema}: an older harness wrote it; re-run harness report (this harness reads {SCHEMA})"
        )
    if schema != SCHEMA:
        found = "no schema field" if "schema" not in data else f"schema {json.dumps(schema)[:60]}"
        raise HarnessError(f"{source}: not a {SCHEMA} report ({found})")
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise HarnessError(f"{source}: {error.json_path}: {_expected(error)}")
    try:
        return Report.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise HarnessError(f"{source}: {where}: {_one_line(first['msg'].removeprefix('Value error, '))}") from None


def read(path: Path) -> Report:
    """report.json from a file, validated; every failure is one line naming the file."""
    if not path.exists():
        raise HarnessError(f"{path}: no such report")
    return validate(json_reader.read_file(path, "report"), str(path))


def to_json(report: Report) -> dict[str, Any]:
    """The report as strict JSON data (a non-finite number becomes null), checked against the
    committed schema, so a writer never writes what a reader would refuse. Review texts are
    kept as they are, lone surrogates included (`dumps` escapes them)."""
    data = _finite_only(report.model_dump(mode="json"))
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise HarnessError(f"report to write: {error.json_path}: {_expected(error)}")
    return data


def dumps(report: Report) -> str:
    """report.json's text: validated, UTF-8 safe (a lone surrogate from a review is written as
    its \\u escape, which `json.dumps(ensure_ascii=False)` alone would leave unencodable)."""
    text = json.dumps(to_json(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _finite_only(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite_only(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite_only(x) for x in v]
    return v


# ---- one-line messages -------------------------------------------------------------------


def _peek(v: Any, limit: int = 60) -> str:
    text = json.dumps(v, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _expected(error: SchemaError) -> str:
    """What the schema wanted at that place, in words, from the failed keyword."""
    kind, want, got = error.validator, error.validator_value, error.instance
    got_kind = json_type_with_article(got)
    if kind in ("anyOf", "oneOf") and isinstance(want, list):
        return f"expected {' or '.join(dict.fromkeys(_describe(sub) for sub in want))}, got {got_kind}"
    if kind == "type":
        wanted = want if isinstance(want, list) else [want]
        return f"expected {' or '.join(with_article(str(w)) for w in wanted)}, got {got_kind}"
    if kind == "required":
        missing = next((k for k in want if isinstance(got, dict) and k not in got), "?")
        return f"missing required field {missing!r}"
    if kind == "additionalProperties" and isinstance(got, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = next((k for k in got if k not in known), "?")
        return f"unexpected field {extra!r} (not part of {SCHEMA})"
    if kind == "enum":
        return f"expected one of {', '.join(json.dumps(w) for w in want)}, got {_peek(got)}"
    if kind == "const":
        return f"expected {json.dumps(want)}, got {_peek(got)}"
    if kind == "pattern":
        return f"expected a string matching {want}, got {_peek(got)}"
    if kind == "minLength":
        return f"expected a string of at least {want} character(s), got {_peek(got)}"
    return _one_line(error.message)


def _describe(subschema: Any) -> str:
    """One alternative of an anyOf, in words: "a number", "null", "a Gate object"."""
    if not isinstance(subschema, dict):
        return "?"
    if "$ref" in subschema:
        return f"a {str(subschema['$ref']).rsplit('/', 1)[-1]} object"
    if "const" in subschema:
        return json.dumps(subschema["const"])
    kind = subschema.get("type")
    return with_article(kind) if isinstance(kind, str) else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.report.schema", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {SCHEMA_FILE.name} from the models")
    args = parser.parse_args(argv)
    if args.write:
        SCHEMA_FILE.write_text(render(), encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}")
        return 0
    current = SCHEMA_FILE.is_file() and SCHEMA_FILE.read_text(encoding="utf-8") == render()
    print(f"{SCHEMA_FILE.name} is {'current' if current else 'STALE: run python -m harness.report.schema --write'}")
    return 0 if current else 1


if __name__ == "__main__":
    raise SystemExit(main())

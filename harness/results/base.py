"""The shared ground of every result record: a base that refuses unknown fields, and the
constrained strings several records use.

Each record is a pydantic model with `extra="forbid"`, so a misspelt or stale field is an error
naming it rather than a value silently dropped; a field that may be added later (signature,
evidence, per-layer diffs) is declared as optional instead of opening the model to anything.
Measured numbers that can be non-finite (NaN, infinity) are `float | None`: the JSON writer
turns them into null, so report.json stays strict JSON that any tool parses.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Platform = Literal["desktop", "web", "ios", "android"]
Browser = Literal["chromium", "firefox", "webkit"]
Step = Literal["export", "load", "tokenize", "run"]
OneLine = Annotated[str, StringConstraints(min_length=1, pattern=r"^[^\r\n]+$")]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9._-]*$")]
Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,128}$")]


class Record(BaseModel):
    """Base of every report record: unknown fields are refused, not ignored."""

    # revalidate: a record built early and filled in later (a row, a gate) is checked again
    # when the report that holds it is validated
    model_config = ConfigDict(extra="forbid", revalidate_instances="always")

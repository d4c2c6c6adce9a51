"""User-facing errors: one line that names the file, the line and what was expected."""

import difflib
from collections.abc import Iterable


class HarnessError(Exception):
    """A problem with the user's input or environment; the CLI prints it without a traceback."""


class IntegrityError(HarnessError):
    """A file does not match the manifest that lists it (edited, truncated, missing): evidence
    that cannot be trusted, so the whole command stops, never only one runtime."""


def where(path: object, line: int | None = None) -> str:
    """`path:line` as editors and terminals understand it."""
    return f"{path}:{line}" if line is not None else str(path)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for a likely typo of one of `known`, else nothing."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""

"""User-facing errors: one line that names the file, the line and what was expected."""


class HarnessError(Exception):
    """A problem with the user's input or environment; the CLI prints it without a traceback."""


class IntegrityError(HarnessError):
    """A file does not match the manifest that lists it (edited, truncated, missing): evidence
    that cannot be trusted, so the whole command stops, never only one runtime."""


def where(path: object, line: int | None = None) -> str:
    """`path:line` as editors and terminals understand it."""
    return f"{path}:{line}" if line is not None else str(path)

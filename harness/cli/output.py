"""What every command prints the same way: JSON Lines on stdout, runtime failures on stderr."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from harness.core import strict_json
from runtimes.failures import StepFailure


def print_jsonl(obj: dict[str, Any]) -> None:
    sys.stdout.write(strict_json.dumps(obj, ensure_ascii=False) + "\n")


def say_failures(command: str, failures: dict[str, StepFailure]) -> None:
    """One line per runtime that could not run, naming the runtime, the step and the engine's words."""
    for failure in failures.values():
        print(f"harness {command}: {failure}", file=sys.stderr)


def say_unavailable(command: str, unavailable: Mapping[str, object]) -> None:
    for rid, why in unavailable.items():
        print(f"harness {command}: {rid} cannot run here: {why}", file=sys.stderr)


def reported(command: str, failures: dict[str, StepFailure], said: set[str]) -> dict[str, str]:
    """Each new failure said once on stderr; every failure so far as the rows' `errors` object."""
    say_failures(command, {k: f for k, f in failures.items() if k not in said})
    said.update(failures)
    return {k: f.line() for k, f in failures.items()}

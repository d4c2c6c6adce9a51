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

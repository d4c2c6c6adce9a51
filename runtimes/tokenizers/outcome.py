"""What one text gave in one tokenizer runtime: ids, or what went wrong on that text only.

Someone else's tokenizer can fail on one input and work on the next (a padding helper that
throws past maxlen, a function that returns undefined for an empty string). Those are facts
about that case, kept per case so the other cases still print and compare; the runtime as a
whole fails only when it cannot run at all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thrown:
    """The tokenizer raised (Python) or threw (JavaScript) on this text."""

    message: str  # "RangeError: Invalid array length"

    @property
    def name(self) -> str:
        """The error's class ("RangeError"): exceptions of different classes are different bugs."""
        head, sep, _ = self.message.partition(":")
        return head.strip() if sep and head.strip() and " " not in head.strip() else "Error"


@dataclass(frozen=True)
class Malformed:
    """The tokenizer returned something that is not an array of integers."""

    message: str  # "returned undefined, not an array of integers"


Outcome = list[int] | Thrown | Malformed


def problem(outcome: Outcome, length: int, vocab_size: int) -> str | None:
    """Why these ids must not reach a model runtime, or None when they may."""
    if isinstance(outcome, (Thrown, Malformed)):
        return outcome.message
    if len(outcome) != length:
        return f"{len(outcome)} ids, the model takes {length}"
    bad = next((i for i in outcome if not 0 <= i < vocab_size), None)
    if bad is not None:
        return f"id {bad} outside [0, {vocab_size})"
    return None

"""A runtime that cannot export, load or run a model is that runtime's result, not the run's end.

Every step a runtime takes (export its artifact, load it, tokenize for it, run it) goes through
`step`, which turns whatever the engine raised into one `StepFailure`: the runtime, the step
and the engine's own words in one line. Callers keep the other runtimes going and show the
failure beside their results.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from harness.core import limitations
from harness.core.errors import HarnessError, IntegrityError
from harness.core.limitations import Limitation
from harness.results import KnownLimitation, RuntimeFailure

STEPS = ("export", "load", "tokenize", "run")
MAX_MESSAGE = 300


@dataclass(frozen=True)
class StepFailure:
    """One runtime's failed step as it happens: which runtime, and the live limitation it is.
    What a report keeps of it is `record()`, a `harness.results.RuntimeFailure`."""

    runtime: str
    step: str  # one of STEPS
    message: str  # the engine's words, one line
    limitation: Limitation | None = None  # the declared engine limitation this failure is

    def line(self) -> str:
        """`step: message` (or `step: known limitation ID: ...`), what a report cell or an
        `errors` object shows for the runtime."""
        return f"{self.step}: {self.limitation.summary() if self.limitation else self.message}"

    def __str__(self) -> str:
        return f"{self.runtime}: {self.line()}"

    def record(self) -> RuntimeFailure:
        """The report's `error` of the runtime: the step, the engine's words, the limitation it is."""
        known = KnownLimitation.model_validate(self.limitation.record()) if self.limitation else None
        return RuntimeFailure.model_validate({"step": self.step, "message": self.message, "limitation": known})


class RuntimeFailed(HarnessError):
    """Raised by a step of one runtime; carries the failure so callers can record it."""

    def __init__(self, failure: StepFailure) -> None:
        super().__init__(str(failure))
        self.failure = failure


def engine_words(exc: BaseException) -> str:
    """The first meaningful line of what the engine said, without Python's framing."""
    for line in str(exc).splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"
    return exc.__class__.__name__


@contextmanager
def step(runtime_id: str, name: str, context: str = "") -> Iterator[None]:
    """Run one step of one runtime; any error of the engine becomes a RuntimeFailed.

    KeyboardInterrupt and SystemExit pass through: an interrupted run is not a runtime's fault;
    so does an IntegrityError (an edited bundle or artifact stops the whole command).
    """
    try:
        yield
    except (RuntimeFailed, IntegrityError):
        raise
    except Exception as e:  # the engine's error, whatever its type (TF, coremltools, the browser)
        words = engine_words(e)
        if context and context not in words:
            words = f"{words} ({context})"
        known = limitations.matching(runtime_id, name, f"{e} ({context})")  # all of it, not the first line
        raise RuntimeFailed(StepFailure(runtime_id, name, words, known)) from None

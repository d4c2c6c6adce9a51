"""`harness tokenize`: the same texts through several tokenizer runtimes, failures isolated.

The command feeds `tokenize_cases` one batch of BATCH cases at a time (harness/cli/tokenize.py),
so a large input is held one batch at a time and printed as each batch is done.
"""

from __future__ import annotations

from harness.core.bundle import Bundle
from harness.core.tokenizer.app_tokenizer import AppTokenizer
from runtimes import tokenizers
from runtimes.failures import RuntimeFailed, StepFailure, step
from runtimes.tokenizers.outcome import Outcome

BATCH = 2048  # cases per batch


def tokenize_all(
    bundle: Bundle, tokenizer_ids: list[str], texts: list[str]
) -> tuple[dict[str, list[list[int]]], dict[str, StepFailure]]:
    """Ids per tokenizer runtime, and the ones that failed with their reason."""
    results: dict[str, list[list[int]]] = {}
    failures: dict[str, StepFailure] = {}
    for tid in tokenizer_ids:
        try:
            with step(tid, "tokenize"):
                results[tid] = tokenizers.tokenize(tid, bundle, texts) if texts else []
        except RuntimeFailed as e:
            failures[tid] = e.failure
    return results, failures


def tokenize_cases(
    bundle: Bundle, tokenizer_ids: list[str], texts: list[str], *, app: AppTokenizer | None = None
) -> tuple[dict[str, list[Outcome]], dict[str, StepFailure]]:
    """Per tokenizer runtime, what each text gave (ids, or what it threw or returned instead),
    and the runtimes that could not run at all with their reason."""
    results: dict[str, list[Outcome]] = {}
    failures: dict[str, StepFailure] = {}
    for tid in tokenizer_ids:
        try:
            with step(tid, "tokenize"):
                results[tid] = tokenizers.outcomes(tid, bundle, texts, app=app)
        except RuntimeFailed as e:
            failures[tid] = e.failure
    return results, failures

"""`harness tokenize`: the same texts through several tokenizer runtimes, failures isolated."""

from __future__ import annotations

from harness.core.bundle import Bundle
from runtimes import tokenizers
from runtimes.failures import RuntimeFailed, RuntimeFailure, step


def tokenize_all(
    bundle: Bundle, tokenizer_ids: list[str], texts: list[str]
) -> tuple[dict[str, list[list[int]]], dict[str, RuntimeFailure]]:
    """Ids per tokenizer runtime, and the ones that failed with their reason."""
    results: dict[str, list[list[int]]] = {}
    failures: dict[str, RuntimeFailure] = {}
    for tid in tokenizer_ids:
        try:
            with step(tid, "tokenize"):
                results[tid] = tokenizers.tokenize(tid, bundle, texts) if texts else []
        except RuntimeFailed as e:
            failures[tid] = e.failure
    return results, failures

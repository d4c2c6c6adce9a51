"""`harness predict`: each model runtime fed by the tokenizer its real app uses, failures isolated.

`predict_batches` keeps the sessions open across batches and yields each batch's scores as
soon as it is done, so a 100,000-line input is held one batch at a time (memory stays flat)
and its first lines are printed while the rest still runs.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass

import numpy as np

from harness.core.bundle import Bundle
from harness.core.cases import Case
from harness.run.engines import Engines
from runtimes.failures import RuntimeFailure
from runtimes.selection import Selection

BATCH = 2048  # cases per batch: one page call per browser runtime, a few MB of ids


@dataclass
class ScoredBatch:
    cases: list[Case]
    scores: dict[str, np.ndarray]  # runtime id -> scores of these cases (runtimes that ran)
    tokenized_by: dict[str, str]  # runtime id -> the tokenizer that fed it
    failures: dict[str, RuntimeFailure]  # every runtime that has failed so far, with its reason


def predict_batches(bundle: Bundle, selection: Selection, batches: Iterable[list[Case]]) -> Generator[ScoredBatch]:
    """One ScoredBatch per input batch, the engines opened once for all of them."""
    with Engines(bundle, selection.runtimes) as engines:
        engines.prepare()
        for batch in batches:
            scores, used = engines.text_scores([c.text for c in batch])
            failures = {rid: f for rid, f in engines.failures.items() if rid in engines.runtimes}
            engines.forget()  # one batch at a time in memory
            yield ScoredBatch(batch, scores, used, failures)


def predict(
    bundle: Bundle, selection: Selection, texts: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, RuntimeFailure]]:
    """(scores per runtime that ran, tokenizer used per runtime, failures per runtime that did not)."""
    with Engines(bundle, selection.runtimes) as engines:
        engines.prepare()
        scores, used = engines.text_scores(texts)
        failures = {rid: f for rid, f in engines.failures.items() if rid in engines.runtimes}
        return scores, used, failures

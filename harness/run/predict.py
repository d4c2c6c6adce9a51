"""`harness predict`: each model runtime fed by the tokenizer its real app uses, failures isolated."""

from __future__ import annotations

import numpy as np

from harness.core.bundle import Bundle
from harness.run.engines import Engines
from runtimes.failures import RuntimeFailure
from runtimes.selection import Selection


def predict(
    bundle: Bundle, selection: Selection, texts: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, RuntimeFailure]]:
    """(scores per runtime that ran, tokenizer used per runtime, failures per runtime that did not)."""
    with Engines(bundle, selection.runtimes) as engines:
        engines.prepare()
        scores, used = engines.text_scores(texts)
        failures = {rid: f for rid, f in engines.failures.items() if rid in engines.runtimes}
        return scores, used, failures

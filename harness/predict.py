"""`harness predict`: each model runtime fed by the tokenizer its real app uses."""

from __future__ import annotations

import numpy as np

from harness import matrix, tokenizer_runtimes
from harness.bundle import Bundle
from runtimes import registry


def tokenizer_for(runtime_tokenizer: str) -> str:
    """The app's own tokenizer where it can run here; the reference otherwise."""
    if runtime_tokenizer in tokenizer_runtimes.TOKENIZERS and tokenizer_runtimes.availability(runtime_tokenizer)[0]:
        return runtime_tokenizer
    return "py"


def predict(bundle: Bundle, selection: str, texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    from harness.engines import Engines

    runtimes = registry.resolve(selection)
    matrix.require_available(runtimes)
    with Engines(bundle, [rt.id for rt in runtimes]) as engines:
        return engines.text_scores(texts)

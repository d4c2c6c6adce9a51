"""`harness predict`: each model runtime fed by the tokenizer its real app uses."""

from __future__ import annotations

import numpy as np

from harness import matrix, tokenizer_runtimes
from harness.bundle import Bundle
from runtimes import registry


def tokenizer_for(runtime_tokenizer: str) -> str:
    """The app's own tokenizer where it can run here; the reference otherwise."""
    return runtime_tokenizer if runtime_tokenizer in tokenizer_runtimes.TOKENIZERS else "py"


def predict(bundle: Bundle, selection: str, texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    runtimes = registry.resolve(selection)
    matrix.require_available(runtimes)
    length = bundle.signature().length
    ids_by_tokenizer: dict[str, np.ndarray] = {}
    scores: dict[str, np.ndarray] = {}
    used: dict[str, str] = {}
    for rt in runtimes:
        tok = tokenizer_for(rt.spec.tokenizer)
        if tok not in ids_by_tokenizer:
            ids = tokenizer_runtimes.tokenize(bundle, tok, texts)
            ids_by_tokenizer[tok] = np.asarray(ids, dtype=np.int32).reshape(-1, length)
        run = matrix.run(bundle, [rt], ids_by_tokenizer[tok])[rt.id]
        scores[rt.id] = run.result.scores
        used[rt.id] = tok
    return scores, used

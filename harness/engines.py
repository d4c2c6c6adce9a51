"""Open model and tokenizer runtimes once and reuse them for many batches.

The conformance suite, `harness golden check` and `harness compare` all ask the same thing
many times ("these texts / these ids through every runtime"); sessions (a Chromium tab, a
loaded Core ML program, a traced Keras function) are opened on first use and kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness import config, matrix, tokenizer_runtimes
from harness.bundle import Bundle
from harness.compare import Comparison, compare
from harness.predict import tokenizer_for
from runtimes import registry
from runtimes.base import RunResult, Session


class Engines:
    def __init__(self, bundle: Bundle, runtime_ids: list[str], tokenizer_ids: list[str] | None = None) -> None:
        self.bundle = bundle
        self.runtime_ids = list(runtime_ids)
        self.tokenizer_ids = list(tokenizer_ids or ["py"])
        self.length = bundle.signature().length
        self._sessions: dict[str, Session] = {}
        self.info: dict[str, dict[str, Any]] = {}
        self.artifacts: dict[str, dict[str, Any]] = {}
        self.threshold = config.threshold()

    def session(self, runtime_id: str) -> Session:
        if runtime_id not in self._sessions:
            rt = registry.get(runtime_id)
            matrix.require_available([rt])
            artifact = matrix.artifact_for(self.bundle, rt)
            session = rt.open(self.bundle, artifact)
            self._sessions[runtime_id] = session
            self.info[runtime_id] = dict(session.info)
            if artifact is not None:
                self.artifacts[runtime_id] = artifact.manifest
        return self._sessions[runtime_id]

    def tokenize(self, tokenizer_id: str, texts: list[str]) -> np.ndarray:
        ids = tokenizer_runtimes.tokenize(self.bundle, tokenizer_id, texts)
        return np.asarray(ids, dtype=np.int64).reshape(-1, self.length)

    def run(self, runtime_id: str, ids: np.ndarray) -> RunResult:
        return self.session(runtime_id).run(ids)

    def scores(self, runtime_id: str, ids: np.ndarray) -> np.ndarray:
        return self.run(runtime_id, ids).scores

    def all_scores(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        return {rid: self.scores(rid, ids) for rid in self.runtime_ids}

    def text_scores(
        self, texts: list[str], ids_by_tokenizer: dict[str, np.ndarray] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """Each runtime fed by the tokenizer its real app uses (browser: js); ids already
        computed for `texts` can be passed in, so no tokenizer runs twice."""
        by_tok: dict[str, np.ndarray] = dict(ids_by_tokenizer or {})
        out, used = {}, {}
        for rid in self.runtime_ids:
            used[rid], ids = self.app_ids(rid, texts, by_tok)
            out[rid] = self.scores(rid, ids)
        return out, used

    def app_ids(self, runtime_id: str, texts: list[str], cache: dict[str, np.ndarray]) -> tuple[str, np.ndarray]:
        """The tokenizer `runtime_id`'s real app uses and its ids for `texts`, once per tokenizer."""
        tok = tokenizer_for(registry.SPECS[runtime_id].tokenizer)
        if tok not in cache:
            cache[tok] = self.tokenize(tok, texts)
        return tok, cache[tok]

    def tolerance(self, runtime_id: str) -> config.Tolerance:
        return config.tolerance(runtime_id, registry.SPECS[runtime_id].precision)

    def compare(self, runtime_id: str, reference: np.ndarray, other: np.ndarray) -> Comparison:
        return compare(runtime_id, reference, other, self.tolerance(runtime_id), self.threshold)

    def close(self) -> None:
        for s in self._sessions.values():
            s.close()
        self._sessions.clear()

    def __enter__(self) -> Engines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

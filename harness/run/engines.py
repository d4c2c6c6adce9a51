"""Open model and tokenizer runtimes once, reuse them for many batches, and isolate failures.

The conformance suite, `harness golden check`, `compare`, `predict` and `report` all ask the
same thing many times ("these texts / these ids through every runtime"); sessions (a browser
tab, a loaded Core ML program, a traced Keras function) are opened on first use and kept.

A runtime whose export, load, tokenizer or run fails is recorded in `failures` with the step
and the engine's words, and is not tried again; every other runtime carries on. Methods that
return one runtime's result raise `RuntimeFailed`; methods over all runtimes skip the failed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness import export
from harness.core import config
from harness.core.artifact import ArtifactFolder
from harness.core.bundle import Bundle
from runtimes import tokenizers
from runtimes.base import RunResult, Runtime, Session
from runtimes.failures import RuntimeFailed, StepFailure, step


class Engines:
    def __init__(self, bundle: Bundle, runtimes: list[Runtime], tokenizer_ids: list[str] | None = None) -> None:
        self.bundle = bundle
        self.runtimes = {rt.id: rt for rt in runtimes}
        self.tokenizer_ids = list(tokenizer_ids or [tokenizers.REFERENCE])
        self.length = bundle.signature().length
        self.reference = config.reference()
        self.threshold = config.threshold()
        self.info: dict[str, dict[str, Any]] = {}
        self.artifacts: dict[str, dict[str, Any]] = {}
        self.failures: dict[str, StepFailure] = {}  # model runtime id or tokenizer id -> why it stopped
        self._sessions: dict[str, Session] = {}
        self._artifacts: dict[str, ArtifactFolder] = {}
        self._ids: dict[str, dict[str, tuple[int, ...]]] = {}  # tokenizer -> text -> ids, this run
        self._scores: dict[str, dict[bytes, float]] = {}  # runtime -> id row -> score, this run

    @property
    def runtime_ids(self) -> list[str]:
        return list(self.runtimes)

    @property
    def ok_ids(self) -> list[str]:
        """Model runtimes that have not failed (so far)."""
        return [rid for rid in self.runtimes if rid not in self.failures]

    def _guard(self, key: str, name: str, context: str = "") -> Any:
        """The step context for `key`; a failure is remembered so the runtime is not retried."""
        if key in self.failures:
            raise RuntimeFailed(self.failures[key])
        return _Recording(self, key, name, context=context)

    def prepare(self) -> Engines:
        """Export (or verify the cached artifact of) every runtime before any of them runs, so an
        edited artifact stops the command before anything ran; a conversion failure is recorded."""
        for rid in self.runtimes:
            try:
                self._artifact(rid)
            except RuntimeFailed:
                continue
        return self

    def _artifact(self, runtime_id: str) -> ArtifactFolder | None:
        rt = self.runtimes[runtime_id]
        if rt.spec.target is None:
            return None
        if runtime_id not in self._artifacts:
            with self._guard(runtime_id, "export"):
                fresh = bool(rt.spec.options.get("fresh_export"))  # `<id>#exported`: beside a shipped file
                self._artifacts[runtime_id] = export.export(self.bundle, rt.spec.target, fresh=fresh)
        return self._artifacts[runtime_id]

    def session(self, runtime_id: str) -> Session:
        if runtime_id not in self._sessions:
            rt = self.runtimes[runtime_id]
            artifact = self._artifact(runtime_id)
            with self._guard(runtime_id, "load", rt.context()):
                session = rt.open(self.bundle, artifact)
            self._sessions[runtime_id] = session
            self.info[runtime_id] = dict(session.info)
            if artifact is not None:
                self.artifacts[runtime_id] = artifact.manifest
        return self._sessions[runtime_id]

    def tokenize(self, tokenizer_id: str, texts: list[str]) -> np.ndarray:
        """Ids of every text; a text this tokenizer already encoded in this run is not sent again."""
        memo = self._ids.setdefault(tokenizer_id, {})
        todo = list(dict.fromkeys(t for t in texts if t not in memo))
        if todo:
            with self._guard(tokenizer_id, "tokenize"):
                found = tokenizers.tokenize(tokenizer_id, self.bundle, todo)
            memo.update(zip(todo, (tuple(row) for row in found), strict=True))
        return np.asarray([memo[t] for t in texts], dtype=np.int64).reshape(-1, self.length)

    def forget(self) -> None:
        """Drop what this run remembered of texts and rows: a stream of batches (predict on a
        100,000-line file) must not hold every text it has seen."""
        self._ids.clear()
        self._scores.clear()

    def run(self, runtime_id: str, ids: np.ndarray) -> RunResult:
        """One batch through the engine, timed (never answered from memory; see `scores`)."""
        session = self.session(runtime_id)
        with self._guard(runtime_id, "run", self.runtimes[runtime_id].context()):
            result = session.run(ids)
        memo = self._scores.setdefault(runtime_id, {})
        memo.update(zip(_row_keys(ids), result.scores.tolist(), strict=True))
        return result

    def scores(self, runtime_id: str, ids: np.ndarray) -> np.ndarray:
        """Scores of every row; rows this runtime already scored in this run are not run again
        (a row's score does not depend on its batch: tests/test_coreml_ref.py, test_tfjs_runtimes.py
        check it), so the golden cases that are also held-out reviews cost nothing twice."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.size == 0:
            return self.run(runtime_id, ids).scores
        keys = _row_keys(ids)
        memo = self._scores.get(runtime_id, {})
        missing = [i for i, k in enumerate(keys) if k not in memo]
        if missing:
            self.run(runtime_id, ids[missing])
            memo = self._scores[runtime_id]
        return np.asarray([memo[k] for k in keys], dtype=np.float64)

    def all_scores(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """Scores of every runtime that can produce them; the others land in `failures`."""
        out = {}
        for rid in self.runtimes:
            try:
                out[rid] = self.scores(rid, ids)
            except RuntimeFailed:
                continue
        return out

    def text_scores(
        self, texts: list[str], ids_by_tokenizer: dict[str, np.ndarray] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """Each runtime fed by the tokenizer its real app uses (browser: js); ids already
        computed for `texts` can be passed in, so no tokenizer runs twice. Runtimes that fail
        (or whose tokenizer fails) are left out and recorded in `failures`. The ids each tokenizer
        gave are added to `ids_by_tokenizer` when it is passed (predict reads them back)."""
        by_tok: dict[str, np.ndarray] = ids_by_tokenizer if ids_by_tokenizer is not None else {}
        out, used = {}, {}
        for rid in self.runtimes:
            try:
                tok, ids = self.app_ids(rid, texts, by_tok)
                out[rid] = self.scores(rid, ids)
            except RuntimeFailed:
                continue
            used[rid] = tok
        return out, used

    def app_tokenizer(self, runtime_id: str) -> str:
        """The tokenizer `runtime_id`'s real app uses where it can run here (for a web runtime:
        the app tokenizer the bundle names, else the web app's own); the reference otherwise."""
        wanted = self.runtimes[runtime_id].spec.tokenizer
        if wanted in tokenizers.SPECS and tokenizers.availability(wanted, self.bundle).ok:
            return wanted
        return tokenizers.REFERENCE

    def app_ids(self, runtime_id: str, texts: list[str], cache: dict[str, np.ndarray]) -> tuple[str, np.ndarray]:
        """The tokenizer `runtime_id`'s real app uses and its ids for `texts`, once per tokenizer.
        A failing tokenizer fails the runtime it feeds, at the step "tokenize"."""
        tok = self.app_tokenizer(runtime_id)
        if tok not in cache:
            try:
                cache[tok] = self.tokenize(tok, texts)
            except RuntimeFailed as e:
                failure = StepFailure(runtime_id, "tokenize", f"tokenizer {tok}: {e.failure.message}")
                self.failures[runtime_id] = failure
                raise RuntimeFailed(failure) from None
        return tok, cache[tok]

    def tolerance(self, runtime_id: str) -> config.Tolerance:
        return config.tolerance(runtime_id, self.runtimes[runtime_id].spec.precision)

    def close(self) -> None:
        for s in self._sessions.values():
            s.close()
        self._sessions.clear()

    def __enter__(self) -> Engines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _row_keys(ids: np.ndarray) -> list[bytes]:
    return [row.tobytes() for row in np.ascontiguousarray(ids, dtype=np.int32)]


class _Recording:
    """`step(...)` that also records the failure in the Engines, keyed by runtime or tokenizer."""

    def __init__(self, engines: Engines, key: str, name: str, *, context: str) -> None:
        self._engines, self._key = engines, key
        self._step = step(key, name, context)

    def __enter__(self) -> None:
        self._step.__enter__()

    def __exit__(self, *exc: Any) -> bool:
        try:
            return bool(self._step.__exit__(*exc))
        except RuntimeFailed as e:
            self._engines.failures[self._key] = e.failure
            raise

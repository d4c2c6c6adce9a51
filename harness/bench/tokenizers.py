"""Throughput of a team's own preprocessing: the keras-tokenizer reference and an app module.

A tf_keras Tokenizer is fitted here on the built-in corpus's training split (num_words
10,000, an OOV token; what a team's notebook does), then the held-out reviews are encoded
(1) by the `py` reference, tf_keras's texts_to_sequences + pad_sequences in this process,
and (2) by a JavaScript port of it loaded as an app tokenizer in Chromium
(tests/fixtures/tokenizers/keras_tokenizer.js, the correct port the tests check), timed
inside the page after a warm-up. Sentences per second = reviews x passes / time of the
passes; each side runs for at least `min_seconds`. Both must agree on every review, or the
figure is of the wrong code: the bench says how many did.

`python -m harness.bench.tokenizers` prints these figures alone.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.core import bundle
from harness.core.paths import REPO
from harness.core.quiet import native_stderr
from harness.core.tokenizer.app_tokenizer import AppTokenizer
from harness.data import corpus
from harness.data.tokenizer.from_file import read_tokenizer

APP_PORT = REPO / "tests" / "fixtures" / "tokenizers" / "keras_tokenizer.js"
NUM_WORDS = 10_000
MAXLEN = 48


def _fit(folder: Path, train: list[str]) -> tuple[Path, Path]:
    with native_stderr():
        from tf_keras.preprocessing.text import Tokenizer

    tok = Tokenizer(num_words=NUM_WORDS, oov_token="<OOV>")
    tok.fit_on_texts(train)
    (folder / "tokenizer.json").write_text(tok.to_json(), encoding="utf-8")
    sequence = {"maxlen": MAXLEN, "padding": "pre", "truncating": "pre", "value": 0}
    (folder / "sequence.json").write_text(json.dumps(sequence), encoding="utf-8")
    return folder / "tokenizer.json", folder / "sequence.json"


def _reference_rate(encode: Any, texts: list[str], min_seconds: float) -> dict[str, Any]:
    encode(texts[:200])  # warm-up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_seconds:
        encode(texts)
        done += len(texts)
    return {"sentences_per_second": round(done / (time.perf_counter() - started))}


def bench_keras_tokenizer(min_seconds: float = 1.0) -> dict[str, Any]:
    from runtimes import tokenizers
    from runtimes.tokenizers import in_process

    splits = corpus.by_split(corpus.load(corpus.BUILTIN))
    texts = [r.text for r in splits["test"]]
    out: dict[str, Any] = {"reviews": len(texts), "num_words": NUM_WORDS, "maxlen": MAXLEN}
    with tempfile.TemporaryDirectory(prefix="harness-bench-tok-") as tmp:
        folder = Path(tmp)
        tok_file, seq_file = _fit(folder, [r.text for r in splits["train"]])
        (folder / "bundle").mkdir()
        spec = read_tokenizer(tok_file, MAXLEN)
        (folder / "bundle" / bundle.TOKENIZER).write_text(json.dumps(spec), encoding="ascii")
        b = bundle.tokenizer_only(folder / "bundle")
        out["py"] = _reference_rate(in_process.encoder(b), texts, min_seconds)
        app = AppTokenizer(APP_PORT, "encode", (tok_file, seq_file))
        ok = tokenizers.availability("js", b, app)
        if not ok.ok or not APP_PORT.is_file():
            out["js"] = {"unavailable": ok.reason or f"{APP_PORT} is missing", "install": ok.install}
            return out
        from runtimes.tokenizers.browser import TokenizerPage

        agree = tokenizers.outcomes("py", b, texts) == tokenizers.outcomes("js", b, texts, app=app)
        passes = TokenizerPage.shared("chromium").bench_app(app, texts, min_seconds)
        total_ms = sum(passes)
        out["js"] = {
            "module": str(APP_PORT.relative_to(REPO)),
            "engine": "chromium",
            "passes": len(passes),
            "sentences_per_second": round(len(texts) * len(passes) / (total_ms / 1000)) if total_ms > 0 else None,
            "best_pass_ms": round(min(passes), 3) if passes else None,
            "agrees_with_py": agree,
        }
    return out


if __name__ == "__main__":
    print(json.dumps(bench_keras_tokenizer(), indent=2))

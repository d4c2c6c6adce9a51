"""`make bench`'s zoo figures: single-review p50 of every zoo model on keras, tfjs-wasm and coreml-ref.

The zoo (harness/data/zoo.py, the models tests/test_model_zoo.py proves) at the reference
tokenizer's length, so the figures are about reviews as they ship. Each model becomes a bundle
once, under the cache (keyed by the zoo module's source, Keras's version and the tokenizer), so
its exports are cached too: the unrolled GRUs take 30-50 s per Core ML conversion, paid once.
Latency is measured inside each engine after warm-up (in the page for tfjs-wasm), on one
held-out review; a runtime that cannot run a model gives its failure line instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench.runtimes import single_review
from harness.core import bundle
from harness.core.atomic import file_lock
from harness.core.bundle import Bundle
from harness.core.paths import cache_dir
from harness.core.versions import dist_version
from harness.data import zoo
from harness.data.make_bundle import make_bundle
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.selection import select

RUNTIMES = ("keras", "tfjs-wasm", "coreml-ref")


def zoo_bundle(kind: str, like: bundle.Bundle, length: int) -> bundle.Bundle:
    """The zoo model `kind` as a bundle with `like`'s tokenizer (a harness spec) at `length`, made once per key."""
    source = Path(zoo.__file__).read_bytes()
    key = hashlib.sha256(b"|".join([source, dist_version("keras").encode(), like.hash.encode(), str(length).encode()]))
    folder = cache_dir() / "zoo" / key.hexdigest()[:16]
    out = folder / kind
    with file_lock(folder / f"{kind}.lock"):
        if not (out / bundle.MANIFEST).is_file():
            model = zoo.save(kind, like.signature().vocab_size, length, folder=folder / "models")
            make_bundle(str(model), None, str(out), tokenizer=str(like.tokenizer_path), maxlen=length)
    return bundle.load(out)


def bench_model(model_bundle: Bundle, row: np.ndarray, repeats: int) -> dict[str, Any]:
    with Engines(model_bundle, select(",".join(RUNTIMES)).runtimes) as engines:
        return {rid: single_review(engines, rid, row, repeats=repeats) for rid in RUNTIMES if rid in engines.runtimes}


def bench_zoo(like: bundle.Bundle, text: str, repeats: int = 100, *, length: int | None = None) -> dict[str, Any]:
    """{kind: {runtime: {p50_ms, p95_ms, load_seconds} or {error}}} for every zoo model."""
    length = length or like.signature().length
    figures: dict[str, Any] = {"length": length, "repeats": repeats, "runtimes": list(RUNTIMES), "models": {}}
    for kind in zoo.ZOO:
        b = zoo_bundle(kind, like, length)
        row = np.asarray(tokenizers.tokenize(tokenizers.REFERENCE, b, [text]), dtype=np.int32)[0]
        figures["models"][kind] = bench_model(b, row, repeats)
    return figures

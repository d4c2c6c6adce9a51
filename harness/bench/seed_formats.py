"""`make bench`'s seed-format figures: single-review latency of a Keras 2 LSTM as the seed ships it.

The reference bundle is a Keras 3 model, which has no TF.js layers model (tfjs-layers-keras3),
so the layers-model runtimes are measured on a model of the seed's shape instead: tf_keras
Embedding(32) -> LSTM(32) -> Dense(sigmoid) at the reference tokenizer's vocabulary and
length, with fixed random weights (latency does not depend on what the weights learned). It
becomes a bundle once, under the cache (keyed by this module's source, tf_keras's version and
the tokenizer), so its exports are cached too. Beside the layers model: the same model as a
TF.js graph model (tfjs-wasm) and on LiteRT, and any Core ML NeuralNetwork runtime this checkout
registers. Latency is measured inside each engine after warm-up on one held-out review; a
runtime that cannot run the model gives its failure line. `python -m harness.bench.seed_formats`
prints just these figures.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench.runtimes import single_review
from harness.core import bundle
from harness.core.atomic import file_lock
from harness.core.paths import cache_dir
from harness.core.versions import dist_version
from harness.data.make_bundle import make_bundle
from harness.run.engines import Engines
from runtimes import registry, tokenizers
from runtimes.selection import select

WIDTH = 32
CANDIDATES = (
    "keras",
    "tfjs-layers-cpu",
    "tfjs-layers-wasm",
    "tfjs-layers-webgl",
    "tfjs-wasm",
    "tflite",
    "coreml-nn-ref",
    "coreml-nn-ref@f16",
)


def runtimes() -> list[str]:
    """The candidates this checkout registers (coreml-nn-ref arrives with the NeuralNetwork target)."""
    known = set(registry.ids())
    return [rid for rid in CANDIDATES if rid in known]


def artifact_format(manifest: dict[str, Any]) -> str | None:
    """What the runtime ran: a TF.js or LiteRT manifest's model_format, a NeuralNetwork's model_type."""
    return manifest.get("model_format") or manifest.get("model_type")


def seed_bundle(like: bundle.Bundle) -> bundle.Bundle:
    """The seed-shaped tf_keras LSTM as a bundle with `like`'s tokenizer, made once per key."""
    from runtimes.frameworks import import_tf_keras

    sig = like.signature()
    key = hashlib.sha256(
        b"|".join([Path(__file__).read_bytes(), dist_version("tf_keras").encode(), like.hash.encode()])
    )
    folder = cache_dir() / "seed-formats" / key.hexdigest()[:16]
    out = folder / "lstm"
    with file_lock(folder.parent / f"{folder.name}.lock"):
        if not (out / bundle.MANIFEST).is_file():
            tf_keras = import_tf_keras()
            tf_keras.utils.set_random_seed(0)
            ids = tf_keras.Input(shape=(sig.length,), dtype="int32")
            x = tf_keras.layers.Embedding(sig.vocab_size, WIDTH)(ids)
            x = tf_keras.layers.LSTM(WIDTH)(x)
            model = tf_keras.Model(ids, tf_keras.layers.Dense(1, activation="sigmoid")(x), name="seed_lstm")
            folder.mkdir(parents=True, exist_ok=True)
            model.save(folder / "seed_lstm.h5")
            make_bundle(
                str(folder / "seed_lstm.h5"), None, str(out), tokenizer=str(like.tokenizer_path), maxlen=sig.length
            )
    return bundle.load(out)


def bench_seed_formats(like: bundle.Bundle, text: str, repeats: int = 100) -> dict[str, Any]:
    """{runtime: {p50_ms, p95_ms, load_seconds, artifact} or {error}} for the seed-shaped LSTM."""
    b = seed_bundle(like)
    row = np.asarray(tokenizers.tokenize(tokenizers.REFERENCE, b, [text]), dtype=np.int32)[0]
    wanted = runtimes()
    figures: dict[str, Any] = {
        "model": f"tf_keras Embedding({WIDTH}) -> LSTM({WIDTH}) -> Dense",
        "repeats": repeats,
        "bundle_hash": b.hash,
        "runtimes": {},
    }
    chosen = select(",".join(wanted))
    for rid, missing in chosen.unavailable.items():
        figures["runtimes"][rid] = {"error": f"cannot run here: {missing}"}
    with Engines(b, chosen.runtimes) as engines:
        for rid in engines.runtime_ids:
            figures["runtimes"][rid] = single_review(
                engines,
                rid,
                row,
                repeats=repeats,
                facts=lambda rid, _: {"artifact": artifact_format(engines.artifacts.get(rid, {}))},
            )
    return figures


def main() -> None:
    """`python -m harness.bench.seed_formats`: just these figures (make bench prints them with the rest)."""
    import json

    from harness.data.corpus import held_out

    b = bundle.load(None)
    print(json.dumps(bench_seed_formats(b, held_out(b)[0].text), indent=2))


if __name__ == "__main__":
    main()

"""`harness reduce`: the fewest layers to keep in float32 (harness/check/reduce.py), with coremltools'
own per-op precision selection and coreml-ref.

A model whose LayerNormalization squares values near 700 (beyond float16's 65,504: its
variance is inf, its output 0) fails its float16 policy everywhere; the bisect must name that
layer and no other, and say what keeping it costs in bytes.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from harness import cli
from harness.core.paths import REFERENCE_BUNDLE


def overflow_model(keras, vocab: int, length: int):
    keras.utils.set_random_seed(3)
    ids = keras.Input((length,), dtype="int32", name="token_ids")
    big = keras.initializers.RandomNormal(stddev=2000.0)  # embeddings in the thousands: fine in float16 ...
    x = keras.layers.Embedding(vocab, 8, name="embedding", embeddings_initializer=big)(ids)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    x = keras.layers.LayerNormalization(name="norm")(x)  # ... their squared deviations are not
    x = keras.layers.Dense(4, activation="relu", name="hidden")(x)
    out = keras.layers.Dense(1, activation="sigmoid", name="score")(x)
    return keras.Model(ids, out, name="overflow")


@pytest.fixture(scope="module")
def overflow_bundle(tmp_path_factory, reference_bundle) -> Path:
    from harness.data.make_bundle import make_bundle
    from runtimes.frameworks import import_keras

    tok = reference_bundle.tokenizer()
    folder = tmp_path_factory.mktemp("overflow")
    overflow_model(import_keras(), tok.vocab_size, tok.length).save(folder / "overflow.keras")
    make_bundle(str(folder / "overflow.keras"), str(REFERENCE_BUNDLE), str(folder / "bundle"))
    return folder / "bundle"


@pytest.mark.coreml
def test_the_fp16_overflow_is_bisected_to_its_one_layer(overflow_bundle, reference_bundle):
    from harness.check.reduce import reduce
    from harness.core import bundle
    from runtimes import tokenizers

    lines = (REFERENCE_BUNDLE.parent / "texts.jsonl").read_text().splitlines()[:64]  # 64 golden cases
    texts = [json.loads(line)["text"] for line in lines]
    ids = np.asarray(tokenizers.tokenize(tokenizers.REFERENCE, reference_bundle, texts))
    r = reduce(bundle.load(overflow_bundle), "coreml-ref", ids)
    assert r.layers == ["embedding", "pool", "norm", "hidden", "score"]
    assert not r.baseline.passed and r.baseline.max_abs_diff > 0.05  # every score 0.5: the overflow
    assert r.keep == ("norm",), (r.verdict, r.trials)
    chosen = next(t for t in r.trials if t.keep == ("norm",))
    assert chosen.passed and chosen.max_abs_diff < r.atol
    assert chosen.bytes >= r.baseline.bytes  # its weights stay float32
    assert [t.keep for t in r.trials if t.passed] == [("embedding", "pool", "norm", "hidden", "score"), ("norm",)]


def test_reduce_says_which_runtimes_it_cannot_bisect():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(["reduce", "--runtime", "tfjs-wasm@u8"])
    assert (
        rc == 2
        and "TF.js float32 weights per layer" in err.getvalue()
        and len(err.getvalue().strip().splitlines()) == 1
    )

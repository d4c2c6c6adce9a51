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
        rc = cli.main(["reduce", "--runtime", "tflite@int8"])
    assert rc == 2 and "LiteRT ops left unquantized" in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1


def outlier_model(keras, vocab: int, length: int):
    """One weight of 6000 in a Dense kernel of values near 40: uint8 quantization spreads 256 steps
    over that range, and every other weight of the layer lands on one of a few steps."""
    keras.utils.set_random_seed(4)
    ids = keras.Input((length,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocab, 8, name="embedding")(ids)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    hidden = keras.layers.Dense(16, activation="relu", name="hidden")
    x = hidden(x)
    score = keras.layers.Dense(1, activation="sigmoid", name="score")
    out = score(x)
    model = keras.Model(ids, out, name="outlier")
    rng = np.random.default_rng(4)
    kernel = rng.normal(0, 40.0, (8, 16)).astype("float32")  # large enough that rounding moves the score
    kernel[0, 0] = 6000.0  # the outlier; its unit feeds nothing below
    hidden.set_weights([kernel, np.zeros(16, "float32")])
    w = rng.normal(0, 1.0, (16, 1)).astype("float32")
    w[0, 0] = 0.0
    score.set_weights([w, np.zeros(1, "float32")])
    return model


@pytest.mark.nightly  # a browser page per trial and a conversion each: ~1-2 min
@pytest.mark.browser
def test_tfjs_u8_outlier_layer_is_kept_in_float32(tmp_path, reference_bundle):
    from harness.check.reduce import reduce
    from harness.core import bundle
    from harness.data.make_bundle import make_bundle
    from runtimes import tokenizers
    from runtimes.frameworks import import_keras

    tok = reference_bundle.tokenizer()
    outlier_model(import_keras(), tok.vocab_size, tok.length).save(tmp_path / "outlier.keras")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(tmp_path / "cache"))  # its exports never touch the user's cache
        make_bundle(str(tmp_path / "outlier.keras"), str(REFERENCE_BUNDLE), str(tmp_path / "bundle"))
        lines = (REFERENCE_BUNDLE.parent / "texts.jsonl").read_text().splitlines()[:64]
        ids = np.asarray(
            tokenizers.tokenize(tokenizers.REFERENCE, reference_bundle, [json.loads(x)["text"] for x in lines])
        )
        r = reduce(bundle.load(tmp_path / "bundle"), "tfjs-wasm@u8", ids)
    assert not r.baseline.passed, r.trials
    assert r.keep == ("hidden",), (r.verdict, r.trials)
    assert next(t for t in r.trials if t.keep == ("hidden",)).bytes > r.baseline.bytes  # its kernel stays float32

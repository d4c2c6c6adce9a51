"""Any model, not only ours: `harness bundle` + `predict` on a second architecture.

The foreign model is built here and shares nothing with harness/model.py but the tokenizer:
Embedding over the reference vocabulary -> Conv1D(kernel 5, 'same') -> Conv1D(dilation 2) ->
GlobalAveragePooling1D -> Dense(2, softmax). It is fitted for one epoch on the training split
so that its scores spread over [0, 1] and decisions differ between reviews (an untrained or
random-data model scores everything near 0.5, which would make decision agreement vacuous).
Exports go to a temporary cache, so this module never reuses or pollutes the user's.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import cli
from harness.core import bundle
from harness.core.paths import REFERENCE_BUNDLE
from harness.data import corpus

LENGTH = 48
N_REVIEWS = 100
TFJS_F32 = ("tfjs-wasm", "tfjs-cpu")
ATOL = 1e-4


@pytest.fixture(scope="module")
def reviews(test_split: list[corpus.Review]) -> list[corpus.Review]:
    """Loaded before the cache is redirected: the corpus lives in the user's cache."""
    return test_split[:N_REVIEWS]


@pytest.fixture(scope="module")
def train_reviews(reviews: list[corpus.Review]) -> list[corpus.Review]:
    return corpus.by_split(corpus.load(corpus.BUILTIN))["train"]


@pytest.fixture(scope="module")
def tmp_cache(
    tmp_path_factory: pytest.TempPathFactory, reviews: list[corpus.Review], train_reviews: list[corpus.Review]
) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("harness-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(cache))
        yield cache


def foreign_architecture(vocab_size: int, length: int = LENGTH, seed: int = 3) -> Any:
    from runtimes.frameworks import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(length,), dtype="int32", name="ids")
    x = keras.layers.Embedding(vocab_size, 16)(inputs)
    x = keras.layers.Conv1D(24, 5, padding="same", activation="relu")(x)
    x = keras.layers.Conv1D(24, 3, dilation_rate=2, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="foreign_cnn")


def cli_run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def foreign_model(tmp_path_factory: pytest.TempPathFactory, train_reviews: list[corpus.Review]) -> tuple[Any, Path]:
    from runtimes.frameworks import import_keras

    keras = import_keras()
    tok = bundle.load(REFERENCE_BUNDLE).tokenizer()
    model = foreign_architecture(tok.vocab_size)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x = np.asarray(tok.encode_batch(r.text for r in train_reviews), dtype=np.int32)
    y = np.asarray([r.label for r in train_reviews])
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("foreign") / "F.keras"
    model.save(path)
    return model, path


@pytest.fixture(scope="module")
def foreign_bundle(
    tmp_path_factory: pytest.TempPathFactory, foreign_model: tuple[Any, Path], tmp_cache: Path
) -> tuple[Path, int, str, str]:
    out = tmp_path_factory.mktemp("foreign-bundle") / "bundle"
    rc, stdout, stderr = cli_run(
        "bundle", "--model", str(foreign_model[1]), "--like", str(REFERENCE_BUNDLE), "--out", str(out)
    )  # the shippability check is tests/test_doctor.py's
    return out, rc, stdout, stderr


def test_bundle_from_a_foreign_model(foreign_bundle: tuple[Path, int, str, str]) -> None:
    out, rc, stdout, stderr = foreign_bundle
    assert rc == 0, stderr
    printed = json.loads(stdout)
    b = bundle.load(out)  # manifest verified
    assert printed == {"bundle": str(out), "bundle_hash": b.hash}
    assert set(b.manifest["files"]) >= {bundle.MODEL, bundle.TOKENIZER, bundle.SIGNATURE}
    assert b.tokenizer_path.read_bytes() == (REFERENCE_BUNDLE / bundle.TOKENIZER).read_bytes()
    sig = b.signature()
    ref = bundle.load(REFERENCE_BUNDLE).signature()
    assert (sig.length, sig.vocab_size) == (ref.length, ref.vocab_size)
    assert (sig.output_kind, sig.classes, sig.positive_index) == ("softmax", 2, 1)


@pytest.mark.browser
def test_foreign_model_agrees_across_keras_and_tfjs(
    foreign_bundle: tuple[Path, int, str, str],
    foreign_model: tuple[Any, Path],
    reviews: list[corpus.Review],
    tmp_path: Path,
) -> None:
    out, rc, _, stderr = foreign_bundle
    assert rc == 0, stderr
    cases = tmp_path / "test-split.jsonl"
    cases.write_text("".join(json.dumps({"id": r.id, "text": r.text}) + "\n" for r in reviews), encoding="utf-8")
    rc, stdout, stderr = cli_run(
        "predict", "--bundle", str(out), "--runtimes", ",".join(("keras", *TFJS_F32)), "--input", str(cases)
    )
    assert rc == 0, stderr
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert [r["id"] for r in rows] == [r.id for r in reviews]
    scores = {rid: np.array([r["scores"][rid] for r in rows]) for rid in ("keras", *TFJS_F32)}

    # score = probability of class 1 of the softmax, straight from the model that was saved
    tok = bundle.load(out).tokenizer()
    ids = np.asarray(tok.encode_batch(r.text for r in reviews), dtype=np.int32)
    direct = np.asarray(foreign_model[0].predict(ids, verbose=0))[:, 1]
    np.testing.assert_allclose(scores["keras"], direct, atol=1e-6)
    assert scores["keras"].std() > 0.05 and 0 < np.mean(scores["keras"] > 0.5) < 1, "outputs are trivial"

    for rid in TFJS_F32:
        diff = np.abs(scores[rid] - scores["keras"])
        worst = int(np.argmax(diff))
        assert diff.max() <= ATOL, f"{rid}: max |diff| {diff.max():.2e} on {reviews[worst].id}"
        assert np.array_equal(scores[rid] > 0.5, scores["keras"] > 0.5), f"{rid}: a decision differs from keras"


def refuse(tmp_path: Path, model: Any, name: str) -> tuple[int, str, str, Path, Path]:
    path = tmp_path / name
    model.save(path)
    out = tmp_path / "out"
    rc, stdout, stderr = cli_run("bundle", "--model", str(path), "--like", str(REFERENCE_BUNDLE), "--out", str(out))
    return rc, stdout, stderr, path, out


def assert_refused(rc: int, stdout: str, stderr: str, out: Path, *fragments: str) -> None:
    assert rc == 2 and stdout == ""
    assert stderr.endswith("\n") and stderr.count("\n") == 1, f"expected one line, got {stderr!r}"
    assert stderr.startswith("harness bundle: error: ")
    for fragment in fragments:
        assert fragment in stderr, (fragment, stderr)
    assert not out.exists()


def test_bundle_refuses_another_input_length(tmp_path: Path, tmp_cache: Path) -> None:
    vocab = bundle.load(REFERENCE_BUNDLE).signature().vocab_size
    rc, stdout, stderr, path, out = refuse(tmp_path, foreign_architecture(vocab, length=40), "len40.keras")
    assert_refused(rc, stdout, stderr, out, str(path), "40", f"[None, {LENGTH}]")


def test_bundle_refuses_an_embedding_smaller_than_the_vocabulary(tmp_path: Path, tmp_cache: Path) -> None:
    vocab = bundle.load(REFERENCE_BUNDLE).signature().vocab_size
    rc, stdout, stderr, path, out = refuse(tmp_path, foreign_architecture(100), "small.keras")
    assert_refused(rc, stdout, stderr, out, str(path), "100 rows", str(vocab - 1))


@pytest.mark.parametrize("name", ["missing.keras", "model.h5"])
def test_bundle_refuses_a_missing_or_non_keras_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".h5"):
        path.write_bytes(b"not a model")
    out = tmp_path / "out"
    rc, stdout, stderr = cli_run("bundle", "--model", str(path), "--like", str(REFERENCE_BUNDLE), "--out", str(out))
    # a .h5 is a Keras 2 model file now (issue 22): garbage in one is what Keras cannot load
    assert_refused(rc, stdout, stderr, out, str(path), "Keras cannot load it" if name.endswith(".h5") else ".keras")


def test_bundle_refuses_a_corrupt_keras_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.keras"
    path.write_bytes(b"PK\x03\x04 definitely not a zip")
    out = tmp_path / "out"
    rc, stdout, stderr = cli_run("bundle", "--model", str(path), "--like", str(REFERENCE_BUNDLE), "--out", str(out))
    assert_refused(rc, stdout, stderr, out, str(path), "not a .keras model archive (a zip file)")

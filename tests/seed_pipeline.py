"""The seed's pipeline, made the way its team makes it, outside the harness (shared by the tests).

A tf_keras (Keras 2) Tokenizer fitted on the built-in corpus's training split, pad_sequences
settings, a small tf_keras model trained briefly on those ids and saved as .h5, and its TF.js
layers model written by the converter's own API (`tensorflowjs.converters.save_keras_model`).
The app's tokenizer is the JavaScript port in the seed's style (tests/fixtures/tokenizers/
keras_tokenizer.js). Everything is small (2,000 words, width 8, two epochs on 8,000 reviews) so
a fixture costs seconds, yet trained enough that scores and decisions vary between reviews.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.paths import REPO

os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")  # tensorflowjs imports ydf, which would print
NUM_WORDS = 2000
MAXLEN = 48
TRAIN_REVIEWS = 8000
PORT = REPO / "tests" / "fixtures" / "tokenizers" / "keras_tokenizer.js"


@dataclass(frozen=True)
class SeedFiles:
    """What a team's build leaves: the model, its web export, the tokenizer files the app loads."""

    model: Path  # the tf_keras model (.h5)
    web: Path  # the TF.js layers model's model.json
    tokenizer: Path  # Tokenizer.to_json()
    sequence: Path  # the app's pad_sequences settings
    ios: Path | None = None  # the Core ML NeuralNetwork .mlmodel an iOS 13-14 app ships (coremltools' API)

    def bundle_argv(self, out: Path, *extra: str) -> list[str]:
        """`harness bundle` for these files: the team's tokenizer, its JS port, the shipped web model."""
        return [
            "bundle",
            "--model",
            str(self.model),
            "--out",
            str(out),
            "--tokenizer",
            str(self.tokenizer),
            "--maxlen",
            str(MAXLEN),
            "--app-tokenizer",
            f"{PORT}:encode",
            "--app-asset",
            str(self.tokenizer),
            "--app-asset",
            str(self.sequence),
            "--artifact",
            f"tfjs-layers={self.web}",
            *(["--artifact", f"coreml-nn={self.ios}"] if self.ios else []),
            *extra,
        ]


def fit_tokenizer(folder: Path, texts: list[str]) -> tuple[Any, Path, Path]:
    from harness.core.quiet import native_stderr

    with native_stderr():
        from tf_keras.preprocessing.text import Tokenizer

    tok = Tokenizer(num_words=NUM_WORDS, oov_token="<OOV>")
    tok.fit_on_texts(texts)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer.json").write_text(tok.to_json(), encoding="utf-8")
    seq = {"maxlen": MAXLEN, "padding": "pre", "truncating": "pre", "value": 0}
    (folder / "sequence.json").write_text(json.dumps(seq), encoding="utf-8")
    return tok, folder / "tokenizer.json", folder / "sequence.json"


def seed_model(kind: str, seed: int) -> Any:
    """Embedding -> LSTM -> Dense(sigmoid) (the seed's), or Embedding -> Conv1D -> max-pool -> Dense."""
    from runtimes.frameworks import import_tf_keras

    tf_keras = import_tf_keras()
    tf_keras.utils.set_random_seed(seed)
    ids = tf_keras.Input(shape=(MAXLEN,), dtype="int32", name="ids")
    x = tf_keras.layers.Embedding(NUM_WORDS, 8)(ids)
    if kind == "lstm":
        x = tf_keras.layers.LSTM(8)(x)
    else:
        x = tf_keras.layers.Conv1D(8, 3, activation="relu")(x)
        x = tf_keras.layers.GlobalMaxPooling1D()(x)
    out = tf_keras.layers.Dense(1, activation="sigmoid")(x)
    model = tf_keras.Model(ids, out, name=f"seed_{kind}")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def save_mlmodel(model: Any, path: Path) -> Path:
    """The model as a Core ML NeuralNetwork, made the way coremltools documents it for a TF 2 model
    (the tf_keras model object itself is refused: FACTS "The seed's formats"): its concrete function,
    int32 ids [batch, MAXLEN], `convert_to="neuralnetwork"`. No harness code is involved."""
    from harness.core.quiet import native_stderr

    with native_stderr(replay=False), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import coremltools as ct
        import tensorflow as tf

        serve = tf.function(
            lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, MAXLEN], tf.int32, name="ids")]
        )
        mlmodel = ct.convert(
            [serve.get_concrete_function()],
            source="tensorflow",
            convert_to="neuralnetwork",
            inputs=[ct.TensorType(name="ids", shape=(ct.RangeDim(1, 1024, default=1), MAXLEN), dtype=np.int32)],
        )
    mlmodel.save(str(path))
    return path


def build(folder: Path, kind: str = "lstm", seed: int = 1, epochs: int = 2, ios: bool = False) -> SeedFiles:
    """Tokenizer, trained model (.h5) and its layers model (and with `ios`, its NeuralNetwork
    .mlmodel), in `folder` as a team's build leaves them."""
    from harness.core.quiet import native_stderr
    from harness.data import corpus

    train = corpus.by_split(corpus.load(corpus.BUILTIN))["train"][:TRAIN_REVIEWS]
    tok, tokenizer, sequence = fit_tokenizer(folder, [r.text for r in train])
    with native_stderr():
        from tf_keras.preprocessing.sequence import pad_sequences

    x = np.asarray(pad_sequences(tok.texts_to_sequences([r.text for r in train]), maxlen=MAXLEN), dtype=np.int32)
    y = np.asarray([r.label for r in train], dtype=np.float32)
    model = seed_model(kind, seed)
    with native_stderr(replay=False):
        model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    model.save(folder / f"seed-{kind}.h5")
    with contextlib.redirect_stdout(io.StringIO()), native_stderr(replay=False):
        from tensorflowjs.converters import save_keras_model

        save_keras_model(model, str(folder / "web"))
    mlmodel = save_mlmodel(model, folder / f"Seed{kind.upper()}.mlmodel") if ios else None
    return SeedFiles(folder / f"seed-{kind}.h5", folder / "web" / "model.json", tokenizer, sequence, mlmodel)

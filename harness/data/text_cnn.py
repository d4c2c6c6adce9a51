"""The reference model: a small convolutional text classifier, trained deterministically.

The seed's rules of thumb: convolutions instead of LSTMs (sentiment is roughly translation
invariant), start small. Embedding -> Conv1D -> GlobalMaxPooling1D -> Dropout -> Dense.
TensorFlow and Keras are imported inside functions so `import harness` stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from harness.core.bundle import positive_scores
from runtimes.frameworks import import_keras


@dataclass(frozen=True)
class Hyperparameters:
    embedding_dim: int = 8  # 32 until issue 27: distilled (distill.py), 8 is as accurate as 32 was
    filters: int = 128  # 64 until issue 27
    kernel_size: int = 3
    dropout: float = 0.5
    learning_rate: float = 2e-3
    batch_size: int = 64
    max_epochs: int = 20
    patience: int = 2


def build(vocab_size: int, length: int, hp: Hyperparameters, *, seed: int) -> Any:
    keras = import_keras()
    init = keras.initializers
    inputs = keras.Input(shape=(length,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(
        vocab_size,
        hp.embedding_dim,
        embeddings_initializer=init.RandomUniform(-0.05, 0.05, seed=seed),
        name="embedding",
    )(inputs)
    x = keras.layers.Conv1D(
        hp.filters, hp.kernel_size, activation="relu", kernel_initializer=init.GlorotUniform(seed=seed + 1), name="conv"
    )(x)
    x = keras.layers.GlobalMaxPooling1D(name="pool")(x)
    x = keras.layers.Dropout(hp.dropout, seed=seed + 2, name="dropout")(x)
    outputs = keras.layers.Dense(
        1, activation="sigmoid", kernel_initializer=init.GlorotUniform(seed=seed + 3), name="score"
    )(x)
    return keras.Model(inputs, outputs, name="sentiment_cnn")


def make_deterministic(seed: int) -> None:
    keras = import_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def train(
    data: dict[str, tuple[np.ndarray, np.ndarray]],
    vocab_size: int,
    length: int,
    *,
    seed: int,
    hp: Hyperparameters = Hyperparameters(),
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Fit on data['train'], early-stop on data['validation']; returns an uncompiled model."""
    keras = import_keras()
    make_deterministic(seed)
    model = build(vocab_size, length, hp, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(hp.learning_rate), loss="binary_crossentropy", metrics=["accuracy"])
    callbacks: list[Any] = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=hp.patience, restore_best_weights=True)
    ]
    if on_epoch is not None:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: on_epoch(e, logs or {})))
    x_train, y_train = data["train"]
    history = model.fit(
        x_train,
        y_train,
        validation_data=data["validation"],
        epochs=hp.max_epochs,
        batch_size=hp.batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
    )
    # Ship the weights only: a fresh, uncompiled twin has no optimizer state to save.
    shipped = build(vocab_size, length, hp, seed=seed)
    shipped.set_weights(model.get_weights())
    info = {"epochs_run": len(history.history["loss"]), "hyperparameters": asdict(hp)}
    return shipped, info


def scores(model: Any, ids: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Positive-class probability for each row (sigmoid [N,1] or softmax [N,C] output)."""
    out = np.asarray(model.predict(ids, batch_size=batch_size, verbose=0))
    return positive_scores(out)


def weights_hash(model: Any) -> str:
    import hashlib

    h = hashlib.sha256()
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()

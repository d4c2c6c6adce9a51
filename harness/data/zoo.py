"""The model zoo: the text-classifier architectures `harness bundle` promises to ship, small.

One builder for the tests (tests/test_model_zoo.py, tests/test_coreml_recurrent.py) and for
`make bench` (harness/bench/zoo.py), so the figures and the proofs are about the same models.
Weights are seeded and random, with embeddings ~N(0, 1) so recurrent gates and attention
leave their linear range and scores spread (a model scoring everything near 0.5 would make
decision agreement vacuous). Each kind is named after what a user would write:

- `cnn`: today's reference architecture (Embedding -> Conv1D -> GlobalMaxPool -> Dense), sigmoid.
- `fasttext`: Embedding -> GlobalAveragePooling1D -> Dense, a softmax head (2 classes).
- `lstm`, `gru`: one recurrent layer -> Dense sigmoid.
- `bigru`: Bidirectional(GRU) -> Dense(3, softmax).
- `stacked`: LSTM(return_sequences) -> LSTM -> Dense sigmoid.
- `attention`: an encoder block (MultiHeadAttention, residual + LayerNormalization, Dense relu)
  -> GlobalMaxPool -> Dense sigmoid.
- `bilstm`, `masked`: two more recurrent forms the Core ML tests need (a fused backward LSTM;
  an Embedding(mask_zero=True) LSTM), not in the default zoo.
- `gelu`: a Dense with exact gelu, the TF op Erfc: not shippable to TF.js or Core ML
  (golden/known_limitations.toml), kept to prove those limitations still hold.
- `loop`: a custom layer with its own `keras.ops.while_loop` (not a Keras RNN, so nothing
  unrolls it): TF.js must run it with executeAsync, and Core ML cannot convert it (a declared
  limitation). Its layer class is registered when the model is built, so only a process that
  built one can load its file.

Seeds: 11 (the Core ML recurrent tests' models), except where another seed makes both decisions
occur on real reviews at the zoo length (SEEDS), so decision agreement is not vacuous.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ZOO = ("cnn", "fasttext", "lstm", "gru", "bigru", "stacked", "attention")
EXTRA = ("bilstm", "masked", "gelu", "loop")
KINDS = ZOO + EXTRA
SEED = 11
SEEDS = {"attention": 1, "bigru": 2}
EMBED = 16
_CUSTOM: dict[str, Any] = {}


def _cumulative(keras: Any) -> Any:
    """The `loop` model's layer: h_t = h_{t-1} / 2 + x_t as a while loop (registered once)."""
    if "Cumulative" not in _CUSTOM:

        @keras.saving.register_keras_serializable(package="harness_zoo")
        class Cumulative(keras.layers.Layer):  # type: ignore[misc, name-defined]
            def call(self, x: Any) -> Any:
                steps = x.shape[1]

                def body(t: Any, acc: Any) -> Any:
                    return t + 1, acc * 0.5 + x[:, t]

                start = (0, x[:, 0])
                return keras.ops.while_loop(lambda t, acc: t < steps, body, start, maximum_iterations=steps)[1]

        _CUSTOM["Cumulative"] = Cumulative
    return _CUSTOM["Cumulative"]


def build(kind: str, vocab: int, length: int, *, seed: int | None = None) -> Any:
    """A fresh Keras model of `kind` taking int32 [N, length] ids below `vocab`."""
    from runtimes.frameworks import import_keras

    if kind not in KINDS:
        raise ValueError(f"unknown zoo model {kind!r} (known: {', '.join(KINDS)})")
    keras = import_keras()
    layers = keras.layers
    keras.utils.set_random_seed(SEEDS.get(kind, SEED) if seed is None else seed)
    inputs = keras.Input((length,), dtype="int32", name="ids")
    init = keras.initializers.RandomNormal(stddev=1.0)
    # every layer named: auto-names carry a per-process counter (embedding_14), which would make
    # layer names, MIL op names and `compare --layers` probes depend on what the process built before
    x = layers.Embedding(vocab, EMBED, embeddings_initializer=init, mask_zero=kind == "masked", name="embedding")(
        inputs
    )
    if kind in ("lstm", "masked"):
        out = layers.Dense(1, activation="sigmoid", name="dense")(layers.LSTM(16, name="lstm")(x))
    elif kind == "bigru":
        x = layers.Bidirectional(layers.GRU(8, name="gru"), name="bidirectional")(x)
        out = layers.Dense(3, activation="softmax", name="dense")(x)
    elif kind == "stacked":
        x = layers.LSTM(8, name="lstm")(layers.LSTM(16, return_sequences=True, name="lstm_seq")(x))
        out = layers.Dense(1, activation="sigmoid", name="dense")(x)
    elif kind == "gru":
        out = layers.Dense(1, activation="sigmoid", name="dense")(layers.GRU(16, name="gru")(x))
    elif kind == "bilstm":  # the fused backward direction: reversed in, outputs flipped back by Keras
        x = layers.Bidirectional(layers.LSTM(8, return_sequences=True, name="lstm"), name="bidirectional")(x)
        out = layers.Dense(2, activation="softmax", name="dense")(layers.GlobalMaxPooling1D(name="pool")(x))
    elif kind == "cnn":
        x = layers.Conv1D(16, 3, activation="relu", name="conv")(x)
        x = layers.Dropout(0.3, name="dropout")(layers.GlobalMaxPooling1D(name="pool")(x))
        out = layers.Dense(1, activation="sigmoid", name="dense")(x)
    elif kind == "fasttext":
        out = layers.Dense(2, activation="softmax", name="dense")(layers.GlobalAveragePooling1D(name="pool")(x))
    elif kind == "attention":
        attended = layers.MultiHeadAttention(num_heads=2, key_dim=8, name="attention")(x, x)
        x = layers.LayerNormalization(name="norm")(layers.Add(name="residual")([x, attended]))
        x = layers.GlobalMaxPooling1D(name="pool")(layers.Dense(16, activation="relu", name="ffn")(x))
        out = layers.Dense(1, activation="sigmoid", name="dense")(x)
    elif kind == "loop":
        out = layers.Dense(1, activation="sigmoid", name="dense")(_cumulative(keras)(name="cumulative")(x))
    else:  # gelu
        x = layers.GlobalAveragePooling1D(name="pool")(x)
        x = layers.Dense(8, activation="gelu", name="ffn")(x)  # exact gelu: TF op Erfc
        out = layers.Dense(1, activation="sigmoid", name="dense")(x)
    return keras.Model(inputs, out, name=f"zoo_{kind}")


def save(kind: str, vocab: int, length: int, *, folder: Path, seed: int | None = None) -> Path:
    """`build` and save as `folder/<kind>.keras` (the file `harness bundle --model` takes)."""
    path = Path(folder) / f"{kind}.keras"
    path.parent.mkdir(parents=True, exist_ok=True)
    build(kind, vocab, length, seed=seed).save(path)
    return path

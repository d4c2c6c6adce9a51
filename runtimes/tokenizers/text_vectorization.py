"""The `py` reference for a text-vectorization spec: the Keras 3 TextVectorization layer itself.

The layer is rebuilt from its own config (`TextVectorization.from_config`) with the spec's
vocabulary, and called on the texts, so standardization, splitting, OOV and padding are the
layer's, with its known quirks (its default standardization lowercases ASCII only,
tensorflow#48551). Texts go in as UTF-8 bytes with lone surrogates passed through
(`surrogatepass`), as the app's UTF-16 strings hold them; TensorFlow strings are bytes.
"""

from __future__ import annotations

from typing import Any

from harness.core.tokenizer.kinds import info
from runtimes.frameworks import import_keras


class TextVectorizationReference:
    def __init__(self, spec: dict[str, Any]) -> None:
        keras = import_keras()
        config = {**spec["config"], "vocabulary": list(spec["vocabulary"])}
        config.pop("vocabulary_size", None)  # get_config() reports it; from_config does not take it
        self.layer = keras.layers.TextVectorization.from_config(config)
        self.length = info(spec).length

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        import tensorflow as tf

        data = tf.constant([t.encode("utf-8", "surrogatepass") for t in texts], dtype=tf.string)
        out = self.layer(data)
        return [[int(i) for i in row] for row in out.numpy().tolist()]

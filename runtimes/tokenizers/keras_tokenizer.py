"""The `py` reference for a keras-tokenizer spec: tf_keras's own Tokenizer and pad_sequences.

Not a rewrite: the spec's `tokenizer` is exactly what `Tokenizer.to_json()` wrote, loaded
back with `tf_keras.preprocessing.text.tokenizer_from_json`, and rows are padded and
truncated by `tf_keras.utils.pad_sequences` with the spec's sequence settings, so the ids
are the ones the team's training code produced. tf_keras imports TensorFlow (~5-10 s): this
module is imported only when a bundle of this kind is tokenized.
"""

from __future__ import annotations

import json
from typing import Any

from harness.core.quiet import native_stderr
from harness.core.tokenizer.kinds import info


class KerasTokenizerReference:
    def __init__(self, spec: dict[str, Any]) -> None:
        with native_stderr():  # TF's import prints CUDA/XLA registration noise on a CPU machine
            from tf_keras.preprocessing.text import tokenizer_from_json
            from tf_keras.utils import pad_sequences

        self._pad = pad_sequences
        self.tokenizer = tokenizer_from_json(json.dumps(spec["tokenizer"]))
        seq = spec["sequence"]
        self.length = info(spec).length
        self.padding = seq.get("padding", "pre")
        self.truncating = seq.get("truncating", "pre")
        self.value = int(seq.get("value", 0))

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        sequences = self.tokenizer.texts_to_sequences(texts)
        rows = self._pad(
            sequences,
            maxlen=self.length,
            dtype="int64",
            padding=self.padding,
            truncating=self.truncating,
            value=self.value,
        )
        return [[int(i) for i in row] for row in rows.tolist()]

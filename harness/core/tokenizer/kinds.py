"""The kinds of preprocessing a bundle's tokenizer.json can hold, read as plain data.

A team arrives with the preprocessing it trained on; the bundle keeps it as it is and says
which kind it is in the file's "format", so every existing bundle (harness-tokenizer/1) reads
unchanged:

- `harness-tokenizer/1`: the harness's own spec (harness/core/tokenizer/reference.py).
- `keras-tokenizer/1`: `{"tokenizer": <tf_keras Tokenizer.to_json(), parsed>, "sequence":
  {"maxlen", "padding", "truncating", "value"}}`: the classic Keras `Tokenizer` +
  `pad_sequences`; ids come from `word_index`, below `num_words` when it is set.
- `text-vectorization/1`: `{"config": <TextVectorization.get_config()>, "vocabulary": [...]}`:
  the Keras layer, whose vocabulary starts with the mask ("") and OOV ("[UNK]") tokens.

Only facts that need no framework are read here (length, the id range, the pad id): the
implementations that apply a spec are the tokenizer runtimes (runtimes/tokenizers), which
import TensorFlow only for the Keras kinds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.core import json_reader

HARNESS = "harness-tokenizer"
KERAS_TOKENIZER = "keras-tokenizer"
TEXT_VECTORIZATION = "text-vectorization"
FORMATS = {
    f"{HARNESS}/1": HARNESS,
    f"{KERAS_TOKENIZER}/1": KERAS_TOKENIZER,
    f"{TEXT_VECTORIZATION}/1": TEXT_VECTORIZATION,
}
SIDES = ("pre", "post")
TV_SPECIAL = ["", "[UNK]"]  # TextVectorization's mask and OOV tokens in "int" mode


class KindError(ValueError):
    """tokenizer.json is not a spec of a known kind, or is missing what its kind needs."""


@dataclass(frozen=True)
class TokenizerInfo:
    """What the harness must know about any tokenizer: every row has `length` ids in [0, vocab_size)."""

    kind: str
    length: int
    vocab_size: int
    pad_id: int
    oov_id: int | None = None  # the id of an unknown word (None: a Keras Tokenizer without oov_token drops it)

    def name_of(self, token_id: int) -> str:
        """An id with its role when it has one ("1 (OOV)"), to read a divergence at a glance."""
        role = "pad" if token_id == self.pad_id else "OOV" if token_id == self.oov_id else ""
        return f"{token_id} ({role})" if role else str(token_id)


def format_of(kind: str) -> str:
    return f"{kind}/1"


def kind_of(spec: dict[str, Any]) -> str:
    fmt = spec.get("format") if isinstance(spec, dict) else None
    if fmt not in FORMATS:
        raise KindError(f"unknown tokenizer format {fmt!r} (known: {', '.join(FORMATS)})")
    return FORMATS[str(fmt)]


def info(spec: dict[str, Any]) -> TokenizerInfo:
    kind = kind_of(spec)
    try:
        if kind == HARNESS:
            return TokenizerInfo(
                kind, int(spec["length"]), len(spec["vocab"]), int(spec["pad_id"]), int(spec["oov_id"])
            )
        if kind == KERAS_TOKENIZER:
            return _keras_info(spec)
        return _tv_info(spec)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
        if isinstance(e, KindError):
            raise
        raise KindError(f"{kind} spec is missing or has a bad field ({type(e).__name__}: {e})") from None


def keras_config(spec: dict[str, Any]) -> dict[str, Any]:
    """The Tokenizer's config with its JSON-string fields (word_index, ...) as to_json() writes them."""
    tok = spec["tokenizer"]
    if not isinstance(tok, dict) or tok.get("class_name") != "Tokenizer" or not isinstance(tok.get("config"), dict):
        raise KindError('keras-tokenizer: "tokenizer" must be the object Tokenizer.to_json() writes')
    return dict(tok["config"])


def keras_word_index(config: dict[str, Any]) -> dict[str, int]:
    raw = config["word_index"]
    try:
        index = json_reader.parse(raw) if isinstance(raw, str) else raw
    except json_reader.JsonProblem as e:
        raise KindError(f"keras-tokenizer: word_index: {e.what}") from None
    if not isinstance(index, dict) or not all(isinstance(i, int) and i >= 1 for i in index.values()):
        raise KindError("keras-tokenizer: word_index must map words to ids >= 1")
    return index


def _keras_info(spec: dict[str, Any]) -> TokenizerInfo:
    config = keras_config(spec)
    seq = spec["sequence"]
    maxlen, value = seq["maxlen"], seq.get("value", 0)
    if not isinstance(maxlen, int) or maxlen < 1:
        raise KindError(f"keras-tokenizer: sequence maxlen must be a whole number >= 1, got {maxlen!r}")
    if seq.get("padding", "pre") not in SIDES or seq.get("truncating", "pre") not in SIDES:
        raise KindError("keras-tokenizer: sequence padding and truncating must be 'pre' or 'post'")
    index = keras_word_index(config)
    num_words = config.get("num_words")
    vocab = int(num_words) if num_words else max(index.values(), default=0) + 1
    if not isinstance(value, int) or not 0 <= value < vocab:
        raise KindError(f"keras-tokenizer: pad value {value!r} is not an id in [0, {vocab})")
    oov = config.get("oov_token")
    return TokenizerInfo(KERAS_TOKENIZER, maxlen, vocab, value, index.get(oov) if oov is not None else None)


def tv_vocabulary_size(vocabulary: list[str]) -> int:
    """Ids the layer can emit: the mask and OOV tokens are added unless the list starts with them."""
    return len(vocabulary) if vocabulary[:2] == TV_SPECIAL else len(vocabulary) + len(TV_SPECIAL)


def _tv_info(spec: dict[str, Any]) -> TokenizerInfo:
    config, vocabulary = spec["config"], spec["vocabulary"]
    if config.get("output_mode", "int") != "int":
        raise KindError(f"text-vectorization: output_mode {config.get('output_mode')!r}; token ids need 'int'")
    length = config.get("output_sequence_length")
    if not isinstance(length, int) or length < 1:
        raise KindError("text-vectorization: output_sequence_length must be set (the model's input length)")
    if not isinstance(vocabulary, list) or not all(isinstance(t, str) for t in vocabulary):
        raise KindError("text-vectorization: vocabulary must be a list of strings")
    return TokenizerInfo(TEXT_VECTORIZATION, length, tv_vocabulary_size(vocabulary), 0, 1)

"""Shared by the bring-your-own-tokenizer tests: small Keras preprocessing built in the test
itself (a tf_keras Tokenizer fitted, a TextVectorization adapted, on a few sentences) and the
JavaScript ports under tests/fixtures/tokenizers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.core.paths import REPO

PORTS = REPO / "tests" / "fixtures" / "tokenizers"
SENTENCES = [
    "A good film, and a great cast.",
    "Don't watch this bad film.",
    "It's a bad, bad movie; the cast isn't good.",
    "the film was good and the cast was great",
    "a dull and tedious movie",
    "what a film",
    "une école du cinéma",
]
NUM_WORDS = 12
MAXLEN = 8
# Each shows one planted bug; together they also pass through a correct port unchanged.
CASES = [
    {"id": "apostrophe", "text": "Don't watch it, it isn't good"},
    {"id": "unknown-word", "text": "a zebra film"},
    {"id": "rare-word", "text": "what a tedious movie"},
    {"id": "longer-than-maxlen", "text": "a good film and a great cast and a bad film and the cast was great"},
    {"id": "double-space", "text": "good  film"},
    {"id": "js-object-keys", "text": "constructor __proto__ toString hasOwnProperty"},
    {"id": "empty", "text": ""},
]


@dataclass(frozen=True)
class KerasFiles:
    tokenizer: Path  # what Tokenizer.to_json() wrote
    sequence: Path  # the app's own copy of the pad_sequences settings
    word_index: dict[str, int]


@dataclass(frozen=True)
class TvFiles:
    config: Path  # layer.get_config() with "vocabulary" naming the vocabulary file
    vocabulary: Path  # layer.get_vocabulary() as a JSON list
    app_config: Path  # what the app loads: the config with the sequence length


def fit_keras(folder: Path, padding: str = "pre", truncating: str = "pre") -> KerasFiles:
    from harness.core.quiet import native_stderr

    with native_stderr():
        from tf_keras.preprocessing.text import Tokenizer

    tok = Tokenizer(num_words=NUM_WORDS, oov_token="<OOV>", filters=Tokenizer().filters + "'")
    tok.fit_on_texts(SENTENCES)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer.json").write_text(tok.to_json(), encoding="utf-8")
    seq = {"maxlen": MAXLEN, "padding": padding, "truncating": truncating, "value": 0}
    (folder / "sequence.json").write_text(json.dumps(seq), encoding="utf-8")
    return KerasFiles(folder / "tokenizer.json", folder / "sequence.json", dict(tok.word_index))


def adapt_text_vectorization(folder: Path) -> TvFiles:
    from runtimes.frameworks import import_keras

    keras = import_keras()
    layer = keras.layers.TextVectorization(max_tokens=30, output_sequence_length=MAXLEN, name="byo_tv")
    layer.adapt(SENTENCES)
    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = [str(t) for t in layer.get_vocabulary()]
    (folder / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    config = {**layer.get_config(), "vocabulary": "vocabulary.json"}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    app = {"standardize": config["standardize"], "output_sequence_length": MAXLEN}
    (folder / "app_config.json").write_text(json.dumps(app), encoding="utf-8")
    return TvFiles(folder / "config.json", folder / "vocabulary.json", folder / "app_config.json")


def write_cases(path: Path, cases: list[dict[str, str]] = CASES) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    return path


def keras_argv(files: KerasFiles, port: str, cases: Path, *extra: str) -> list[str]:
    """`harness tokenize` without a bundle: the team's Tokenizer JSON and the app's JS port."""
    return [
        "tokenize", "--tokenizer", str(files.tokenizer), "--maxlen", str(MAXLEN),
        "--app-tokenizer", f"{PORTS / port}:encode", "--app-asset", str(files.tokenizer),
        "--app-asset", str(files.sequence), "--runtimes", "py,js", "--input", str(cases), *extra,
    ]  # fmt: skip

"""Bring your own preprocessing, the Python side: kinds of tokenizer in a bundle, their
references (the real tf_keras Tokenizer + pad_sequences, the Keras TextVectorization layer),
`harness bundle --tokenizer`, the divergence classes and the shrinking that names them.

The Keras preprocessing is built here from a few sentences (tests/byo_tokenizers.py); no
browser is needed (tests/test_app_tokenizer.py runs the JavaScript ports).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from byo_tokenizers import MAXLEN, NUM_WORDS, PORTS, SENTENCES, KerasFiles, TvFiles, adapt_text_vectorization, fit_keras

from harness import cli
from harness.check.tokenizer.classes import findings
from harness.check.tokenizer.shrink import shrink
from harness.core import bundle
from harness.core.errors import HarnessError
from harness.core.paths import REFERENCE_BUNDLE
from harness.core.tokenizer import kinds as tokenizer_kinds
from harness.data.tokenizer.from_file import read_tokenizer
from runtimes import tokenizers
from runtimes.tokenizers.outcome import Malformed, Thrown

TEXTS = [*SENTENCES, "", "Zebra zebra  ZEBRA!", "x" * 300, "bad\ud800word", "École İ Σ"]


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory: pytest.TempPathFactory) -> KerasFiles:
    return fit_keras(tmp_path_factory.mktemp("keras"), padding="post", truncating="pre")


@pytest.fixture(scope="module")
def tv_files(tmp_path_factory: pytest.TempPathFactory) -> TvFiles:
    return adapt_text_vectorization(tmp_path_factory.mktemp("tv"))


def tokenizer_bundle(folder: Path, spec: dict) -> bundle.Bundle:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / bundle.TOKENIZER).write_text(json.dumps(spec), encoding="ascii")
    return bundle.tokenizer_only(folder)


def test_existing_bundle_is_the_harness_kind_unchanged() -> None:
    b = bundle.load(REFERENCE_BUNDLE)
    assert b.tokenizer_kind == tokenizer_kinds.HARNESS
    tok = b.tokenizer_info()
    assert (tok.length, tok.vocab_size) == (b.tokenizer().length, b.tokenizer().vocab_size)
    assert b.app_tokenizer() is None
    assert tokenizers.tokenize("py", b, ["a good film"]) == [b.tokenizer().encode("a good film")]


def test_keras_reference_is_tf_keras_itself(keras_files: KerasFiles, tmp_path: Path) -> None:
    from tf_keras.preprocessing.text import tokenizer_from_json
    from tf_keras.utils import pad_sequences

    spec = read_tokenizer(keras_files.tokenizer, MAXLEN, "post", truncating="pre")
    assert spec["format"] == "keras-tokenizer/1"
    assert spec["sequence"] == {"maxlen": MAXLEN, "padding": "post", "truncating": "pre", "value": 0}
    b = tokenizer_bundle(tmp_path / "b", spec)
    info = b.tokenizer_info()
    assert (info.kind, info.length, info.vocab_size, info.pad_id) == ("keras-tokenizer", MAXLEN, NUM_WORDS, 0)
    assert info.oov_id == keras_files.word_index["<OOV>"] == 1
    tok = tokenizer_from_json(keras_files.tokenizer.read_text(encoding="utf-8"))
    expected = pad_sequences(tok.texts_to_sequences(TEXTS), maxlen=MAXLEN, padding="post", truncating="pre")
    got = tokenizers.tokenize("py", b, TEXTS)
    assert got == expected.tolist()
    assert all(0 <= i < NUM_WORDS for row in got for i in row)
    with pytest.raises(HarnessError, match="a keras-tokenizer tokenizer"):
        b.tokenizer()  # the harness's own Tokenizer does not pretend to read it


def test_double_encoded_to_json_is_read(keras_files: KerasFiles, tmp_path: Path) -> None:
    twice = tmp_path / "twice.json"  # json.dump(tokenizer.to_json(), f), as many notebooks save it
    twice.write_text(json.dumps(keras_files.tokenizer.read_text(encoding="utf-8")), encoding="utf-8")
    assert read_tokenizer(twice, MAXLEN) == read_tokenizer(keras_files.tokenizer, MAXLEN)


def test_text_vectorization_reference_is_the_layer(tv_files: TvFiles, tmp_path: Path) -> None:
    from runtimes.frameworks import import_keras

    keras = import_keras()
    spec = read_tokenizer(tv_files.config)
    assert spec["format"] == "text-vectorization/1"
    b = tokenizer_bundle(tmp_path / "b", spec)
    vocabulary = json.loads(tv_files.vocabulary.read_text(encoding="utf-8"))
    info = b.tokenizer_info()
    assert (info.kind, info.length, info.vocab_size, info.oov_id) == ("text-vectorization", MAXLEN, len(vocabulary), 1)
    layer = keras.layers.TextVectorization(output_sequence_length=MAXLEN, vocabulary=vocabulary, name="byo_tv_check")
    texts = [t for t in TEXTS if t.isascii() or "\ud800" not in t]
    assert tokenizers.tokenize("py", b, texts) == np.asarray(layer(texts)).tolist()
    # a lone surrogate reaches the layer as UTF-8 with the surrogate passed through, not as an error
    (row,) = tokenizers.tokenize("py", b, ["bad\ud800word"])
    assert row == [1] + [0] * (MAXLEN - 1)


def test_text_vectorization_refuses_what_it_cannot_replay(tv_files: TvFiles, tmp_path: Path) -> None:
    config = json.loads(tv_files.config.read_text(encoding="utf-8"))
    with pytest.raises(HarnessError, match="pads and truncates at the end only"):
        read_tokenizer(tv_files.config, padding="pre")
    bad = tmp_path / "no_vocab.json"
    bad.write_text(json.dumps({**config, "vocabulary": None}), encoding="utf-8")
    with pytest.raises(HarnessError, match='no "vocabulary"'):
        read_tokenizer(bad)
    vocabulary = json.loads(tv_files.vocabulary.read_text(encoding="utf-8"))  # inline this time
    bad.write_text(json.dumps({**config, "vocabulary": vocabulary, "output_mode": "multi_hot"}), encoding="utf-8")
    with pytest.raises(HarnessError, match="output_mode 'multi_hot'"):
        read_tokenizer(bad)


def test_keras_tokenizer_needs_a_length(keras_files: KerasFiles, capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["tokenize", "--tokenizer", str(keras_files.tokenizer), "--runtimes", "py", "text"])
    out, err = capsys.readouterr()
    assert rc == 2 and out == "" and err.count("\n") == 1
    assert "needs --maxlen N" in err


def test_tokenize_with_a_tokenizer_file_and_no_bundle(
    keras_files: KerasFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = cli.main(["tokenize", "--tokenizer", str(keras_files.tokenizer), "--maxlen", "4", "--padding", "post",
                   "--runtimes", "py", "a good film", "zebra"])  # fmt: skip
    out, err = capsys.readouterr()
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    index = keras_files.word_index
    assert rows[0] == {"id": "arg-1", "ids": {"py": [index["a"], index["good"], index["film"], 0]}, "agree": True}
    assert rows[1]["ids"]["py"] == [1, 0, 0, 0]


def small_model(path: Path, vocab: int, length: int) -> Path:
    from runtimes.frameworks import import_keras

    keras = import_keras()
    # Named layers: Keras numbers unnamed ones per process, and other tests read layer names.
    inp = keras.Input((length,), dtype="int32", name="token_ids")
    x = keras.layers.GlobalAveragePooling1D(name="byo_pool")(
        keras.layers.Embedding(vocab, 4, name="byo_embedding")(inp)
    )
    keras.Model(inp, keras.layers.Dense(1, activation="sigmoid", name="byo_dense")(x), name="byo_model").save(path)
    return path


def test_bundle_records_kind_sequence_and_app_tokenizer(keras_files: KerasFiles, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    model = small_model(tmp_path / "m.keras", NUM_WORDS, MAXLEN)
    out = tmp_path / "bundle"
    port = f"{PORTS / 'keras_tokenizer.js'}:encode"
    rc = cli.main(["bundle", "--model", str(model), "--tokenizer", str(keras_files.tokenizer), "--padding", "post",
                   "--app-tokenizer", port, "--app-asset", str(keras_files.tokenizer),
                   "--app-asset", str(keras_files.sequence), "--out", str(out)])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    b = bundle.load(out)
    assert b.tokenizer_kind == "keras-tokenizer" and b.metrics()["tokenizer_kind"] == "keras-tokenizer"
    assert b.tokenizer_spec()["sequence"]["maxlen"] == MAXLEN  # the model's length, no --maxlen needed
    app = b.app_tokenizer()
    assert app is not None and app.module == PORTS / "keras_tokenizer.js" and app.function == "encode"
    assert app.assets == (keras_files.tokenizer.resolve(), keras_files.sequence.resolve())
    assert (
        json.loads((out / "app_tokenizer.json").read_text())["module"] == "tests/fixtures/tokenizers/keras_tokenizer.js"
    )
    # a pyodide runtime runs only the harness's own kind; it says so
    ok = tokenizers.availability("pyodide", b)
    assert not ok.ok and "keras-tokenizer" in ok.reason


@pytest.mark.parametrize(
    "vocab,length,extra,message",
    [
        (NUM_WORDS - 1, MAXLEN, [], "embedding has 11 rows but the tokenizer emits ids up to 11"),
        (NUM_WORDS, MAXLEN, ["--maxlen", "5"], "does not take the tokenizer's ids (expected [None, 5])"),
    ],
)
def test_bundle_refuses_a_model_the_tokenizer_does_not_fit(keras_files: KerasFiles, tmp_path: Path, vocab: int,
                                                           length: int, extra: list[str], message: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    model = small_model(tmp_path / "m.keras", vocab, length)
    rc = cli.main(["bundle", "--model", str(model), "--tokenizer", str(keras_files.tokenizer), *extra,
                   "--out", str(tmp_path / "b")])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and message in err, err


def test_id_range_follows_num_words(keras_files: KerasFiles, tmp_path: Path) -> None:
    spec = read_tokenizer(keras_files.tokenizer, MAXLEN)
    spec["tokenizer"]["config"]["num_words"] = None  # now rare words keep their index...
    b = tokenizer_bundle(tmp_path / "b", spec)
    assert b.tokenizer_info().vocab_size == max(keras_files.word_index.values()) + 1  # ...and the range follows


# divergence classes, on outcomes made by hand --------------------------------------------


def _info() -> tokenizer_kinds.TokenizerInfo:
    return tokenizer_kinds.TokenizerInfo("keras-tokenizer", 4, 10, 0, 1)


@pytest.mark.parametrize(
    "got,names,detail",
    [
        ([0, 0, 3, 1], [], ""),
        ([0, 0, 3, 0], ["positions"], "at positions [3]: py [1 (OOV)], js [0 (pad)]"),
        ([0, 0, 3, 12], ["out-of-range", "positions"], "ids 12 outside [0, 10)"),
        ([0, 3, 1], ["length", "positions"], "3 ids, py gave 4"),
        (Thrown("RangeError: Invalid array length"), ["exception (RangeError)"], "RangeError: Invalid array length"),
        (Thrown("thrown string: oops"), ["exception (Error)"], "thrown string: oops"),
        (Malformed("returned undefined, not an array of integers"), ["malformed"], "returned undefined"),
    ],
)
def test_each_divergence_class_is_named(got, names: list[str], detail: str) -> None:
    found = findings({"py": [0, 0, 3, 1], "js": got}, "py", _info())
    assert [f.name for f in found] == names
    assert all(f.runtime == "js" for f in found)
    if detail:
        assert detail in found[0].detail


def test_shrinking_finds_the_shortest_input_of_the_class() -> None:
    seed = "It's a long review, and nobody's sure what it doesn't say."
    minimal = shrink(seed, lambda t: "'" in t and len(t.split()) >= 2)
    assert minimal is not None and len(minimal) == 3 and "'" in minimal and len(minimal.split()) == 2
    # a condition on the token count shrinks to single-character tokens
    minimal = shrink(seed, lambda t: len(t.split()) > 5)
    assert minimal is not None and len(minimal.split()) == 6 and len(minimal) == 11
    assert shrink(seed, lambda t: False) is None  # the seed itself does not show it: not shrunk

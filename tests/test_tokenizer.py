"""The reference tokenizer: unit tests on the hard cases, Hypothesis properties, linear cost.

The spec is built once per module (building the fold table scans all of Unicode, a few
seconds) and every variant (lengths, truncation, padding, vocabulary) is derived from it.
"""

from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.tokenizer.reference import APOSTROPHE, SPEC_FORMAT, Tokenizer, TokenizerSpecError
from harness.data.tokenizer.from_corpus import OOV, PAD, build_spec, build_vocab

TRAIN = [
    "The Rock is destined to be the 21st Century's new ''Conan''.",
    "I don't like this movie, it is a bad bad film.",
    "A great film: great acting, great café scenes.",
    "Straße movie! Naïve but great.",
    "I don't think the film is bad; it is great.",
]
LENGTH = 8


@pytest.fixture(scope="module")
def spec() -> dict:
    return build_spec(TRAIN, length=LENGTH, max_vocab=50, min_count=1)


@pytest.fixture(scope="module")
def tok(spec: dict) -> Tokenizer:
    return Tokenizer(spec)


def _variant(spec: dict, **changes) -> Tokenizer:
    return Tokenizer({**spec, **changes})


@pytest.fixture(scope="module")
def variants(spec: dict) -> list[Tokenizer]:
    """Every truncation x padding combination, several lengths, and swapped special ids."""
    out = [
        _variant(spec, length=length, truncation=trunc, padding=pad)
        for length, trunc, pad in [(8, "post", "post"), (3, "pre", "pre"), (1, "post", "pre"), (5, "pre", "post")]
    ]
    out.append(_variant(spec, pad_id=1, oov_id=0, vocab=[OOV, PAD, *spec["vocab"][2:]], length=4))
    return out


def _separator(cp: int, spec: dict) -> bool:
    ascii_word = "0123456789abcdefghijklmnopqrstuvwxyz" + APOSTROPHE
    if cp < 0x80:
        return chr(cp) not in ascii_word
    return any(lo <= cp <= hi for lo, hi in spec["separators"])


# ---------------------------------------------------------------------------------------
# Unit tests: what a token is
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # ASCII: lowercased, every non-[0-9a-z'] character separates
        ("Hello WORLD MiXeD", ["hello", "world", "mixed"]),
        ("a_b-c.d,e/f\tg\nh", ["a", "b", "c", "d", "e", "f", "g", "h"]),
        ("21st century 2002", ["21st", "century", "2002"]),
        ("", []),
        ("  \t\n ", []),
        # apostrophes: kept inside, stripped at both ends; every variant spells one '
        ("don't", ["don't"]),
        ("''Conan''", ["conan"]),
        ("don\u2019t", ["don't"]),  # ’ right single quotation mark
        ("\u2018quoted\u2019", ["quoted"]),
        ("don\u02bct isn\uff07t it`s rock\u00b4n", ["don't", "isn't", "it's", "rock'n"]),
        ("rock 'n' roll", ["rock", "n", "roll"]),
        ("the dogs' bone", ["the", "dogs", "bone"]),
        ("'''", []),
        ("a''b", ["a''b"]),
        # accents are stripped, so NFC and NFD agree
        ("café", ["cafe"]),
        ("cafe\u0301", ["cafe"]),
        ("NAÏVE Ångström", ["naive", "angstrom"]),
        ("Tiê\u0301ng Việt", ["tieng", "viet"]),
        # case folding beyond ASCII
        ("Straße STRASSE STRAẞE", ["strasse", "strasse", "strasse"]),
        ("ΟΔΟΣ οδος οδοσ", ["οδοσ", "οδοσ", "οδοσ"]),  # final sigma folds to σ
        ("İstanbul ISTANBUL", ["istanbul", "istanbul"]),  # dotted İ -> i (the dot is a mark)
        ("\u212a\u212b", ["ka"]),  # Kelvin sign, Angstrom sign
        ("МОСКВА Москва", ["москва", "москва"]),
        # compatibility folding: ligatures, fullwidth, super/subscripts, math letters
        ("\ufb01lm \ufb02ow \ufb00 \ufb03", ["film", "flow", "ff", "ffi"]),
        ("ＨＥＬＬＯ，ｗｏｒｌｄ！１２３", ["hello", "world", "123"]),
        ("x\u00b2 H\u2082O", ["x2", "h2o"]),
        ("\U0001d400\U0001d401\U0001d402", ["abc"]),
        # digits of other scripts become ASCII digits
        ("\u0663\u0664 \u06f5 \u0967\u0968 a\u0663", ["34", "5", "12", "a3"]),
        # emoji (with skin tones, ZWJ sequences, variation selectors, flags, keycaps) separate
        ("good\U0001f44dbad", ["good", "bad"]),
        ("good\U0001f44d\U0001f3fdbad", ["good", "bad"]),
        ("a\U0001f468\u200d\U0001f469\u200d\U0001f467b", ["a", "b"]),
        ("love\u2764\ufe0flove", ["love", "love"]),
        ("fr\U0001f1eb\U0001f1f7fr", ["fr", "fr"]),
        ("1\ufe0f\u20e3x", ["1", "x"]),
        # invisible joiners join (they are removed); spaces of every kind separate
        ("foo\u200dbar", ["foobar"]),
        ("foo\u200cbar beau\u00adtiful word\u2060joiner bom\ufeffbom", ["foobar", "beautiful", "wordjoiner", "bombom"]),
        ("foo\u200bbar", ["foo", "bar"]),  # ZWSP separates
        ("a\u00a0b\u3000c\u2028d\u0085e\u202ff\u1680g", ["a", "b", "c", "d", "e", "f", "g"]),
        # punctuation of other scripts separates
        ("日本語です。テスト", ["日本語です", "テスト"]),
        (
            "\u0645\u0631\u062d\u0628\u0627\u060c \u0639\u0627\u0644\u0645\u061f",
            ["\u0645\u0631\u062d\u0628\u0627", "\u0639\u0627\u0644\u0645"],
        ),
        ("«quoted» ¿qué? ¡sí!", ["quoted", "que", "si"]),
        # lone surrogates (broken UTF-16) are separators and never raise
        ("a\ud800b\udfffc", ["a", "b", "c"]),
        ("\ud83d\udc4d", []),  # a surrogate *pair* spelled as two Python code points
        ("x\udcffy", ["x", "y"]),  # surrogateescape of a bad byte
        # characters added after Unicode 14 (unknown to CPython 3.11) are word characters
        ("\U0001e5d0\U0001e4d0", ["\U0001e5d0\U0001e4d0"]),
        ("abc\U0001e5d0def \U0001e4d0", ["abc\U0001e5d0def", "\U0001e4d0"]),
    ],
)
def test_tokens(tok: Tokenizer, text: str, tokens: list[str]) -> None:
    assert tok.tokens(text) == tokens


def test_nfc_and_nfd_encode_alike(tok: Tokenizer) -> None:
    for text in ["café", "Naïve Ångström crème brûlée", "Việt Nam", "Ελληνικά ά", "йод Ёлка"]:
        nfc, nfd = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
        assert nfc != nfd
        assert tok.tokens(nfc) == tok.tokens(nfd)
        assert tok.encode(nfc) == tok.encode(nfd)


def test_new_characters_are_not_folded(spec: dict) -> None:
    # U+1E5D0 (Unicode 16) and U+1E4D0 (Unicode 15) are unassigned in CPython 3.11's database:
    # the frozen table says nothing about them, so every runtime treats them alike.
    for ch in ("\U0001e5d0", "\U0001e4d0"):
        assert str(ord(ch)) not in spec["fold"]
        assert not _separator(ord(ch), spec)
    assert spec["unicode_version_of_builder"] == unicodedata.unidata_version


def test_encode_known_unknown_and_padding(tok: Tokenizer, spec: dict) -> None:
    vocab = spec["vocab"]
    assert vocab[:2] == [PAD, OOV] and spec["pad_id"] == 0 and spec["oov_id"] == 1
    ids = tok.encode("Great FILM zzzunknownzzz")
    assert ids == [vocab.index("great"), vocab.index("film"), 1, 0, 0, 0, 0, 0]
    assert tok.encode("") == [0] * LENGTH
    assert tok.encode("zzz qqq") == [1, 1] + [0] * (LENGTH - 2)


def test_special_tokens_spelled_in_text_never_give_their_ids(tok: Tokenizer, spec: dict) -> None:
    assert tok.tokens("<pad> <oov>") == ["pad", "oov"]
    assert tok.encode("<pad> <oov> <PAD>") == [1, 1, 1] + [0] * (LENGTH - 3)
    # Even if a vocabulary spelled its specials as plain words, text cannot reach their ids by lookup.
    words = _variant(spec, vocab=["pad", "oov", "good"], length=4)
    assert words.encode("pad good oov PAD") == [1, 2, 1, 1]
    swapped = _variant(spec, vocab=["oov", "pad", "good"], pad_id=1, oov_id=0, length=4)
    assert swapped.encode("pad good oov") == [0, 2, 0, 1]


@pytest.mark.parametrize(
    ("truncation", "padding", "text", "expected"),
    [
        ("post", "post", "one two three four five", [2, 3, 4]),
        ("pre", "post", "one two three four five", [4, 5, 6]),
        ("post", "pre", "one two three four five", [2, 3, 4]),
        ("pre", "pre", "one two three four five", [4, 5, 6]),
        ("post", "post", "one two", [2, 3, 0]),
        ("post", "pre", "one two", [0, 2, 3]),
        ("pre", "post", "two", [3, 0, 0]),
        ("pre", "pre", "two", [0, 0, 3]),
        ("post", "post", "one two three", [2, 3, 4]),
        ("pre", "pre", "one two three", [2, 3, 4]),
        ("post", "post", "one six two", [2, 1, 3]),
        ("pre", "pre", "", [0, 0, 0]),
    ],
)
def test_truncation_and_padding(spec: dict, truncation: str, padding: str, text: str, expected: list[int]) -> None:
    vocab = [PAD, OOV, "one", "two", "three", "four", "five"]
    tokenizer = _variant(spec, vocab=vocab, length=3, truncation=truncation, padding=padding)
    assert tokenizer.encode(text) == expected
    assert tokenizer.encode_batch([text, text]) == [expected, expected]


def test_pad_id_is_taken_from_the_spec(spec: dict) -> None:
    tokenizer = _variant(spec, vocab=["x", "y", "one", "<pad>"], pad_id=3, oov_id=0, length=4)
    assert tokenizer.encode("one zzz") == [2, 0, 3, 3]


def test_vocabulary(spec: dict, tok: Tokenizer) -> None:
    vocab = spec["vocab"]
    assert vocab[:2] == [PAD, OOV]
    assert len(vocab) == len(set(vocab))
    counts: dict[str, int] = {}
    for text in TRAIN:
        for t in tok.tokens(text):
            counts[t] = counts.get(t, 0) + 1
    # every training token, most frequent first, ties by text; each is its own single token
    assert vocab[2:] == sorted(counts, key=lambda t: (-counts[t], t))
    assert all(tok.tokens(word) == [word] for word in vocab[2:])
    assert vocab[2] == "great" and "don't" in vocab and "cafe" in vocab and "strasse" in vocab


def test_build_vocab_limits(spec: dict) -> None:
    texts = ["b b b a a c", "a d"]
    assert build_vocab(texts, spec, max_size=100, min_count=1) == [PAD, OOV, "a", "b", "c", "d"]
    assert build_vocab(texts, spec, max_size=100, min_count=2) == [PAD, OOV, "a", "b"]
    assert build_vocab(texts, spec, max_size=3, min_count=1) == [PAD, OOV, "a"]


# ---------------------------------------------------------------------------------------
# The spec: JSON data, closed fold table, validated on load
# ---------------------------------------------------------------------------------------


def test_spec_round_trips_through_json(spec: dict, tok: Tokenizer, tmp_path: Path) -> None:
    for ensure_ascii in (True, False):
        again = json.loads(json.dumps(spec, ensure_ascii=ensure_ascii))
        assert again == spec
        reloaded = Tokenizer(again)
        for text in TRAIN + ["ΟΔΟΣ ﬁlm ＨＩ \ud800 \U0001e5d0 don’t 👍🏽 <pad>"]:
            assert reloaded.encode(text) == tok.encode(text)
            assert reloaded.tokens(text) == tok.tokens(text)
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    assert Tokenizer.from_file(str(path)).encode(TRAIN[0]) == tok.encode(TRAIN[0])


def test_fold_table_is_closed(spec: dict) -> None:
    fold = spec["fold"]
    assert len(fold) > 1000
    keys = {int(k) for k in fold}
    for key, value in fold.items():
        assert key == str(int(key))
        assert not 0xD800 <= int(key) <= 0xDFFF
        assert isinstance(value, str)
        assert all(ord(c) not in keys for c in value), f"U+{int(key):04X} -> {value!r} is not final"
        assert value != chr(int(key))


def test_fold_table_ascii(spec: dict) -> None:
    fold = spec["fold"]
    for c in "0123456789abcdefghijklmnopqrstuvwxyz'":
        assert str(ord(c)) not in fold
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        assert fold[str(ord(c))] == c.lower()


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"format": "harness-tokenizer/0"}, "format"),
        ({"format": None}, "format"),
        ({"truncation": "middle"}, "truncation"),
        ({"padding": "both"}, "padding"),
        ({"pad_id": 10_000}, "pad_id"),
        ({"oov_id": -1}, "oov_id"),
        ({"length": 0}, "length"),
    ],
)
def test_rejects_a_bad_spec(spec: dict, changes: dict, match: str) -> None:
    with pytest.raises(TokenizerSpecError, match=match):
        Tokenizer({**spec, **changes})


def test_rejects_a_spec_without_format(spec: dict) -> None:
    without = {k: v for k, v in spec.items() if k != "format"}
    with pytest.raises(TokenizerSpecError, match=SPEC_FORMAT):
        Tokenizer(without)


# ---------------------------------------------------------------------------------------
# Properties on arbitrary text, lone surrogates included
# ---------------------------------------------------------------------------------------

ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())  # Cs included
TRICKY = list(
    "Aa'’ʼ`´ \t\n\u00a0\u200b\u200c\u200d\u00ad\ufe0f\ufeffßẞΣσςİıﬁＡ１٣éE\u0301\u0300\U0001f44d\U0001f3fd"
    "\ud800\udfff\ud83d\U0001e5d0\U0001e4d0日本。<>-_"
) + ["<pad>", "<oov>", "great", "film", "don't", "bad"]
TEXTS = st.one_of(
    st.text(alphabet=ANY_CHAR, max_size=300),
    st.lists(st.one_of(ANY_CHAR, st.sampled_from(TRICKY)), max_size=80).map("".join),
)
PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(text=TEXTS)
def test_ids_in_range_length_fixed_never_raises(variants: list[Tokenizer], text: str) -> None:
    for tokenizer in variants:
        ids = tokenizer.encode(text)
        assert len(ids) == tokenizer.length == tokenizer.spec["length"]
        assert all(type(i) is int and 0 <= i < tokenizer.vocab_size for i in ids)


@PROPERTY
@given(text=TEXTS)
def test_deterministic_and_json_stable(spec: dict, variants: list[Tokenizer], text: str) -> None:
    fresh = Tokenizer(json.loads(json.dumps(spec)))
    assert fresh.encode(text) == variants[0].encode(text) == variants[0].encode(text)
    assert variants[1].encode_batch([text, text]) == [variants[1].encode(text)] * 2


@PROPERTY
@given(text=TEXTS)
def test_tokens_are_clean_and_final(spec: dict, tok: Tokenizer, text: str) -> None:
    fold = {int(k): v for k, v in spec["fold"].items()}
    tokens = tok.tokens(text)
    for token in tokens:
        assert token and token[0] != APOSTROPHE and token[-1] != APOSTROPHE
        assert not any(_separator(ord(c), spec) for c in token), token
        assert not any("A" <= c <= "Z" for c in token), token
        assert token.translate(fold) == token  # already folded
    # tokenizing the tokens again changes nothing
    assert tok.tokens(" ".join(tokens)) == tokens


@PROPERTY
@given(text=TEXTS)
def test_encode_is_truncated_lookup_of_tokens(variants: list[Tokenizer], text: str) -> None:
    for tokenizer in variants:
        lookup = {w: i for i, w in enumerate(tokenizer.vocab) if i not in (tokenizer.pad_id, tokenizer.oov_id)}
        full = [lookup.get(t, tokenizer.oov_id) for t in tokenizer.tokens(text)]
        n = tokenizer.length
        kept = full[:n] if tokenizer.truncation == "post" else full[max(0, len(full) - n) :]
        pad = [tokenizer.pad_id] * (n - len(kept))
        assert tokenizer.encode(text) == (kept + pad if tokenizer.padding == "post" else pad + kept)


@PROPERTY
@given(text=st.text(alphabet=st.characters(codec="ascii"), max_size=200))
def test_ascii_tokens_are_lowercase_alnum_runs(tok: Tokenizer, text: str) -> None:
    # On ASCII the rule is simple enough to restate independently (a backtick spells an apostrophe).
    runs, current = [], ""
    for c in text.lower().replace("`", APOSTROPHE):
        if c.isascii() and (c.isalnum() or c == APOSTROPHE):
            current += c
        else:
            runs.append(current)
            current = ""
    runs.append(current)
    assert tok.tokens(text) == [r.strip(APOSTROPHE) for r in runs if r.strip(APOSTROPHE)]


# ---------------------------------------------------------------------------------------
# Linear cost (generous bounds: a quadratic path would blow them by far; not a benchmark)
# ---------------------------------------------------------------------------------------

REVIEW = "The Rock is destined to be the 21st Century's new ''Conan'' — café Straße ΟΔΟΣ 日本語 👍🏽 don’t! \ud800 "


def _best_seconds(tokenizer: Tokenizer, text: str, runs: int = 2) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        ids = tokenizer.encode(text)
        best = min(best, time.perf_counter() - start)
        assert len(ids) == tokenizer.length
    return best


def _sized(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


@pytest.mark.parametrize("unit", [REVIEW, "'", "a", " ", "\U0001f44d", "É", "a "], ids=repr)
def test_one_megabyte_review_is_fast(spec: dict, unit: str) -> None:
    text = _sized(unit, 1 << 20)
    for truncation in ("post", "pre"):  # "pre" must scan the whole text
        assert _best_seconds(_variant(spec, truncation=truncation), text) < 2.0


def test_cost_grows_linearly(spec: dict) -> None:
    pre = _variant(spec, truncation="pre")  # keeps the last tokens, so nothing stops early
    small = _best_seconds(pre, _sized(REVIEW, 1 << 20), runs=3)
    large = _best_seconds(pre, _sized(REVIEW, 4 << 20), runs=3)
    assert large < 8.0
    # Quadratic would be 16x; the margin absorbs a busy machine (best of 3 each).
    assert large / max(small, 1e-3) < 10, f"1 MB {small:.3f}s, 4 MB {large:.3f}s: not linear"

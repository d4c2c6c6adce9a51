"""Labelled review corpora: the built-in movie-review set and user files (JSONL, CSV).

The built-in corpus is the Pang & Lee sentence-polarity set as shipped inside the
`vaderSentiment==3.3.2` sdist on PyPI (the only registry reachable here), fetched with pip,
checked against a pinned sha256, and extracted once into the cache.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.core import atomic, json_reader
from harness.core.bundle import Bundle
from harness.core.errors import HarnessError, where
from harness.core.hashing import file_sha256
from harness.core.paths import cache_dir

BUILTIN = "movie-reviews"
SDIST = "vaderSentiment-3.3.2.tar.gz"
SDIST_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
INNER_ARCHIVE = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
MEMBER = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
SPLITS = ("train", "validation", "test")
LABELS = {
    "1": 1,
    "0": 0,
    "pos": 1,
    "neg": 0,
    "positive": 1,
    "negative": 0,
    "true": 1,
    "false": 0,
}


@dataclass(frozen=True)
class Review:
    id: str
    text: str
    label: int  # 1 = positive

    @property
    def split(self) -> str:
        return split_of(self.id)


def split_of(review_id: str) -> str:
    """80/10/10 by a hash of the id alone, so code changes never move a review."""
    bucket = int(hashlib.sha256(review_id.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "train" if bucket < 8 else "validation" if bucket == 8 else "test"


def load(name_or_path: str) -> list[Review]:
    """The built-in corpus by name, or a user corpus from a .jsonl or .csv file."""
    if name_or_path in (BUILTIN, "builtin"):
        return parse_movie_reviews(builtin_file())
    path = Path(name_or_path)
    if not path.is_file():
        raise HarnessError(f"{path}: corpus not found (expected {BUILTIN!r} or a .jsonl/.csv file)")
    if path.suffix == ".jsonl":
        rows = list(_read_jsonl(path))
    elif path.suffix == ".csv":
        rows = list(_read_csv(path))
    else:
        raise HarnessError(f"{path}: unknown corpus format (expected a .jsonl or .csv file)")
    if not rows:
        raise HarnessError(f"{path}: corpus is empty (expected at least one labelled review)")
    _check_unique_ids(path, rows)
    return [review for _, review in rows]


def by_split(reviews: Iterable[Review]) -> dict[str, list[Review]]:
    out: dict[str, list[Review]] = {s: [] for s in SPLITS}
    for r in reviews:
        out[r.split].append(r)
    return out


def builtin_file() -> Path:
    """The extracted movie-review file, fetching and verifying the sdist on first use."""
    root = cache_dir() / "corpora"
    extracted = root / "movieReviewSnippets_GroundTruth.txt"
    if extracted.is_file():
        return extracted
    sdist = root / SDIST
    if not sdist.is_file():
        _fetch_sdist(sdist)
    actual = file_sha256(sdist)
    if actual != SDIST_SHA256:
        raise HarnessError(f"{sdist}: sha256 {actual} does not match the pinned {SDIST_SHA256}; delete it to re-fetch")
    with tarfile.open(sdist) as outer:
        inner_bytes = outer.extractfile(INNER_ARCHIVE).read()  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        data = inner.extractfile(MEMBER).read()  # type: ignore[union-attr]
    atomic.write_bytes(extracted, data)
    return extracted


def _fetch_sdist(dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary=:all:",
            "vaderSentiment==3.3.2",
            "-d",
            tmp,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        got = Path(tmp) / SDIST
        if proc.returncode != 0 or not got.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise HarnessError(f"could not fetch {SDIST} from PyPI with pip: {last}")
        atomic.write_bytes(dest, got.read_bytes())


def parse_movie_reviews(path: Path) -> list[Review]:
    """`id TAB mean-rating TAB text`; label = rating > 0, rating 0 dropped."""
    reviews = []
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise HarnessError(
                f"{where(path, lineno)}: expected 3 tab-separated fields (id, rating, text), got {len(parts)}"
            )
        rid, rating_text, text = parts
        try:
            rating = float(rating_text)
        except ValueError:
            raise HarnessError(f"{where(path, lineno)}: expected a numeric rating, got {rating_text!r}") from None
        if rating != 0:
            reviews.append(Review(f"mr-{rid}", text, int(rating > 0)))
    if not reviews:
        raise HarnessError(f"{path}: corpus is empty (expected labelled reviews)")
    return reviews


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    """Decoded lines with 1-based numbers; a bad byte names its line."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise HarnessError(f"{path}: cannot read ({e.strerror})") from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 BOM (Excel, Notepad) is not part of line 1
    for lineno, chunk in enumerate(raw.splitlines(), start=1):
        try:
            yield lineno, chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            raise HarnessError(f"{where(path, lineno)}: not valid UTF-8 (byte {e.start + 1} of the line)") from None


def _label(path: Path, lineno: int, value: object) -> int:
    key = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if isinstance(value, float) and value in (0.0, 1.0):
        key = str(int(value))
    if key not in LABELS:
        raise HarnessError(
            f"{where(path, lineno)}: unknown label {value!r} (expected one of 0, 1, neg, pos, negative, positive)"
        )
    return LABELS[key]


def _read_jsonl(path: Path) -> Iterable[tuple[int, Review]]:
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        obj = json_reader.loads(line, path, line=lineno)
        if not isinstance(obj, dict) or "text" not in obj or "label" not in obj:
            raise HarnessError(f"{where(path, lineno)}: expected an object with 'text' and 'label'")
        if not isinstance(obj["text"], str):
            raise HarnessError(f"{where(path, lineno)}: 'text' must be a string")
        rid = str(obj["id"]) if obj.get("id") is not None else f"{path.stem}-{lineno}"
        yield lineno, Review(rid, obj["text"], _label(path, lineno, obj["label"]))


def _read_csv(path: Path) -> Iterable[tuple[int, Review]]:
    text = "\n".join(line for _, line in _lines(path))
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    missing = [c for c in ("text", "label") if c not in columns]
    if missing:
        raise HarnessError(
            f"{where(path, 1)}: missing column(s) {', '.join(missing)} (expected a header with 'text' "
            f"and 'label', got {columns})"
        )
    for row in reader:
        lineno = reader.line_num
        if row.get("text") is None or row.get("label") is None:
            raise HarnessError(f"{where(path, lineno)}: expected values for 'text' and 'label'")
        rid = row.get("id") or f"{path.stem}-{lineno}"
        yield lineno, Review(rid, row["text"], _label(path, lineno, row["label"]))


def _check_unique_ids(path: Path, rows: list[tuple[int, Review]]) -> None:
    seen: dict[str, int] = {}
    for lineno, r in rows:
        if r.id in seen:
            raise HarnessError(
                f"{where(path, lineno)}: duplicate review id {r.id!r} (first on line {seen[r.id]}; ids must be unique)"
            )
        seen[r.id] = lineno


def corpus_hash(reviews: Iterable[Review]) -> str:
    h = hashlib.sha256()
    for r in reviews:
        h.update(json.dumps([r.id, r.text, r.label], ensure_ascii=False).encode("utf-8") + b"\n")
    return h.hexdigest()


def held_out(bundle: Bundle) -> list[Review]:
    """The test split of the corpus the bundle was trained on (the built-in one by default)."""
    name = bundle.metrics().get("corpus", {}).get("name", BUILTIN)
    try:
        reviews = load(name)
    except HarnessError as e:
        raise HarnessError(f"cannot load the bundle's corpus {name!r} for the held-out split: {e}") from None
    test = by_split(reviews)["test"]
    if not test:
        raise HarnessError(f"corpus {name!r} has no reviews in the test split")
    return test

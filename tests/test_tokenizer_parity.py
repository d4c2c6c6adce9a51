"""Tokenizer parity: `py`, `pyodide` (the same file in Chromium) and `js` (the web app's module).

Identical ids, not similar ones: on the held-out split, on every curated hard case
(golden/hard_cases.jsonl, plus a ~100 KB input built here), on spec variants (truncation and
padding pre/post, short lengths) and on arbitrary text from Hypothesis, lone surrogates
included. One Chromium and one Pyodide per test process; texts go in batches.

Declared divergence (input representation, not tokenization): a Python `str` may hold a high
surrogate followed by a low surrogate as two separate code points. No UTF-16 string (JS) and
no JSON decoder (which is how texts reach Pyodide and the web app) can keep them apart: they
become one astral code point there. Texts read from files or JSON never have that shape, so
the property tests texts as JSON carries them, and `test_declared_divergence_*` pins the
exact behaviour of that one input class.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.check.tokenizer.ids import IdDiff, diff_ids
from harness.core import bundle as bundle_mod
from harness.core import cases
from harness.core.bundle import Bundle
from harness.core.hashing import file_sha256
from harness.core.paths import GOLDEN
from harness.data import corpus
from harness.run import tokenize
from runtimes.tokenizers import browser as tokenizer_browser


def tokenize_all(b, selection: str, texts):
    """Ids per tokenizer runtime; a runtime that fails here fails the test with its reason."""
    results, failures = tokenize.tokenize_all(b, selection.split(","), texts)
    assert not failures, "; ".join(str(f) for f in failures.values())
    return results


pytestmark = pytest.mark.browser

RUNTIMES = "py,pyodide,js"
HARD_CASES = GOLDEN / "hard_cases.jsonl"

for _rid in ("js", "pyodide"):
    _ok = tokenizer_browser.availability(_rid)
    if not _ok.ok:
        print(f"tokenizer runtime {_rid} unavailable: {_ok.reason}; {_ok.install}", file=sys.stderr)
        pytest.skip(f"tokenizer runtime {_rid} unavailable: {_ok.reason}", allow_module_level=True)


def json_carried(text: str) -> str:
    """The text as JSON (and so the browser) carries it: surrogate code point pairs joined."""
    return json.loads(json.dumps(text))


def long_case() -> str:
    """~100 KB: every hard feature repeated, so truncation 'post' must stop early, 'pre' must not."""
    unit = (
        "ΟΔΥΣΣΕΥΣ Straße ﬁlm café cafe\u0301 １０ ٣ 👨\u200d👩\u200d👧 don\u2019t \ud800 \U0001e5d0 gr\u200beat &amp; "
    )
    return (unit * (100_000 // len(unit) + 1))[:100_000]


def assert_identical(b: Bundle, texts: list[str], ids: list[str] | None = None) -> dict[str, list[list[int]]]:
    results = tokenize_all(b, RUNTIMES, texts)
    found = diff_ids(results)
    names = ids or [f"text {i}" for i in range(len(texts))]
    report = "\n".join(d.describe(names[d.index]) + f"  text={texts[d.index][:80]!r}" for d in found[:10])
    assert not found, f"{len(found)} divergence(s) over {len(texts)} texts:\n{report}"
    vocab = b.tokenizer().vocab_size
    assert all(0 <= i < vocab for rows in results.values() for row in rows for i in row)
    return results


def variant_bundle(tmp: Path, reference: Bundle, **changes: object) -> Bundle:
    """A bundle holding only a modified tokenizer.json (enough for tokenizer runtimes)."""
    spec = json.loads(reference.tokenizer_path.read_text(encoding="utf-8"))
    spec.update(changes)
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / bundle_mod.TOKENIZER).write_text(json.dumps(spec), encoding="utf-8")
    entries = bundle_mod.file_entries(tmp, [bundle_mod.TOKENIZER])
    return Bundle(tmp, {"bundle_hash": bundle_mod.hash_of_entries(entries), "files": entries})


@pytest.fixture(scope="module")
def ref() -> Bundle:
    return bundle_mod.load()


@pytest.fixture(scope="module")
def hard() -> list[cases.Case]:
    return cases.read_cases(HARD_CASES)


def test_held_out_split_is_identical(ref):
    test = corpus.by_split(corpus.load(corpus.BUILTIN))["test"]
    assert len(test) > 1000
    results = assert_identical(ref, [r.text for r in test], [r.id for r in test])
    assert len(results["js"]) == len(test)


def test_hard_cases_are_identical(ref, hard):
    texts = [c.text for c in hard] + [long_case()]
    assert_identical(ref, texts, [c.id for c in hard] + ["hard-long-100kb"])


def test_hard_cases_file_is_curated(hard):
    ids = [c.id for c in hard]
    assert 40 <= len(ids) <= 80 and len(set(ids)) == len(ids)
    assert all(i.startswith("hard-") for i in ids)
    covered = " ".join(ids)
    for topic in ("final-sigma", "dotted-capital-i", "sharp-s", "ligatures", "nfc", "nfd", "fullwidth", "digits",
                  "emoji-zwj", "skin-tones", "zero-width", "arabic-rlm", "hebrew-lrm", "lone-high-surrogate",
                  "unicode15", "unicode16", "html-entities", "apostrophes-curly", "mixed-scripts", "empty",
                  "whitespace-only"):  # fmt: skip
        assert topic in covered, f"no hard case about {topic}"
    raw = HARD_CASES.read_bytes()
    assert len(raw) < 20_000, "keep the file small: build long inputs in code"
    assert (
        json.loads(next(line for line in raw.splitlines() if b"hard-lone-high-surrogate" in line))["text"]
        == "bad\ud800word"
    )


def test_spec_variants_are_identical(ref, hard, tmp_path):
    texts = [c.text for c in hard] + [long_case(), "a b c d e", ""]
    for i, (truncation, padding, length) in enumerate([("pre", "pre", 48), ("pre", "post", 3), ("post", "pre", 1)]):
        b = variant_bundle(tmp_path / str(i), ref, truncation=truncation, padding=padding, length=length)
        results = assert_identical(b, texts)
        assert {len(row) for row in results["js"]} == {length}


def test_pyodide_runs_the_reference_file_unchanged(ref):
    facts = tokenizer_browser.load_facts("pyodide", ref)
    assert facts["tokenizer_py_sha256"] == file_sha256(tokenizer_browser.REFERENCE_TOKENIZER)
    assert facts["python"].startswith("3.") and facts["pyodide"]
    assert facts["start_ms"] > 0
    assert not tokenizer_browser.TokenizerPage.shared().host.blocked, "a runtime tried to leave the machine"


def test_cli_tokenize_prints_identical_ids(ref, capsys):
    from harness.cli import main

    assert main(["tokenize", "--runtimes", RUNTIMES, "--input", str(HARD_CASES)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == len(cases.read_cases(HARD_CASES))
    for row in rows:
        assert row["ids"]["py"] == row["ids"]["pyodide"] == row["ids"]["js"], row["id"]


def test_js_is_linear_on_adversarial_long_inputs(ref):
    texts = ["'" * 100_000, "a" * 100_000, "A" * 100_000, "ﬃ" * 50_000, "\ud800" * 100_000, "a'" * 50_000]
    page = tokenizer_browser.TokenizerPage.shared()
    _, ms = page.encode("js", ref, texts)
    assert ms < 2_000, f"js took {ms:.0f} ms for 6 x 100 KB"
    assert_identical(ref, texts)


def test_a_divergence_is_reported_with_its_positions(ref, tmp_path):
    # Same text, a spec whose vocabulary swaps two words: the report must say where.
    spec = json.loads(ref.tokenizer_path.read_text(encoding="utf-8"))
    vocab = list(spec["vocab"])
    a, b = vocab.index("movie"), vocab.index("film")
    vocab[a], vocab[b] = vocab[b], vocab[a]
    swapped = variant_bundle(tmp_path / "swapped", ref, vocab=vocab)
    texts = ["a good movie and a film", "nothing swapped here"]
    results = {"py": tokenize_all(ref, "py", texts)["py"], "js": tokenize_all(swapped, "js", texts)["js"]}
    found = diff_ids(results)
    assert found == [IdDiff(0, "js", [2, 5], results["py"][0], results["js"][0])]
    message = found[0].describe("case-1")
    assert message.startswith("case-1: js differs from py at positions [2] ")
    assert f"[2] {a} != {b}" in message and f"[5] {b} != {a}" in message


def test_divergence_positions_cover_length_mismatch():
    found = diff_ids({"py": [[1, 2, 3]], "js": [[1, 9]]})
    assert found[0].positions == [1, 2]
    assert "[2] 3 != -" in found[0].describe()


def test_surrogate_code_point_pairs_read_as_utf16(ref):
    raw = "\ud839\udcd0"  # two code points in Python; U+1E4D0 (a word character) in UTF-16 and JSON
    assert len(raw) == 2 and json_carried(raw) == "\U0001e4d0"
    py = tokenize_all(ref, "py", [raw, json_carried(raw)])["py"]
    browser = tokenize_all(ref, "pyodide,js", [raw])
    assert py[0] == py[1] != [ref.tokenizer().pad_id] * 48  # the pair is joined: one (oov) token
    assert browser["js"][0] == browser["pyodide"][0] == py[0]


# Characters that stress the spec: every fold key kind, separator edges, surrogates, new scripts.
_SPECIAL = (
    "AZaz09'` \u00a0\u00b5\u00ba\u00df\u0130\u0131\u017f\u0301\u034f\u03a3\u03c2\u0640\u05be\u0663\u200b\u200c"
    "\u200d\u200e\u200f\u2019\u2044\u20e3\u212a\u2160\ufb01\ufe0f\ufeff\uff21\uff07\ufffd"
    "\U0001d400\U0001d7d7\U0001e4d0\U0001e5d0\U00010d50\U0001f600\U0001f3fd\U000e0067\U000f0000"
)
_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])
_CHARS = st.one_of(
    st.sampled_from(_SPECIAL),
    _SURROGATES,
    st.characters(codec=None, exclude_categories=[]),
    st.characters(max_codepoint=0x7F),
)
_TEXTS = st.lists(st.lists(_CHARS, max_size=60).map("".join).map(json_carried), min_size=1, max_size=40)


# At least 150 batches (~3,000 texts, about 5 s); the nightly and signoff profiles ask for more.
@settings(
    max_examples=max(150, settings.default.max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(texts=_TEXTS)
def test_arbitrary_text_is_identical(ref, texts):
    assert_identical(ref, texts)

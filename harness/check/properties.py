"""Property-based differential checks: Hypothesis strategies and the checks they drive.

Every example is a *batch* (a list of texts or id rows), so one browser call serves many
inputs; when a batch fails, Hypothesis shrinks it to the one short input that still
disagrees, and the failure message carries a ready `harness compare` command.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from harness.check.compare import judge
from harness.check.side_by_side import command_for
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.failures import RuntimeFailed

ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())  # lone surrogates too
NOISE_SEPARATORS = [" ", "  ", "\t", "\n", " , ", " . ", "! ", "... ", " — ", "\u00a0", " (", ") ", '"', "'s "]
OOV_WORD = "qxzvjk"  # not a word of any vocabulary built from English reviews; checked at use


@dataclass
class Disagreement:
    text: str
    runtime: str
    detail: str

    def message(self) -> str:
        return f"{self.runtime}: {self.detail}\n  reproduce: {command_for(self.text)}"


def arbitrary_texts(max_size: int = 120) -> st.SearchStrategy[list[str]]:
    return st.lists(st.text(alphabet=ANY_CHAR, max_size=max_size), min_size=1, max_size=24)


def review_texts(vocab: list[str], words: int = 2000) -> st.SearchStrategy[list[str]]:
    """Review-like text from the vocabulary with casing, punctuation and whitespace noise."""
    pool = [w for w in vocab[2 : 2 + words]]
    casing = st.sampled_from([str.lower, str.upper, str.title])  # shrinks toward lower case
    word = st.tuples(st.sampled_from(pool), casing).map(lambda t: t[1](t[0]))
    piece = st.tuples(word, st.sampled_from(NOISE_SEPARATORS))
    text = st.lists(piece, max_size=60).map(lambda ps: "".join(w + sep for w, sep in ps))
    return st.lists(text, min_size=1, max_size=24)


def id_rows(vocab_size: int, length: int) -> st.SearchStrategy[list[list[int]]]:
    """Token-id rows the tokenizer can produce: tokens in [1, V) then padding.

    Covers all padding, full length, repeated tokens and the boundary ids 1 and V-1.
    """
    token = st.one_of(st.integers(1, vocab_size - 1), st.sampled_from([1, 2, vocab_size - 2, vocab_size - 1]))
    random_row = st.lists(token, max_size=length)
    repeated = st.tuples(token, st.integers(1, length)).map(lambda t: [t[0]] * t[1])
    special = st.sampled_from([[], [vocab_size - 1] * length, [1] * length, list(range(1, length + 1))])
    return st.lists(st.one_of(random_row, repeated, special), min_size=1, max_size=32)


def pad_rows(rows: list[list[int]], length: int, pad_id: int = 0) -> np.ndarray:
    return np.asarray([row[:length] + [pad_id] * (length - len(row[:length])) for row in rows], dtype=np.int64)


def text_of_row(row: list[int], vocab: list[str], oov_id: int = 1) -> str:
    """The text whose tokenization is exactly `row` (vocabulary tokens are fixed points)."""
    return " ".join(OOV_WORD if i == oov_id else vocab[i] for i in row if i != 0)


def tokenizer_disagreements(engines: Engines, texts: list[str]) -> list[Disagreement]:
    """Texts on which a tokenizer runtime's ids differ from the reference's. A tokenizer that
    fails is recorded in engines.failures (the suite's runs test reports it), not here."""
    ref = engines.tokenize(tokenizers.REFERENCE, texts)
    out = []
    for tok in engines.tokenizer_ids:
        if tok == tokenizers.REFERENCE or tok in engines.failures:
            continue
        try:
            got = engines.tokenize(tok, texts)
        except RuntimeFailed:
            continue
        for i in np.flatnonzero((got != ref).any(axis=1)):
            pos = int(np.flatnonzero(got[i] != ref[i])[0])
            out.append(
                Disagreement(
                    texts[i],
                    tok,
                    f"ids differ from py at position {pos}: {got[i][pos : pos + 4].tolist()} vs "
                    f"{ref[i][pos : pos + 4].tolist()}",
                )
            )
    return out


def score_disagreements(engines: Engines, texts: list[str], scores: dict[str, np.ndarray]) -> list[Disagreement]:
    reference = engines.reference
    if reference not in scores:  # nothing can be judged without the reference
        raise RuntimeFailed(engines.failures[reference])
    ref = scores[reference]
    out = []
    for rid, got in scores.items():
        if rid == reference:
            continue
        cmp = judge(engines, rid, reference=ref, other=got)
        if cmp.passed:
            continue
        for i in cmp.failing[:3]:
            out.append(
                Disagreement(
                    texts[i],
                    rid,
                    f"score {got[i]:.6f} vs {reference} {ref[i]:.6f} (|diff| {abs(got[i] - ref[i]):.3g}, "
                    f"atol {engines.tolerance(rid).atol:g})",
                )
            )
    return out


def pipeline_disagreements(engines: Engines, texts: list[str]) -> list[Disagreement]:
    """Text through each runtime's own app tokenizer and model, against keras on py ids."""
    scores, _ = engines.text_scores(texts)
    return score_disagreements(engines, texts, scores)


def id_disagreements(engines: Engines, rows: list[list[int]], vocab: list[str]) -> list[Disagreement]:
    ids = pad_rows(rows, engines.length)
    texts = [text_of_row(r[: engines.length], vocab) for r in rows]
    return score_disagreements(engines, texts, engines.all_scores(ids))


def report(found: list[Disagreement]) -> str:
    head = f"{len(found)} disagreement(s); first:\n"
    return head + "\n".join(d.message() for d in found[:3])

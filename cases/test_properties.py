"""Property-based differential tests: generated inputs, every runtime, shrunk failures.

Each Hypothesis example is a batch, so one browser call serves many inputs. A failure is
shrunk to a short review, printed as a ready `harness compare` command and appended to
golden/regressions.jsonl.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from harness.check import properties
from harness.core import bundle

pytestmark = pytest.mark.property
_TOK = bundle.load(verify=False).tokenizer()
VOCAB, LENGTH = _TOK.vocab, _TOK.length
assert properties.OOV_WORD not in VOCAB


def _other_tokenizers(engines):
    if len(engines.tokenizer_ids) < 2:
        pytest.skip("no tokenizer runtime besides py can run here (pyodide and js need Chromium)")


def _other_runtimes(engines):
    if len(engines.ok_ids) < 2:
        pytest.skip("no model runtime besides keras in this run to compare with")


def _check(found, regression_log, prop):
    if found:
        regression_log(found[0].text, found[0].runtime, prop)
    assert not found, properties.report(found)


@pytest.mark.browser
@given(texts=properties.arbitrary_texts())
def test_tokenizers_agree_on_arbitrary_unicode(engines, regression_log, texts):
    _other_tokenizers(engines)
    _check(properties.tokenizer_disagreements(engines, texts), regression_log, "tokenizer parity, arbitrary text")


@pytest.mark.browser
@given(texts=properties.review_texts(VOCAB))
def test_tokenizers_agree_on_review_like_text(engines, regression_log, texts):
    _other_tokenizers(engines)
    _check(properties.tokenizer_disagreements(engines, texts), regression_log, "tokenizer parity, review-like text")


@given(rows=properties.id_rows(len(VOCAB), LENGTH))
def test_models_agree_on_generated_ids(engines, regression_log, rows):
    _other_runtimes(engines)
    found = properties.id_disagreements(engines, rows, VOCAB)
    _check(found, regression_log, "model agreement, generated ids")


@given(texts=properties.review_texts(VOCAB))
def test_pipelines_agree_on_review_like_text(engines, regression_log, texts):
    _other_runtimes(engines)
    _check(properties.pipeline_disagreements(engines, texts), regression_log, "pipeline agreement, review-like text")


@given(texts=properties.arbitrary_texts(max_size=60))
def test_pipelines_agree_on_arbitrary_text(engines, regression_log, texts):
    _other_runtimes(engines)
    _check(properties.pipeline_disagreements(engines, texts), regression_log, "pipeline agreement, arbitrary text")

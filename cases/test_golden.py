"""Golden files: every runtime and tokenizer against golden/expected.jsonl.

Declared divergences (golden/known_divergences.toml) are expected exactly: each is a strict
xfail, so one that stops happening fails too, and any undeclared divergence fails.
"""

from __future__ import annotations

import pytest

from harness.check import divergences, golden
from harness.check.side_by_side import command_for
from harness.core.cases import read_cases
from runtimes import tokenizers

from .conftest import runtime_params

pytestmark = pytest.mark.golden
KNOWN = divergences.load()


def pytest_generate_tests(metafunc):
    if "golden_runtime" in metafunc.fixturenames:
        metafunc.parametrize("golden_runtime", runtime_params(metafunc.config))
    if "golden_tokenizer" in metafunc.fixturenames:
        metafunc.parametrize(
            "golden_tokenizer",
            [pytest.param(t, marks=[pytest.mark.browser] if s.browser else []) for t, s in tokenizers.SPECS.items()],
        )
    if "divergence" in metafunc.fixturenames:
        declared = [
            pytest.param(d, id=d.id, marks=pytest.mark.xfail(strict=True, reason=f"declared: {d.cause}")) for d in KNOWN
        ]
        none = pytest.param(
            None, id="none-declared", marks=pytest.mark.skip(reason="known_divergences.toml declares none")
        )
        metafunc.parametrize("divergence", declared or [none])


@pytest.fixture(scope="module")
def golden_cases():
    return {c.id: c for c in read_cases(golden.TEXTS)}


@pytest.fixture(scope="module")
def golden_result(reference_bundle, engines, golden_cases):
    if not golden.expected_path(reference_bundle).is_file():
        pytest.skip(f"no golden file for this bundle; create it with `{golden.update_command(reference_bundle)}`")
    expected = golden.load_current(reference_bundle)
    return golden.check(reference_bundle, engines, list(golden_cases.values()), expected=expected, known=KNOWN)


def test_golden_file_is_current(reference_bundle):
    golden.load_current(reference_bundle)
    assert len(read_cases(golden.TEXTS)) >= 1000


def _failures(result, golden_cases, kind, runtime):
    found = [f for f in result.undeclared if f.kind == kind and f.runtime == runtime]
    lines = [
        f"case {f.case_id}: {f.detail}\n    reproduce: {command_for(golden_cases[f.case_id].text)}" for f in found[:5]
    ]
    return found, "\n".join(lines)


def test_golden_scores(golden_result, golden_cases, golden_runtime, engines):
    if golden_runtime not in engines.runtime_ids:
        pytest.skip(f"{golden_runtime} not in this run's runtimes")
    if golden_runtime in golden_result.errors:
        pytest.fail(f"{golden_result.errors[golden_runtime]}", pytrace=False)
    found, detail = _failures(golden_result, golden_cases, "score", golden_runtime)
    assert not found, f"{golden_runtime}: {len(found)} golden case(s) outside tolerance\n{detail}"
    assert golden_result.comparisons[golden_runtime].passed, golden_result.comparisons[golden_runtime].reasons


def test_golden_tokens(golden_result, golden_cases, golden_tokenizer, engines):
    if golden_tokenizer not in engines.tokenizer_ids:
        pytest.skip(
            f"tokenizer runtime {golden_tokenizer} cannot run here: {tokenizers.availability(golden_tokenizer).reason}"
        )
    if golden_tokenizer in golden_result.errors:
        pytest.fail(f"{golden_result.errors[golden_tokenizer]}", pytrace=False)
    found, detail = _failures(golden_result, golden_cases, "tokens", golden_tokenizer)
    assert not found, f"{golden_tokenizer}: {len(found)} golden case(s) tokenized differently\n{detail}"


def test_declared_divergence_still_occurs(golden_result, divergence):
    """Strict xfail: this assertion must fail (the divergence happens) for the test to pass."""
    seen = [f for f in golden_result.findings if f.declared == divergence.id]
    assert not seen, f"{divergence.id}: {len(seen)} case(s) diverge as declared ({divergence.cause})"

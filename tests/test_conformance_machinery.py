"""The conformance machinery catches what it must: edited goldens, stale hashes, removed
declarations, and a deliberately broken runtime (shrunk to a short example)."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import find, settings

from harness.check import divergences, golden, properties
from harness.core.cases import read_cases
from harness.core.errors import HarnessError
from harness.run.engines import Engines
from runtimes import registry
from runtimes.testing import PERTURBED_ID, perturbed_spec


@pytest.fixture(scope="module")
def vocab(reference_bundle):
    return reference_bundle.tokenizer().vocab


@pytest.fixture(scope="module")
def good_id(vocab):
    return vocab.index("good")


@pytest.fixture()
def perturbed_engines(reference_bundle, good_id, monkeypatch):
    monkeypatch.setitem(registry.SPECS, PERTURBED_ID, perturbed_spec(good_id))
    with Engines(reference_bundle, [registry.get("keras"), registry.get(PERTURBED_ID)], ["py"]) as e:
        yield e


@pytest.fixture()
def golden_copy(tmp_path):
    texts, expected = tmp_path / "texts.jsonl", tmp_path / "expected.jsonl"
    shutil.copyfile(golden.TEXTS, texts)
    shutil.copyfile(golden.EXPECTED, expected)
    return texts, expected


def test_edited_golden_score_fails_naming_case_and_runtime(reference_bundle, golden_copy):
    texts, expected = golden_copy
    lines = expected.read_text().splitlines()
    row = json.loads(lines[5])
    row["score"] += 0.1
    lines[5] = json.dumps(row)
    expected.write_text("\n".join(lines) + "\n")
    exp = golden.read_expected(expected)
    with Engines(reference_bundle, [registry.get("keras")], ["py"]) as engines:
        result = golden.check(reference_bundle, engines, read_cases(texts), expected=exp, known=[])
    assert not result.passed
    [finding] = result.undeclared
    assert (finding.runtime, finding.case_id, finding.kind) == ("keras", row["id"], "score")
    assert "|diff| 0.1" in finding.detail


def test_stale_bundle_hash_fails_with_the_regenerate_command(reference_bundle, golden_copy):
    texts, expected = golden_copy
    lines = expected.read_text().splitlines()
    meta = json.loads(lines[0])
    meta["bundle_hash"] = "0" * 64
    expected.write_text("\n".join([json.dumps(meta), *lines[1:]]) + "\n")
    with pytest.raises(HarnessError, match="regenerate with `harness golden update`"):
        golden.ensure_current(reference_bundle, golden.read_expected(expected), texts_path=texts, golden_file=expected)


def test_edited_texts_make_the_golden_file_stale(reference_bundle, golden_copy):
    texts, expected = golden_copy
    texts.write_text(texts.read_text().replace("mr-", "mr-x", 1))
    with pytest.raises(HarnessError, match="texts edited"):
        golden.ensure_current(reference_bundle, golden.read_expected(expected), texts_path=texts, golden_file=expected)


def test_declared_divergence_is_expected_and_removing_it_fails(reference_bundle, perturbed_engines, tmp_path):
    cases = [c for c in read_cases(golden.TEXTS) if " good " in f" {c.text.lower()} "][:20]
    exp = golden.read_expected()
    toml = tmp_path / "known.toml"
    ids = ", ".join(json.dumps(c.id) for c in cases)
    toml.write_text(
        f'[[divergence]]\nid = "perturbed-good"\nkind = "score"\nruntimes = ["{PERTURBED_ID}"]\ncases = [{ids}]\ncause = "test"\n'
    )
    declared = golden.check(reference_bundle, perturbed_engines, cases, expected=exp, known=divergences.load(toml))
    assert declared.passed and declared.findings and all(f.declared == "perturbed-good" for f in declared.findings)
    undeclared = golden.check(reference_bundle, perturbed_engines, cases, expected=exp, known=[])
    assert not undeclared.passed and {f.runtime for f in undeclared.undeclared} == {PERTURBED_ID}


def test_declared_divergence_that_no_longer_happens_fails(reference_bundle, tmp_path):
    toml = tmp_path / "known.toml"
    toml.write_text(
        '[[divergence]]\nid = "stale"\nkind = "score"\nruntimes = ["keras"]\ncases = ["mr-17"]\ncause = "gone"\n'
    )
    cases = read_cases(golden.TEXTS)[:5]
    with Engines(reference_bundle, [registry.get("keras")], ["py"]) as engines:
        result = golden.check(
            reference_bundle, engines, cases, expected=golden.read_expected(), known=divergences.load(toml)
        )
    assert result.unused_divergences == ["stale"] and not result.passed


def test_broken_runtime_is_caught_and_shrunk_on_ids(perturbed_engines, vocab, good_id):
    minimal = find(
        properties.id_rows(len(vocab), 48),
        lambda rows: bool(properties.id_disagreements(perturbed_engines, rows, vocab)),
        settings=settings(max_examples=2000, database=None, derandomize=True),
    )
    assert minimal == [[good_id]]
    [d] = properties.id_disagreements(perturbed_engines, minimal, vocab)
    assert d.text == "good" and "harness compare good" in d.message()


def test_divergence_file_errors_name_the_problem(tmp_path):
    bad = tmp_path / "k.toml"
    bad.write_text('[[divergence]]\nid = "x"\nkind = "weird"\nruntimes = ["js"]\ncases = ["a"]\ncause = "c"\n')
    with pytest.raises(HarnessError, match="kind must be"):
        divergences.load(bad)
    bad.write_text('[[divergence]]\nid = "x"\n')
    with pytest.raises(HarnessError, match="lacks kind, runtimes, cause"):
        divergences.load(bad)


def test_golden_check_command_names_the_case_and_runtime(golden_copy, monkeypatch, capsys):
    from harness import cli

    texts, expected = golden_copy
    lines = expected.read_text().splitlines()
    row = json.loads(lines[7])
    row["score"] -= 0.1
    lines[7] = json.dumps(row)
    expected.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(golden, "TEXTS", texts)
    monkeypatch.setattr(golden, "EXPECTED", expected)
    assert cli.main(["golden", "check", "--runtimes", "keras", "--tokenizers", "py"]) == 1
    out = capsys.readouterr().out
    assert f"FAIL: score keras case {row['id']}" in out and "golden check: 1185 cases" in out


def test_a_shrunk_failure_is_appended_once_to_the_regressions(tmp_path):
    from cases.conftest import append_regression

    path = tmp_path / "regressions.jsonl"
    entry = {"text": "good \ud800", "runtime": PERTURBED_ID, "property": "model agreement"}
    append_regression(entry, path)
    append_regression(entry, path)  # the same text again: not duplicated
    append_regression({**entry, "text": "bad"}, path)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["text"] for r in rows] == ["good \ud800", "bad"]
    assert rows[0]["id"].startswith("reg-") and rows[0]["runtime"] == PERTURBED_ID

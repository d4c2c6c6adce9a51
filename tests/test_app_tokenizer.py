"""Bring your own preprocessing, the app side: a team's JavaScript port of its Keras
tokenizer, run in the browser as the `js` tokenizer runtime, against the real Keras code.

The harness must pass a correct port on every case (the golden hard cases included) and
catch each planted bug (tests/fixtures/tokenizers/bug_*.js) with exit 1 and a summary that
names the bug's divergence class with a minimal input; a module with bare imports is bundled
from its own node_modules or refused in one line; `predict` feeds the web runtimes the app's
ids and never an id the model has no row for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from byo_tokenizers import (
    CASES,
    MAXLEN,
    NUM_WORDS,
    PORTS,
    KerasFiles,
    adapt_text_vectorization,
    fit_keras,
    keras_argv,
    write_cases,
)  # fmt: skip

from harness import cli
from harness.core.cases import read_cases
from harness.core.paths import GOLDEN
from runtimes.tokenizers import browser as tokenizer_browser

pytestmark = pytest.mark.browser

_ok = tokenizer_browser.availability("js")
if not _ok.ok:
    pytest.skip(f"tokenizer runtime js unavailable: {_ok.reason}", allow_module_level=True)

SUMMARY = re.compile(
    r'^harness tokenize: divergence (?P<runtime>\S+) (?P<cls>.+?): (?P<n>\d+) of (?P<total>\d+) cases '
    r'\(first (?P<first>.+?)\); (?P<how>minimal input|shortest input \(not shrunk\)) (?P<text>"(?:[^"\\]|\\.)*"): (?P<detail>.*)$'
)  # fmt: skip


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory: pytest.TempPathFactory) -> KerasFiles:
    return fit_keras(tmp_path_factory.mktemp("keras"))


@pytest.fixture(scope="module")
def all_cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    hard = [{"id": c.id, "text": c.text} for c in read_cases(GOLDEN / "hard_cases.jsonl")]
    return write_cases(tmp_path_factory.mktemp("cases") / "cases.jsonl", CASES + hard)


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, list[dict[str, Any]], str]:
    capsys.readouterr()
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines()], err


def classes(err: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The summary's divergence classes by (runtime, name), each with its minimal input decoded."""
    out = {}
    for line in err.splitlines():
        m = SUMMARY.match(line)
        if m:
            out[m["runtime"], m["cls"]] = {**m.groupdict(), "text": json.loads(m["text"])}
    return out


def keras_words(files: KerasFiles, text: str) -> list[str]:
    from tf_keras.preprocessing.text import text_to_word_sequence, tokenizer_from_json

    tok = tokenizer_from_json(files.tokenizer.read_text(encoding="utf-8"))
    return text_to_word_sequence(text, filters=tok.filters, lower=tok.lower, split=tok.split)


def test_a_correct_port_agrees_on_every_case(keras_files: KerasFiles, all_cases: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    rc, rows, err = run(capsys, keras_argv(keras_files, "keras_tokenizer.js", all_cases))
    assert rc == 0, err
    assert len(rows) == len(read_cases(all_cases)) > 70
    assert all(r["agree"] and r["ids"]["py"] == r["ids"]["js"] and "errors" not in r for r in rows)
    assert f"{len(rows)} of {len(rows)} cases agree (py, js)" in err
    assert not classes(err)


def _apostrophe(files: KerasFiles, text: str) -> None:
    assert "'" in text and len(text) <= 4 and len(keras_words(files, text)) >= 2


def _unknown(files: KerasFiles, text: str) -> None:
    (word,) = keras_words(files, text)
    assert word not in files.word_index and len(text) <= 2


def _rare(files: KerasFiles, text: str) -> None:
    (word,) = keras_words(files, text)
    assert files.word_index[word] >= NUM_WORDS


def _long(files: KerasFiles, text: str) -> None:
    assert len(keras_words(files, text)) == MAXLEN + 1
    assert len(text) <= 2 * (MAXLEN + 1) + 2  # one-character words, one separator each


def _double_space(files: KerasFiles, text: str) -> None:
    assert " " in text and len(text) <= 3


@pytest.mark.parametrize(
    "port,cls,case,check",
    [
        ("bug_apostrophe_deleted.js", "positions", "apostrophe", _apostrophe),
        ("bug_unknown_is_zero.js", "positions", "unknown-word", _unknown),
        ("bug_ignores_num_words.js", "out-of-range", "apostrophe", _rare),
        ("bug_throws_past_maxlen.js", "exception (RangeError)", "longer-than-maxlen", _long),
        ("bug_double_space_zero.js", "positions", "apostrophe", _double_space),
    ],
)
def test_a_planted_bug_is_named_with_a_minimal_input(keras_files: KerasFiles, tmp_path: Path, port: str, cls: str,
                                                     case: str, check: Any, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    cases = write_cases(tmp_path / "cases.jsonl")
    rc, rows, err = run(capsys, keras_argv(keras_files, port, cases))
    assert rc == 1, err
    assert [r["id"] for r in rows] == [c["id"] for c in CASES]  # every row prints, the failing ones too
    found = classes(err)
    assert ("js", cls) in found, err
    shown = found["js", cls]
    assert shown["runtime"] == "js" and shown["first"] == case and shown["how"] == "minimal input", err
    check(keras_files, shown["text"])
    assert any(not r["agree"] for r in rows)


def test_an_exception_is_kept_in_its_row(keras_files: KerasFiles, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    cases = write_cases(tmp_path / "cases.jsonl")
    rc, rows, err = run(capsys, keras_argv(keras_files, "bug_throws_past_maxlen.js", cases))
    assert rc == 1
    by_id = {r["id"]: r for r in rows}
    long = by_id["longer-than-maxlen"]
    assert long["agree"] is False and set(long["ids"]) == {"py"}
    assert long["errors"] == {"js": "RangeError: Invalid array length"}
    assert by_id["empty"]["agree"] and "errors" not in by_id["empty"]


def test_text_vectorization_port_and_its_unicode_lowercase_bug(tmp_path: Path, all_cases: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    tv = adapt_text_vectorization(tmp_path / "tv")
    cases = write_cases(
        tmp_path / "cases.jsonl", [*read_jsonl(all_cases), {"id": "capital-accent", "text": "École du cinéma"}]
    )

    def argv(port: str) -> list[str]:
        return ["tokenize", "--tokenizer", str(tv.config), "--app-tokenizer", f"{PORTS / port}:encode",
                "--app-asset", str(tv.vocabulary), "--app-asset", str(tv.app_config), "--runtimes", "py,js",
                "--input", str(cases)]  # fmt: skip

    rc, rows, err = run(capsys, argv("text_vectorization.js"))
    assert rc == 0, err + "\n".join(json.dumps(r) for r in rows if not r["agree"])[:3000]
    rc, rows, err = run(capsys, argv("bug_tv_unicode_lower.js"))
    assert rc == 1
    shown = classes(err)["js", "positions"]
    assert shown["first"] == "capital-accent" and shown["text"] == "École", err


def read_jsonl(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_bare_imports_are_bundled_from_the_apps_own_node_modules(keras_files: KerasFiles, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    app = tmp_path / "app"
    lib = app / "node_modules" / "tiny-has-own"
    lib.mkdir(parents=True)
    (lib / "package.json").write_text('{"name": "tiny-has-own", "version": "1.0.0", "main": "index.js"}')
    (lib / "index.js").write_text("module.exports = (o, k) => Object.prototype.hasOwnProperty.call(o, k);\n")
    (app / "src").mkdir()
    (app / "src" / "keras_tokenizer.js").write_bytes((PORTS / "keras_tokenizer.js").read_bytes())
    (app / "src" / "port.js").write_text(
        'import hasOwn from "tiny-has-own";\nimport { encode as base } from "./keras_tokenizer.js";\n'
        "export function encode(text, tok, seq) {\n  if (!hasOwn(seq, 'maxlen')) throw new Error('no maxlen');\n"
        "  return base(text, tok, seq);\n}\n"
    )
    argv = keras_argv(keras_files, "keras_tokenizer.js", write_cases(tmp_path / "c.jsonl"))
    argv[argv.index("--app-tokenizer") + 1] = f"{app / 'src' / 'port.js'}:encode"
    rc, rows, err = run(capsys, argv)
    assert rc == 0, err
    assert all(r["agree"] for r in rows)

    (app / "src" / "bad.js").write_text(
        'import escape from "lodash/escapeRegExp";\nexport const encode = (t) => [escape(t).length];\n'
    )
    argv[argv.index("--app-tokenizer") + 1] = f"{app / 'src' / 'bad.js'}:encode"
    rc, rows, err = run(capsys, argv)
    assert rc == 2 and rows == [] and err.count("\n") == 1, err
    assert "import 'lodash/escapeRegExp' does not resolve from its node_modules" in err


def test_a_missing_export_fails_the_runtime_not_the_command(keras_files: KerasFiles, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    argv = keras_argv(keras_files, "keras_tokenizer.js", write_cases(tmp_path / "c.jsonl"))
    argv[argv.index("--app-tokenizer") + 1] = f"{PORTS / 'keras_tokenizer.js'}:tokenize"
    rc, rows, err = run(capsys, argv)
    assert rc == 1 and len(rows) == len(CASES)
    assert "the module exports no function tokenize (it exports encode, lookup, pad, parsed, toIds, words)" in err
    assert all(set(r["ids"]) == {"py"} for r in rows)


def make_keras_bundle(files: KerasFiles, model: Path, out: Path, port: str) -> Path:
    argv = ["bundle", "--model", str(model), "--tokenizer", str(files.tokenizer), "--app-tokenizer",
            f"{PORTS / port}:encode", "--app-asset", str(files.tokenizer), "--app-asset", str(files.sequence),
            "--out", str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    return out


@pytest.mark.slow
def test_predict_feeds_web_runtimes_the_apps_ids(keras_files: KerasFiles, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from test_byo_tokenizer import small_model

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    model = small_model(tmp_path / "m.keras", NUM_WORDS, MAXLEN)
    good = make_keras_bundle(keras_files, model, tmp_path / "good", "keras_tokenizer.js")
    texts = ["what a tedious movie", "a good film"]
    rc, rows, err = run(capsys, ["predict", "--bundle", str(good), "--runtimes", "keras,tfjs-cpu", *texts])
    assert rc == 0, err
    assert "tokenized with: keras=py, tfjs-cpu=js" in err
    for r in rows:
        assert r["scores"]["tfjs-cpu"] == pytest.approx(r["scores"]["keras"], abs=1e-4)

    # the same model and export, fed by a port that ignores num_words: id 20 has no Embedding row
    bad = make_keras_bundle(keras_files, model, tmp_path / "bad", "bug_ignores_num_words.js")
    rc, rows, err = run(capsys, ["predict", "--bundle", str(bad), "--runtimes", "keras,tfjs-cpu", *texts])
    assert rc == 1
    assert set(rows[0]["scores"]) == {"keras"}
    message = rows[0]["errors"]["tfjs-cpu"]
    assert message.startswith("tokenize: tokenizer js: text 0 ('what a tedious movie'): id ")
    assert f"outside [0, {NUM_WORDS}); not fed to any model runtime" in message


@pytest.mark.slow
def test_report_rows_say_when_preprocessing_differs(keras_files: KerasFiles, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from test_byo_tokenizer import small_model

    from harness.core import bundle
    from harness.data.corpus import Review
    from harness.report.runtime_rows import agreement_gates, held_out_rows
    from harness.results import RuntimeRow
    from harness.run.engines import Engines
    from runtimes import registry

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    model = small_model(tmp_path / "m.keras", NUM_WORDS, MAXLEN)
    b = bundle.load(make_keras_bundle(keras_files, model, tmp_path / "b", "bug_unknown_is_zero.js"))
    reviews = [Review(c["id"], c["text"], i % 2) for i, c in enumerate(CASES)]
    rows: dict[str, RuntimeRow] = {}
    with Engines(b, [registry.get("keras"), registry.get("tfjs-cpu")]) as engines:
        held_out_rows(engines, reviews, machine="here", ids_by_tok={}, rows=rows, on_progress=lambda _: None)
        gates = {g.id: g for g in agreement_gates(engines, rows)}
    assert rows["tfjs-cpu"].info["tokenizer_used"] == "js"
    # "a zebra film" and the JS object keys feed unknown words as 0 instead of the OOV id; nothing else differs
    assert rows["tfjs-cpu"].info["tokenizer_parity"] == {
        "reference": "py",
        "differing_reviews": 2,
        "reviews": len(CASES),
    }
    assert "preprocessing: js ids differ from py on 2 of 7 reviews" in gates["agreement:tfjs-cpu"].detail
    assert "tokenizer_parity" not in rows["keras"].info


@pytest.mark.slow
def test_the_same_port_runs_in_every_browser_engine(keras_files: KerasFiles, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from runtimes import tokenizers

    engines = [t for t, s in tokenizers.SPECS.items() if s.kind == "app" and tokenizers.availability(t).ok]
    argv = keras_argv(keras_files, "bug_throws_past_maxlen.js", write_cases(tmp_path / "c.jsonl"))
    argv[argv.index("--runtimes") + 1] = ",".join(["py", *engines])
    rc, rows, err = run(capsys, argv)
    assert rc == 1
    long = next(r for r in rows if r["id"] == "longer-than-maxlen")
    assert set(long["errors"]) == set(engines)  # each engine's own words: "Invalid array length", ...
    assert all(m.startswith("RangeError: ") for m in long["errors"].values())
    assert set(classes(err)) == {(e, "exception (RangeError)") for e in engines}, err
    agreeing = [r for r in rows if r["id"] != "longer-than-maxlen"]
    assert all(r["agree"] and len({json.dumps(v) for v in r["ids"].values()}) == 1 for r in agreeing)

"""The `harness` command: output contracts (DESIGN.md) and one-line errors with exit code 2.

Most tests run the CLI in-process (`harness.cli.main`) and read its output with capsys; a few
run the installed console script to prove it exists and that exit codes and stderr are right.
Exports go to a temporary cache (HARNESS_CACHE) so this module never touches the user's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.core import bundle
from harness.core.paths import REFERENCE_BUNDLE

HARNESS = Path(sys.executable).with_name("harness")  # .venv/bin/harness next to .venv/bin/python
POSITIVE = "a gorgeous, witty, moving film"
NEGATIVE = "dull, lifeless and tedious"


@pytest.fixture(scope="module", autouse=True)
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("harness-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(cache))
        yield cache


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # drop anything printed before
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def jsonl(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def assert_one_line_error(rc: int, out: str, err: str, command: str, *fragments: str) -> None:
    assert rc == 2, (rc, err)
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, f"expected one line on stderr, got {err!r}"
    assert err.startswith(f"harness {command}: error: ")
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def write_cases(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------
# predict and tokenize: output contracts
# ---------------------------------------------------------------------------------------


def test_predict_keras_with_texts(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "predict", "--runtimes", "keras", POSITIVE, NEGATIVE)
    assert rc == 0, err
    rows = jsonl(out)
    assert [r["id"] for r in rows] == ["arg-1", "arg-2"]
    for r in rows:
        assert set(r) == {"id", "scores"}
        assert set(r["scores"]) == {"keras"}
        assert 0.0 <= r["scores"]["keras"] <= 1.0
    assert rows[0]["scores"]["keras"] > 0.5 > rows[1]["scores"]["keras"]


def test_predict_keras_with_input_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = write_cases(
        tmp_path / "cases.jsonl",
        [
            json.dumps({"id": "good", "text": POSITIVE}),
            "",  # blank lines are skipped
            json.dumps({"id": 7, "text": NEGATIVE, "origin": "regression"}),
            json.dumps({"id": "empty", "text": ""}),
            json.dumps({"id": "unicode", "text": "Ünïcödé ﬁne \ud83d lone surrogate"}),
        ],
    )
    rc, out, err = run(capsys, "predict", "--runtimes", "keras", "--input", str(cases))
    assert rc == 0, err
    rows = jsonl(out)
    assert [r["id"] for r in rows] == ["good", "7", "empty", "unicode"]
    assert all(0.0 <= r["scores"]["keras"] <= 1.0 for r in rows)
    # the same texts as arguments score the same
    _, out_args, _ = run(capsys, "predict", "--runtimes", "keras", POSITIVE, NEGATIVE)
    by_args = [r["scores"]["keras"] for r in jsonl(out_args)]
    assert [r["scores"]["keras"] for r in rows[:2]] == pytest.approx(by_args, abs=1e-6)


def test_tokenize_py_contract(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    tok = bundle.load(REFERENCE_BUNDLE).tokenizer()
    cases = write_cases(
        tmp_path / "cases.jsonl",
        [json.dumps({"id": "a", "text": POSITIVE}), json.dumps({"id": "b", "text": "word " * 500})],
    )
    for argv, ids, texts in (
        (["--input", str(cases)], ["a", "b"], [POSITIVE, "word " * 500]),
        ([POSITIVE, "ok"], ["arg-1", "arg-2"], [POSITIVE, "ok"]),
    ):
        rc, out, err = run(capsys, "tokenize", "--runtimes", "py", *argv)
        assert rc == 0, err
        rows = jsonl(out)
        assert [r["id"] for r in rows] == ids
        for row, text in zip(rows, texts, strict=True):
            assert set(row) == {"id", "ids", "agree"} and set(row["ids"]) == {"py"} and row["agree"] is True
            got = row["ids"]["py"]
            assert len(got) == 48
            assert all(isinstance(i, int) and 0 <= i < tok.vocab_size for i in got)
            assert got == tok.encode(text)


# ---------------------------------------------------------------------------------------
# bad input: exit code 2 and one line on stderr naming the problem
# ---------------------------------------------------------------------------------------

BAD_LINES = {
    "not-an-object": ([json.dumps({"id": "a", "text": "x"}), "[1, 2]"], 2, "expected an object with 'id' and 'text'"),
    "no-id": ([json.dumps({"id": "a", "text": "x"}), "", json.dumps({"text": "x"})], 3, "'id'"),
    "no-text": ([json.dumps({"id": "a"})], 1, "'text'"),
    "invalid-json": ([json.dumps({"id": "a", "text": "x"}), '{"id": "b", "text": '], 2, "not valid JSON"),
    "text-not-string": ([json.dumps({"id": "a", "text": 3})], 1, "'text' a string"),
    "duplicate-id": ([json.dumps({"id": "a", "text": "x"}), json.dumps({"id": "a", "text": "y"})], 2, "duplicate"),
}


@pytest.mark.parametrize("command,runtimes", [("predict", "keras"), ("tokenize", "py")])
@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_jsonl_line_names_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, runtimes: str, case: str
) -> None:
    lines, lineno, expected = BAD_LINES[case]
    path = write_cases(tmp_path / "bad.jsonl", lines)
    rc, out, err = run(capsys, command, "--runtimes", runtimes, "--input", str(path))
    assert_one_line_error(rc, out, err, command, f"{path}:{lineno}:", expected)


def test_non_utf8_case_file_names_the_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n')
    rc, out, err = run(capsys, "predict", "--runtimes", "keras", "--input", str(path))
    assert_one_line_error(rc, out, err, "predict", f"{path}:2:", "UTF-8")


@pytest.mark.parametrize("command,runtimes", [("predict", "keras"), ("tokenize", "py")])
def test_missing_input_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, runtimes: str) -> None:
    path = tmp_path / "nope.jsonl"
    rc, out, err = run(capsys, command, "--runtimes", runtimes, "--input", str(path))
    assert_one_line_error(rc, out, err, command, str(path))


@pytest.mark.parametrize("command,runtimes", [("predict", "keras"), ("tokenize", "py")])
def test_both_input_and_texts(capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, runtimes: str) -> None:
    path = write_cases(tmp_path / "ok.jsonl", [json.dumps({"id": "a", "text": "x"})])
    rc, out, err = run(capsys, command, "--runtimes", runtimes, "--input", str(path), "some text")
    assert_one_line_error(rc, out, err, command, "--input", "not both")


@pytest.mark.parametrize("command,runtimes", [("predict", "keras"), ("tokenize", "py")])
def test_no_texts(capsys: pytest.CaptureFixture[str], command: str, runtimes: str) -> None:
    rc, out, err = run(capsys, command, "--runtimes", runtimes)
    assert_one_line_error(rc, out, err, command, "nothing to do")


@pytest.mark.parametrize(
    "command,wrong,right",
    [("predict", "tfjs-wsam", "tfjs-wasm"), ("predict", "kears", "keras"), ("tokenize", "pyy", "py")],
)
def test_unknown_runtime_suggests_the_nearest(
    capsys: pytest.CaptureFixture[str], command: str, wrong: str, right: str
) -> None:
    rc, out, err = run(capsys, command, "--runtimes", wrong, "text")
    assert_one_line_error(rc, out, err, command, repr(wrong), f"did you mean {right!r}")


def test_empty_runtime_list(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "predict", "--runtimes", ",", "text")
    assert_one_line_error(rc, out, err, "predict", "no runtime given")


def test_bad_bundle_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, out, err = run(capsys, "predict", "--bundle", str(tmp_path), "--runtimes", "keras", "text")
    assert_one_line_error(rc, out, err, "predict", str(tmp_path / "manifest.json"))


# ---------------------------------------------------------------------------------------
# the installed console script
# ---------------------------------------------------------------------------------------


def script(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HARNESS), *argv], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def test_console_script_exists() -> None:
    assert HARNESS.is_file() and os.access(HARNESS, os.X_OK), f"{HARNESS} missing: run `make setup`"


def test_console_script_bad_input_exit_code_and_stderr(tmp_path: Path) -> None:
    proc = script("predict", "--runtimes", "kears", "text")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "did you mean 'keras'" in proc.stderr
    path = write_cases(tmp_path / "bad.jsonl", [json.dumps({"id": "a", "text": "x"}), '"just a string"'])
    proc = script("tokenize", "--runtimes", "py", "--input", str(path))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == f"harness tokenize: error: {path}:2: expected an object with 'id' and 'text'"


def test_console_script_tokenize_runs() -> None:
    proc = script("tokenize", "--runtimes", "py", "hello world")
    assert proc.returncode == 0, proc.stderr
    (row,) = jsonl(proc.stdout)
    assert row["id"] == "arg-1" and len(row["ids"]["py"]) == 48


# ---------------------------------------------------------------------------------------
# runtimes
# ---------------------------------------------------------------------------------------

TFJS_IDS = [f"tfjs-{b}{v}" for b in ("cpu", "wasm", "webgl") for v in ("", "@f16", "@u8")]


def test_runtimes_lists_keras_and_tfjs(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "runtimes")
    assert rc == 0, err
    listed = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert {"keras", *TFJS_IDS} <= set(listed)
    rc, out, err = run(capsys, "runtimes", "--json")
    assert rc == 0, err
    rows = {r["id"]: r for r in jsonl(out)}
    assert {"keras", *TFJS_IDS} <= set(rows)
    assert rows["keras"]["available"] is True
    for rid in TFJS_IDS:
        row = rows[rid]
        assert set(row) >= {"id", "available", "target", "precision", "reason", "install"}
        assert row["available"] or (row["reason"] and row["install"]), row
    assert rows["tfjs-wasm@u8"]["target"] == "tfjs-u8" and rows["tfjs-wasm@u8"]["precision"] == "uint8"


def test_no_chromium_means_unavailable_with_install_hint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from runtimes.browser import chromium as host

    monkeypatch.setenv("HARNESS_CHROMIUM", str(tmp_path / "no-such-chrome"))
    assert host.find_chromium() is None
    rc, out, err = run(capsys, "runtimes", "--json")
    assert rc == 0, err
    rows = {r["id"]: r for r in jsonl(out)}
    assert rows["keras"]["available"] is True
    for rid in TFJS_IDS:
        assert rows[rid]["available"] is False
        assert "Chromium" in rows[rid]["reason"]
        assert rows[rid]["install"] == host.INSTALL_HINT
    rc, out, err = run(capsys, "runtimes")
    assert rc == 0, err
    wasm_line = next(line for line in out.splitlines() if line.split()[0] == "tfjs-wasm")
    assert "unavailable" in wasm_line and "apt-get install" in wasm_line
    rc, out, err = run(capsys, "predict", "--runtimes", "keras,tfjs-wasm", "text")
    assert_one_line_error(rc, out, err, "predict", "tfjs-wasm", "Chromium", "apt-get install")


def test_no_chromium_in_a_subprocess(tmp_path: Path) -> None:
    proc = script("predict", "--runtimes", "tfjs-wasm", "text", env={"HARNESS_CHROMIUM": str(tmp_path / "nope")})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Chromium" in proc.stderr, proc.stderr


# ---------------------------------------------------------------------------------------
# export, and an artifact edited after export
# ---------------------------------------------------------------------------------------


def export_u8(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    rc, out, err = run(capsys, "export", "--targets", "tfjs-u8")
    assert rc == 0, err
    (row,) = jsonl(out)
    return row


def test_export_prints_manifest_info(capsys: pytest.CaptureFixture[str], tmp_cache: Path) -> None:
    first = export_u8(capsys)
    assert first["target"] == "tfjs-u8"
    path = Path(first["path"])
    assert path.is_relative_to(tmp_cache) and path.is_dir()
    manifest = json.loads((path / "artifact.json").read_text())
    assert manifest["bundle_hash"] == bundle.load(REFERENCE_BUNDLE).hash
    assert {"model.json", "group1-shard1of1.bin"} <= set(manifest["files"])
    assert first["bytes"] == sum(f["bytes"] for f in manifest["files"].values()) > 0
    assert 0 < first["gzip_bytes"] == sum(f["gzip_bytes"] for f in manifest["files"].values())
    assert first["export_seconds"] >= 0
    again = export_u8(capsys)
    assert again["cached"] is True and again["path"] == first["path"]


@pytest.mark.browser
@pytest.mark.parametrize("damage", ["edit", "truncate", "delete"])
def test_damaged_artifact_is_refused_naming_the_file(capsys: pytest.CaptureFixture[str], damage: str) -> None:
    shard = Path(export_u8(capsys)["path"]) / "group1-shard1of1.bin"
    original = shard.read_bytes()
    try:
        if damage == "edit":
            shard.write_bytes(original[:100] + bytes([original[100] ^ 0xFF]) + original[101:])
        elif damage == "truncate":
            shard.write_bytes(original[:-10])
        else:
            shard.unlink()
        rc, out, err = run(capsys, "predict", "--runtimes", "tfjs-wasm@u8", POSITIVE)
        assert_one_line_error(rc, out, err, "predict", str(shard))
    finally:
        shard.write_bytes(original)


@pytest.mark.browser
def test_predict_on_the_repaired_artifact_runs_in_chromium(capsys: pytest.CaptureFixture[str]) -> None:
    export_u8(capsys)
    rc, out, err = run(capsys, "predict", "--runtimes", "keras,tfjs-wasm@u8", POSITIVE, NEGATIVE)
    assert rc == 0, err
    for row in jsonl(out):
        assert row["scores"]["tfjs-wasm@u8"] == pytest.approx(row["scores"]["keras"], abs=0.05)


def test_compare_prints_a_lone_surrogate_escaped_to_a_pipe() -> None:
    # golden/texts.jsonl holds lone surrogates; a pipe's UTF-8 cannot encode them
    proc = script("compare", "--runtimes", "keras", "--tokenizers", "py", "--json-text", json.dumps("a \ud800 film"))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "\\ud800" in proc.stdout, proc.stdout

"""Malformed-but-parseable input ends in one line naming the file, the field and what was
expected, exit code 2, never a traceback (issue 16's list, probe by probe), and `harness
bundle` on models whose output or vocabulary does not fit.

Every probe on a copy of the reference bundle runs the CLI in a child process, as a user would,
so a traceback anywhere (not only in the command's own code) fails the test. `harness bundle` of
a freshly built model runs the same `main` in this process (`in_process`): it needs TensorFlow,
whose import a child would pay again for every probe.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import cli
from harness.core import bundle
from harness.core.paths import REFERENCE_BUNDLE, REPO

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def harness(
    *argv: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *argv], cwd=REPO, capture_output=True, text=True,
                          input=stdin, timeout=300, env={**ENV, **(env or {})})  # fmt: skip


def in_process(*argv: str) -> subprocess.CompletedProcess[str]:
    """`harness ...` run in this process: the same `main`, without a child's TensorFlow import
    (about 5 s each). An unexpected exception fails the test, as a traceback would."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return subprocess.CompletedProcess(["harness", *argv], code, out.getvalue(), err.getvalue())


def one_line_error(proc: subprocess.CompletedProcess[str], command: str, *fragments: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1, f"expected one line, got {proc.stderr!r}"
    assert proc.stderr.startswith(f"harness {command}: error: ")
    for f in fragments:
        assert f in proc.stderr, (f, proc.stderr)
    return proc.stderr


def copy_bundle(tmp_path: Path) -> Path:
    out = tmp_path / "b"
    shutil.copytree(REFERENCE_BUNDLE, out)
    return out


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text())
    path.write_text(json.dumps(change(data)))


def _files_as_list(m: dict[str, Any]) -> dict[str, Any]:
    return {**m, "files": list(m["files"].values())}


def _no_sha(m: dict[str, Any]) -> dict[str, Any]:
    del m["files"]["metrics.json"]["sha256"]
    return m


MANIFEST_PROBES = {
    "files-as-list": (_files_as_list, "manifest.json: $.files: expected an object, got an array"),
    "entry-without-sha256": (_no_sha, "manifest.json: $.files[\"metrics.json\"]: missing required field 'sha256'"),
}


@pytest.mark.parametrize("probe", sorted(MANIFEST_PROBES))
def test_a_malformed_bundle_manifest_is_one_line(tmp_path: Path, probe: str) -> None:
    b = copy_bundle(tmp_path)
    change, message = MANIFEST_PROBES[probe]
    edit_json(b / "manifest.json", change)
    one_line_error(harness("predict", "--bundle", str(b), "--runtimes", "keras", "good"), "predict", str(b), message)


def test_a_non_utf8_manifest_is_one_line(tmp_path: Path) -> None:
    b = copy_bundle(tmp_path)
    (b / "manifest.json").write_bytes(b"\xff\xfe{}")
    one_line_error(harness("predict", "--bundle", str(b), "--runtimes", "keras", "good"), "predict",
                   f"{b}/manifest.json: not UTF-8 (byte 0 is 0xff)")  # fmt: skip


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("tokenizer.json", "[]", "tokenizer.json: $: expected an object, got an array"),
        ("tokenizer.json", '{"format": "harness-tokenizer/1"}', "tokenizer.json: $: missing required field 'length'"),
        ("metrics.json", '{"splits": [1, 2]}', "metrics.json: $.splits: expected an object, got an array"),
        (
            "metrics.json",
            '{"splits": {"test": {"accuracy": 0.7}}}',
            "metrics.json: $.splits.test: missing required field 'n'",
        ),
        ("signature.json", '{"input": {}, "output": {}}', "signature.json: $.input: missing required field 'dtype'"),
    ],
)
def test_a_malformed_file_inside_a_bundle_is_one_line(tmp_path: Path, name: str, content: str, message: str) -> None:
    """The files are edited and the manifest rewritten (as a tool that makes bundles would)."""
    b = copy_bundle(tmp_path)
    (b / name).write_text(content)
    bundle.write_manifest(b)
    one_line_error(harness("predict", "--bundle", str(b), "--runtimes", "keras", "good"), "predict", str(b), message)


def test_a_tokenizer_that_does_not_match_the_signature_is_refused(tmp_path: Path) -> None:
    b = copy_bundle(tmp_path)
    edit_json(b / "signature.json", lambda s: {**s, "input": {**s["input"], "vocab_size": 20_000}})
    bundle.write_manifest(b)
    ids = bundle.load(REFERENCE_BUNDLE).tokenizer().vocab_size
    one_line_error(harness("tokenize", "--bundle", str(b), "--runtimes", "py", "good"), "tokenize",
                   f"input vocab_size 20000 and length 48 do not match tokenizer.json ({ids} ids")  # fmt: skip


@pytest.fixture()
def tfjs_export(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    env = {"HARNESS_CACHE": str(tmp_path / "cache")}
    proc = harness("export", "--targets", "tfjs-u8", env=env)
    assert proc.returncode == 0, proc.stderr
    return Path(json.loads(proc.stdout)["path"]) / "artifact.json", env


def test_a_truncated_artifact_manifest_is_one_line_with_the_fix(tfjs_export: tuple[Path, dict[str, str]]) -> None:
    manifest, env = tfjs_export
    text = manifest.read_text()
    manifest.write_text(text[: len(text) // 2])
    err = one_line_error(
        harness("export", "--targets", "tfjs-u8", env=env), "export", str(manifest), "not valid JSON (", " at line "
    )
    assert err.rstrip().endswith("rebuild it with `harness export --targets tfjs-u8 --force`")
    data = json.loads(text)
    data.pop("export_seconds")
    manifest.write_text(json.dumps(data))
    one_line_error(
        harness("export", "--targets", "tfjs-u8", env=env), "export", "$: missing required field 'export_seconds'"
    )
    assert harness("export", "--targets", "tfjs-u8", "--force", env=env).returncode == 0  # and the fix works


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda r: {**r, "runtimes": list(r["runtimes"].values())}, "$.runtimes: expected an object, got an array"),
        (lambda r: {**r, "bundle_hash": None}, "$.bundle_hash: expected a string, got null"),
    ],
)
def test_a_malformed_merge_input_is_one_line(tmp_path: Path, change: Callable[[Any], Any], message: str) -> None:
    from report_sample import synthetic_report

    from harness.report import schema

    good = tmp_path / "good.json"
    good.write_text(schema.dumps(synthetic_report()))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(change(json.loads(good.read_text()))))
    one_line_error(
        harness("report", "merge", str(bad), str(good), "--out", str(tmp_path / "m")), "report", str(bad), message
    )


def test_a_port_out_of_range_is_one_line() -> None:
    proc = harness("app", "serve", "--port", "99999")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "argument --port: a port is 0..65535" in proc.stderr


# ---------------------------------------------------------------------------------------
# case files
# ---------------------------------------------------------------------------------------


def test_input_dash_reads_standard_input() -> None:
    lines = "".join(json.dumps({"id": f"c{i}", "text": t}) + "\n" for i, t in enumerate(["a good film", "awful"]))
    proc = harness("tokenize", "--runtimes", "py", "--input", "-", stdin=lines)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["id"] for x in proc.stdout.splitlines()] == ["c0", "c1"]
    bad = harness("tokenize", "--runtimes", "py", "--input", "-", stdin='{"id": 1}\n')
    one_line_error(bad, "tokenize", "<stdin>:1: expected an object with 'id' and 'text'")


def test_an_empty_case_file_is_an_error(tmp_path: Path) -> None:
    for content in ("", "\n\n  \n"):
        path = tmp_path / "empty.jsonl"
        path.write_text(content)
        one_line_error(harness("predict", "--runtimes", "keras", "--input", str(path)), "predict", f"{path}: no cases")


def test_a_raw_nul_in_a_case_file_gives_a_whole_message(tmp_path: Path) -> None:
    path = tmp_path / "nul.jsonl"
    path.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "x\x00y"}\n')
    err = one_line_error(harness("predict", "--runtimes", "keras", "--input", str(path)), "predict", f"{path}:2:")
    assert "a raw control character U+0000 inside a string at column 23; write it as \\u0000" in err
    assert "\x00" not in err and err.rstrip().endswith('expected {"id": ..., "text": ...}')


def test_a_late_mistake_in_a_large_case_file_is_found_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": "fine"}) + "\n" for i in range(50_000)) + "{oops\n")
    proc = harness("predict", "--runtimes", "keras", "--input", str(path))
    one_line_error(proc, "predict", f"{path}:50001:")
    assert proc.stdout == ""  # nothing was scored


# ---------------------------------------------------------------------------------------
# harness bundle: logits, vocabulary, a user's file in --out
# ---------------------------------------------------------------------------------------


def small_model(vocab: int, last: str = "sigmoid", units: int = 1, seed: int = 1) -> Any:
    from runtimes.frameworks import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(48,), dtype="int32")
    x = keras.layers.Embedding(vocab, 8)(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dense(
        units, activation=last, kernel_initializer=keras.initializers.RandomNormal(0, 30, seed=seed)
    )(x)
    return keras.Model(inputs, x)


# The reference tokenizer's id count: a model with this many embedding rows fits it exactly.
VOCAB = bundle.load(REFERENCE_BUNDLE).tokenizer().vocab_size


def bundle_of(tmp_path: Path, model: Any, *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    src = tmp_path / "m.keras"
    model.save(src)
    out = tmp_path / "out"
    return in_process("bundle", "--model", str(src), "--like", str(REFERENCE_BUNDLE), "--out", str(out), *extra), out


def test_a_logit_output_is_wrapped_in_sigmoid_and_said(tmp_path: Path) -> None:
    model = small_model(VOCAB, last="linear")
    proc, out = bundle_of(tmp_path, model)
    assert proc.returncode == 0, proc.stderr
    assert "the last layer is linear (logits); wrapped in sigmoid" in proc.stderr
    sig = json.loads((out / "signature.json").read_text())
    assert sig["output"] == {"kind": "sigmoid", "classes": 1, "positive_index": 0, "wrapped": "sigmoid"}
    pred = in_process("predict", "--bundle", str(out), "--runtimes", "keras", "a gorgeous film", "dull and tedious")
    assert pred.returncode == 0, pred.stderr
    scores = [json.loads(x)["scores"]["keras"] for x in pred.stdout.splitlines()]
    tok = bundle.load(REFERENCE_BUNDLE).tokenizer()
    logits = np.asarray(
        model(np.asarray(tok.encode_batch(["a gorgeous film", "dull and tedious"]), dtype=np.int32))
    ).ravel()
    assert not np.all((logits >= 0) & (logits <= 1))  # real logits, not probabilities
    assert scores == pytest.approx(1 / (1 + np.exp(-logits)), abs=1e-6)
    assert all(0 <= s <= 1 for s in scores)


def test_a_logit_output_can_be_refused(tmp_path: Path) -> None:
    proc, out = bundle_of(tmp_path, small_model(VOCAB, last="linear", units=2), "--logits", "refuse")
    one_line_error(proc, "bundle", "is linear, so it outputs logits; end the model in softmax")
    assert not out.exists()


def test_an_output_that_is_no_probability_is_refused(tmp_path: Path) -> None:
    proc, out = bundle_of(tmp_path, small_model(VOCAB, last="tanh"))
    one_line_error(proc, "bundle", "has activation tanh; expected sigmoid")
    assert not out.exists()


def test_an_embedding_larger_than_the_vocabulary_is_accepted_with_a_warning(tmp_path: Path) -> None:
    """The issue's probe: 20,000 rows with a smaller tokenizer (then 8,930 words) was bundled without a word."""
    proc, out = bundle_of(tmp_path, small_model(20_000))
    assert proc.returncode == 0, proc.stderr
    warning = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and f"has 20000 rows, the tokenizer emits ids 0..{VOCAB - 1} only" in warning[0]
    assert json.loads((out / "signature.json").read_text())["input"]["embedding_rows"] == 20_000
    assert bundle.load(out).signature().embedding_rows == 20_000


def test_bundle_out_never_deletes_a_users_file(tmp_path: Path) -> None:
    proc, out = bundle_of(tmp_path, small_model(VOCAB))
    assert proc.returncode == 0, proc.stderr
    (out / "my-notes.txt").write_text("mine")
    again, _ = bundle_of(tmp_path, small_model(VOCAB, seed=2))
    one_line_error(again, "bundle", "holds my-notes.txt, which is not part of the bundle; refusing")
    assert (out / "my-notes.txt").read_text() == "mine"


# ---------------------------------------------------------------------------------------
# issue 28: one JSON reader (depth, huge integers, non-finite numbers, encoding)
# ---------------------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
JSON_PROBES = {
    "a 5,000-digit id": ('{"id": ' + "7" * 5000 + ', "text": "x"}', "an integer of 5000 digits (at most 400)"),
    "nested 100,000 deep": ('{"id": "a", "text": ' + DEEP + "}", "nested deeper than 64 levels"),
    "NaN": ('{"id": NaN, "text": "x"}', "NaN is not JSON (a number must be finite)"),
    "1e400": ('{"id": 1e400, "text": "x"}', "the number 1e400 is beyond a double's range"),
}


@pytest.mark.parametrize("probe", sorted(JSON_PROBES))
def test_a_case_line_json_cannot_hold_is_one_line(tmp_path: Path, probe: str) -> None:
    line, message = JSON_PROBES[probe]
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "ok", "text": "a good film"}\n' + line + "\n")
    one_line_error(harness("tokenize", "--runtimes", "py", "--input", str(path)), "tokenize", f"{path}:2: {message}")


MANIFEST_JSON_PROBES = {
    # the first byte count, written before its own digits: 5,000 nines and then those
    "huge integer": ('"bytes": ', '"bytes": ' + "9" * 5000, "an integer of {digits} digits (at most 400)"),
    "deep": ('"files": ', '"deep": ' + DEEP + ', "files": ', "nested deeper than 64 levels"),
    "Infinity": ('"bytes": ', '"bytes": Infinity, "x": ', "Infinity is not JSON"),
}


@pytest.mark.parametrize("probe", sorted(MANIFEST_JSON_PROBES))
def test_a_manifest_json_cannot_hold_is_one_line(tmp_path: Path, probe: str) -> None:
    anchor, replacement, message = MANIFEST_JSON_PROBES[probe]
    b = copy_bundle(tmp_path)
    text = (b / "manifest.json").read_text()
    line = text[: text.index(anchor)].count("\n") + 1
    (b / "manifest.json").write_text(text.replace(anchor, replacement, 1))
    proc = harness("tokenize", "--bundle", str(b), "--runtimes", "py", "good")
    # the byte count the probe writes its digits in front of
    first_bytes = "".join(itertools.takewhile(str.isdigit, text[text.index(anchor) + len(anchor) :]))
    message = message.format(digits=5000 + len(first_bytes))
    one_line_error(proc, "tokenize", f"{b}/manifest.json:{line}: {message}")


def _sample_report(tmp_path: Path) -> tuple[Path, str]:
    from report_sample import synthetic_report

    from harness.report import schema

    good = tmp_path / "good.json"
    good.write_text(schema.dumps(synthetic_report()))
    return good, good.read_text()


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda t: t.replace('"seconds": ', '"seconds": 1e400, "was": ', 1), "the number 1e400 is beyond"),
        (lambda t: t.replace('"runtimes": ', '"deep": ' + DEEP + ', "runtimes": ', 1), "nested deeper than 64"),
        (lambda t: t.replace("{", "\ufeff{", 1), "bad.json:1: starts with a byte-order mark"),
    ],
)
def test_a_merge_input_json_cannot_hold_is_one_line(tmp_path: Path, change: Callable[[str], str], message: str) -> None:
    good, text = _sample_report(tmp_path)
    bad = tmp_path / "bad.json"
    changed = change(text)
    assert changed != text
    bad.write_text(changed, encoding="utf-8")
    proc = harness("report", "merge", str(bad), str(good), "--out", str(tmp_path / "m"))
    one_line_error(proc, "report", str(bad), message)
    assert not (tmp_path / "m").exists()


def test_a_signature_value_that_is_not_an_ssh_signature_is_one_line(tmp_path: Path) -> None:
    """Non-ASCII (ssh-keygen's file was written as ASCII: UnicodeEncodeError), and not armored."""
    good, text = _sample_report(tmp_path)
    for value in ("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\u00e9\n-----END SSH SIGNATURE-----", "hello"):
        data = json.loads(text)
        data["signature"] = {
            "scheme": "ssh",
            "signer": "ci",
            "key_fingerprint": "SHA256:x",
            "value": value,
            "signed_at": "2026-12-06T10:00:00Z",
        }
        bad = tmp_path / "signed.json"
        bad.write_text(json.dumps(data))
        proc = harness("report", "merge", str(bad), str(good), "--out", str(tmp_path / "m"), "--allow-unsigned")
        one_line_error(proc, "report", f"{bad}: $.signature.value: expected an armored SSH signature")


# ---------------------------------------------------------------------------------------
# issue 28: manifests name only plain relative paths inside their folder
# ---------------------------------------------------------------------------------------


def _list_outside(b: Path, name: str, target: Path | None) -> None:
    """The manifest lists `name` with hashes that match `target` (as a forger would write them),
    and the bundle hash is made to match the list, so only the name can give it away."""
    from harness.core.hashing import hash_of_entries

    manifest = json.loads((b / "manifest.json").read_text())
    entry = {"sha256": "0" * 64, "bytes": 0}
    if target is not None and target.is_file():
        entry = {"sha256": hashlib.sha256(target.read_bytes()).hexdigest(), "bytes": target.stat().st_size}
    manifest["files"][name] = entry
    manifest["bundle_hash"] = hash_of_entries(manifest["files"])
    (b / "manifest.json").write_text(json.dumps(manifest))


def test_a_manifest_naming_a_file_outside_is_refused_without_opening_it(tmp_path: Path) -> None:
    """The file outside is a FIFO: opening it would block the harness until the timeout, and
    stat'ing it (is_file is False) would say it exists; the name alone must be refused."""
    b = copy_bundle(tmp_path)
    os.mkfifo(tmp_path / "outside.txt")
    for name, target, message in [
        ("../outside.txt", tmp_path / "outside.txt", "'../outside.txt' is not a plain relative path inside"),
        ("/etc/passwd", Path("/etc/passwd"), "'/etc/passwd' is not a plain relative path inside the folder (an ab"),
    ]:
        b2 = tmp_path / f"b{len(name)}"
        shutil.copytree(b, b2)
        _list_outside(b2, name, target)
        proc = harness("tokenize", "--bundle", str(b2), "--runtimes", "py", "good")
        one_line_error(proc, "tokenize", f"{b2}/manifest.json: $.files", message)


def test_a_symlink_out_of_a_bundle_is_refused_without_opening_it(tmp_path: Path) -> None:
    b = copy_bundle(tmp_path)
    os.mkfifo(tmp_path / "outside.txt")
    (b / "notes.txt").symlink_to(tmp_path / "outside.txt")
    _list_outside(b, "notes.txt", None)
    proc = harness("tokenize", "--bundle", str(b), "--runtimes", "py", "good")
    one_line_error(proc, "tokenize", f"{b}/notes.txt: a symlink that leads out of {b}")


def test_an_artifact_manifest_is_checked_by_name_and_its_hash_recomputed(tmp_path: Path) -> None:
    from harness.core import artifact
    from harness.core.errors import HarnessError
    from harness.core.hashing import hash_of_entries

    folder = tmp_path / "art"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"weights")
    files = artifact.describe_files(folder)
    good = {
        "format": "harness-artifact/1",
        "target": "t",
        "bundle_hash": "a" * 64,
        "cache_key": "k",
        "tool_versions": {},
        "export_seconds": 1.0,
        "artifact_hash": hash_of_entries(files),
        "files": files,
    }
    (folder / "artifact.json").write_text(json.dumps(good))
    assert artifact.load_artifact(folder, "t") is not None
    (folder / "artifact.json").write_text(json.dumps({**good, "artifact_hash": "b" * 64}))
    with pytest.raises(HarnessError, match="artifact_hash does not match its file list"):
        artifact.load_artifact(folder, "t")
    outside = {**files, "../model.bin": files["model.bin"]}
    (folder / "artifact.json").write_text(json.dumps({**good, "files": outside}))
    with pytest.raises(HarnessError, match="'../model.bin' is not a plain relative path"):
        artifact.load_artifact(folder, "t")
    (folder / "artifact.json").write_text(json.dumps({**good, "main": "../../etc"}))
    loaded = artifact.load_artifact(folder, "t")
    assert loaded is not None
    with pytest.raises(HarnessError, match="lists '../../etc'"):
        loaded.main_file("model.bin")


def test_a_model_archive_is_measured_before_it_is_unpacked(tmp_path: Path) -> None:
    """A 1 MB .keras of deflated zeros that declares 576 MiB: refused from the zip's directory."""
    import zipfile

    b = copy_bundle(tmp_path)
    chunk = bytes(16 << 20)
    with (
        zipfile.ZipFile(b / "model.keras", "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z,
        z.open("model.weights.h5", "w", force_zip64=True) as member,
    ):
        for _ in range(36):  # 576 MiB
            member.write(chunk)
    assert (b / "model.keras").stat().st_size < 4 << 20
    bundle.write_manifest(b)
    proc = harness("tokenize", "--bundle", str(b), "--runtimes", "py", "good")
    one_line_error(proc, "tokenize", f"{b}/model.keras: unpacks to 603,979,776 bytes, more than the 536,870,912")

"""Training: a smoke test on a tiny user corpus, determinism, and the committed reference bundle.

The tiny corpus is ~200 templated reviews; words are planted per split so that "vocabulary
from the training split only" can be checked directly: a word seen only in test reviews (or
only in validation reviews) must not be in tokenizer.json, while a word seen only in training
reviews must be.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import platform
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.core import bundle
from harness.core.errors import HarnessError
from harness.core.paths import REFERENCE_BUNDLE
from harness.data import corpus, training
from harness.data.text_cnn import Hyperparameters
from harness.data.tokenizer import from_corpus

SEED = 7
HP = Hyperparameters(max_epochs=2)
BUNDLE_FILES = {bundle.MODEL, bundle.TOKENIZER, bundle.METRICS, bundle.SIGNATURE}

# Planted words: each appears only in reviews of one split, at least twice (the builder's min_count).
ONLY_IN = {"train": "trainonlyword", "validation": "valonlyword", "test": "testonlyword"}

POSITIVE = ["wonderful", "moving", "witty", "gorgeous", "brilliant", "charming", "delightful", "superb"]
NEGATIVE = ["dull", "tedious", "clumsy", "lifeless", "awful", "boring", "messy", "forgettable"]
SUBJECTS = ["film", "movie", "story", "script", "cast", "picture", "drama", "comedy"]


def tiny_corpus_lines(n: int = 200) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        label = i % 2
        words = POSITIVE if label else NEGATIVE
        subject = SUBJECTS[(i // 2) % len(SUBJECTS)]
        text = f"a {words[i % 8]} and {words[(i * 3 + 1) % 8]} {subject}, truly {words[(i * 5 + 2) % 8]}"
        rid = f"tiny-{i:03d}"
        text += f" {ONLY_IN[corpus.split_of(rid)]}"
        rows.append({"id": rid, "text": text, "label": "pos" if label else "neg"})
    return rows


@pytest.fixture(scope="module")
def fast_fold_table():
    """The fold table is a pure function of the Unicode database (~3 s CPU): build it once per module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(from_corpus, "build_fold_table", functools.cache(from_corpus.build_fold_table))
        yield


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "tiny.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in tiny_corpus_lines()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_corpus: Path, fast_fold_table: None):
    out = tmp_path_factory.mktemp("bundle") / "tiny"
    metrics = training.train_bundle(str(tiny_corpus), out, SEED, hp=HP)
    return out, metrics


def test_tiny_corpus_plants_each_word_in_one_split_only(tiny_corpus: Path) -> None:
    reviews = corpus.load(str(tiny_corpus))
    assert len(reviews) == 200
    for split, rs in corpus.by_split(reviews).items():
        assert len(rs) >= 5, split
        for word_split, word in ONLY_IN.items():
            count = sum(word in r.text.split() for r in rs)
            assert (count == len(rs)) if word_split == split else (count == 0)


def test_bundle_manifest_matches_its_files(trained: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, _ = trained
    b = bundle.load(out)  # verifies sha256 and bytes of every listed file, and the bundle hash
    assert set(b.manifest["files"]) == BUNDLE_FILES
    on_disk = {p.name for p in out.iterdir() if p.is_file()} - {bundle.MANIFEST}
    assert on_disk == BUNDLE_FILES
    assert re.fullmatch(r"[0-9a-f]{64}", b.hash)
    # The verification is real: an edited copy is refused, naming the file.
    copy = tmp_path / "edited"
    shutil.copytree(out, copy)
    (copy / bundle.METRICS).write_text((copy / bundle.METRICS).read_text().replace("{", "{ ", 1))
    with pytest.raises(HarnessError, match=re.escape(str(copy / bundle.METRICS))):
        bundle.load(copy)


def test_metrics_record_splits_corpus_seed_versions_and_command(
    trained: tuple[Path, dict[str, Any]], tiny_corpus: Path
) -> None:
    out, returned = trained
    metrics = json.loads((out / bundle.METRICS).read_text(encoding="utf-8"))
    assert "training_seconds" not in metrics  # a time in a hashed file would change the bundle hash every run
    assert {**metrics, "training_seconds": returned["training_seconds"]} == returned
    reviews = corpus.load(str(tiny_corpus))
    sizes = {s: len(rs) for s, rs in corpus.by_split(reviews).items()}
    assert set(metrics["splits"]) == set(corpus.SPLITS)
    for split, m in metrics["splits"].items():
        assert m["n"] == sizes[split]
        assert 0.0 <= m["accuracy"] <= 1.0
        assert m["loss"] > 0
    assert metrics["corpus"] == {"name": str(tiny_corpus), "sha256": corpus.corpus_hash(reviews), "reviews": 200}
    assert metrics["seed"] == SEED
    assert set(metrics["versions"]) >= {"python", "tensorflow", "keras", "numpy"}
    assert metrics["versions"]["python"] == platform.python_version()
    assert isinstance(returned["training_seconds"], float) and returned["training_seconds"] > 0
    assert metrics["command"].startswith("harness train")
    assert re.fullmatch(r"[0-9a-f]{64}", metrics["weights_sha256"])
    assert 1 <= metrics["epochs_run"] <= HP.max_epochs
    assert metrics["hyperparameters"]["max_epochs"] == HP.max_epochs


def test_weights_hash_is_that_of_the_saved_model(trained: tuple[Path, dict[str, Any]]) -> None:
    from harness.data.text_cnn import weights_hash
    from runtimes.frameworks import import_keras

    out, metrics = trained
    saved = import_keras().saving.load_model(out / bundle.MODEL, compile=False)
    assert weights_hash(saved) == metrics["weights_sha256"]


def test_signature_describes_int32_ids_and_sigmoid(trained: tuple[Path, dict[str, Any]]) -> None:
    out, _ = trained
    spec = json.loads((out / bundle.TOKENIZER).read_text(encoding="utf-8"))
    sig = json.loads((out / bundle.SIGNATURE).read_text(encoding="utf-8"))
    assert sig == {
        "input": {
            "name": "token_ids",
            "dtype": "int32",
            "shape": [None, spec["length"]],
            "vocab_size": len(spec["vocab"]),
        },
        "output": {"kind": "sigmoid", "classes": 1, "positive_index": 0},
    }
    s = bundle.load(out).signature()
    assert (s.length, s.vocab_size, s.output_kind, s.classes, s.positive_index) == (
        48,
        len(spec["vocab"]),
        "sigmoid",
        1,
        0,
    )


def test_vocabulary_comes_from_the_train_split_only(trained: tuple[Path, dict[str, Any]]) -> None:
    out, _ = trained
    tok = bundle.load(out).tokenizer()
    vocab = set(tok.vocab)
    for word in ONLY_IN.values():
        assert tok.tokens(word) == [word]  # one token each, so membership is meaningful
    assert ONLY_IN["train"] in vocab
    assert ONLY_IN["validation"] not in vocab
    assert ONLY_IN["test"] not in vocab
    assert tok.encode(ONLY_IN["test"])[0] == tok.oov_id
    assert tok.encode(ONLY_IN["train"])[0] not in (tok.oov_id, tok.pad_id)
    assert {"wonderful", "dull", "film"} <= vocab
    assert tok.vocab[:2] == ["<pad>", "<oov>"]


def test_same_seed_gives_the_same_weights(
    trained: tuple[Path, dict[str, Any]], tiny_corpus: Path, tmp_path: Path
) -> None:
    out, first = trained
    again = training.train_bundle(str(tiny_corpus), tmp_path / "again", SEED, hp=HP)
    assert again["weights_sha256"] == first["weights_sha256"]
    assert again["splits"] == first["splits"]
    assert (tmp_path / "again" / bundle.TOKENIZER).read_bytes() == (out / bundle.TOKENIZER).read_bytes()
    # ...and the same bytes: model.keras carries no save time, metrics.json no training time (issue 16)
    assert (tmp_path / "again" / bundle.MODEL).read_bytes() == (out / bundle.MODEL).read_bytes()
    assert bundle.load(tmp_path / "again").hash == bundle.load(out).hash
    other = training.train_bundle(str(tiny_corpus), tmp_path / "other", SEED + 1, hp=HP)
    assert other["weights_sha256"] != first["weights_sha256"]


def test_too_small_corpus_is_one_line(tmp_path: Path) -> None:
    ids = [rid for rid in (f"r{i}" for i in range(100)) if corpus.split_of(rid) == "train"][:2]
    path = tmp_path / "two.jsonl"  # both reviews in train, none in validation: nothing to early-stop on
    path.write_text("".join(json.dumps({"id": rid, "text": "good", "label": 1}) + "\n" for rid in ids))
    with pytest.raises(HarnessError) as e:
        training.train_bundle(str(path), tmp_path / "out", SEED, hp=HP)
    assert "\n" not in str(e.value) and str(path) in str(e.value)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------
# The committed reference bundle (golden/reference)
# ---------------------------------------------------------------------------------------


def test_reference_manifest_matches_its_files() -> None:
    b = bundle.load(REFERENCE_BUNDLE)
    assert set(b.manifest["files"]) == BUNDLE_FILES
    on_disk = {p.name for p in REFERENCE_BUNDLE.iterdir() if p.is_file()} - {bundle.MANIFEST}
    assert on_disk == BUNDLE_FILES, "files in golden/reference not listed in its manifest (or listed and missing)"


def test_reference_meets_accuracy_and_size_floors() -> None:
    b = bundle.load(REFERENCE_BUNDLE)
    metrics = b.metrics()
    assert metrics["splits"]["test"]["accuracy"] >= 0.75
    assert b.model_path.stat().st_size <= 1_500_000
    assert metrics["corpus"]["name"] == corpus.BUILTIN
    assert metrics["command"].startswith("harness train")
    assert b.signature().vocab_size == b.tokenizer().vocab_size


def test_reference_test_accuracy_reproduces(reference_bundle: bundle.Bundle, test_split: list) -> None:
    """The recorded accuracy is what the committed model actually scores on the held-out split."""
    import numpy as np

    from harness.data.text_cnn import scores
    from runtimes.frameworks import import_keras

    tok = reference_bundle.tokenizer()
    x = np.asarray(tok.encode_batch(r.text for r in test_split), dtype=np.int32)
    y = np.asarray([r.label for r in test_split])
    m = import_keras().saving.load_model(reference_bundle.model_path, compile=False)
    accuracy = float(np.mean((scores(m, x) > 0.5) == (y == 1)))
    recorded = reference_bundle.metrics()["splits"]["test"]
    assert recorded["n"] == len(test_split)
    assert abs(accuracy - recorded["accuracy"]) <= 1.0 / len(test_split)
    assert accuracy >= 0.75


def test_train_refuses_to_replace_a_folder_that_is_not_a_bundle(tmp_path):
    from harness.core.bundle import check_replaceable
    from harness.core.errors import HarnessError

    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("precious")
    with pytest.raises(HarnessError, match="not a bundle folder; refusing to replace it"):
        check_replaceable(keep)
    assert (keep / "notes.txt").read_text() == "precious"
    check_replaceable(tmp_path / "new")  # absent: fine
    (tmp_path / "empty").mkdir()
    check_replaceable(tmp_path / "empty")  # empty: fine


def test_model_keras_has_fixed_entry_times_and_loads(trained: tuple[Path, dict[str, Any]]) -> None:
    import zipfile

    from harness.data.reproducible import EPOCH, EPOCH_TEXT
    from runtimes.frameworks import import_keras

    out, metrics = trained
    with zipfile.ZipFile(out / bundle.MODEL) as z:
        assert {i.date_time for i in z.infolist()} == {EPOCH}
        assert json.loads(z.read("metadata.json"))["date_saved"] == EPOCH_TEXT
    from harness.data.text_cnn import weights_hash

    assert (
        weights_hash(import_keras().saving.load_model(out / bundle.MODEL, compile=False)) == metrics["weights_sha256"]
    )


def test_recorded_command_leaves_out_where_the_bundle_went(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["harness", "train", "--corpus", "c.jsonl", "--out", "/tmp/x", "--seed", "3"])
    assert training.recorded_command() == "harness train --corpus c.jsonl --seed 3"
    monkeypatch.setattr("sys.argv", ["harness", "train", "--out=/tmp/y"])
    assert training.recorded_command() == "harness train"


def test_train_check_judges_a_retrain_by_tolerance(trained: tuple[Path, dict[str, Any]], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from harness import cli

    out, _ = trained
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert cli.main(["train", "--check", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (
        result["passed"]
        and result["same_hash"]
        and result["max_weight_diff"] == 0.0
        and result["max_score_diff"] == 0.0
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # --check writes nothing
    # A bundle whose weights are not what its record retrains to fails, with the figures.
    changed = tmp_path / "changed"
    shutil.copytree(out, changed)
    record = json.loads((changed / bundle.METRICS).read_text())
    record["seed"] = SEED + 1
    (changed / bundle.METRICS).write_text(json.dumps(record))
    bundle.write_manifest(changed)
    assert cli.main(["train", "--check", "--out", str(changed)]) == 1
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert not result["passed"] and result["max_weight_diff"] > result["tolerance"]["weight_atol"]
    assert "train --check: FAIL (max_weight_diff" in captured.err


def test_shared_object_ids_are_numbered_not_addresses(trained: tuple[Path, dict[str, Any]]) -> None:
    """Keras writes id() of each shared object; the saved config numbers them 1, 2, ... instead."""
    import re
    import zipfile

    from harness.data.reproducible import canonical_config

    out, _ = trained
    with zipfile.ZipFile(out / bundle.MODEL) as z:
        ids = {int(i) for i in re.findall(r'"shared_object_id": (\d+)', z.read("config.json").decode())}
    assert ids and ids == set(range(1, len(ids) + 1))
    config = {
        "a": {"shared_object_id": 140581684537488},
        "b": [{"shared_object_id": 9}, {"shared_object_id": 140581684537488}],
    }
    assert canonical_config(config) == {
        "a": {"shared_object_id": 1},
        "b": [{"shared_object_id": 2}, {"shared_object_id": 1}],
    }


TRAIN_IN_A_CHILD = """
import sys
sys.path.insert(0, "tests")
from pathlib import Path
from test_training import HP, SEED
from harness.data import training
training.train_bundle(sys.argv[1], Path(sys.argv[2]), SEED, hp=HP)
"""


@pytest.mark.nightly
def test_two_processes_with_one_seed_make_one_bundle_hash(tmp_path: Path) -> None:
    """Two processes (so two sets of memory addresses) train the same bundle: one hash (about 60 s)."""
    import subprocess
    import sys

    from harness.core.paths import REPO

    corpus_file = tmp_path / "tiny.jsonl"
    corpus_file.write_text("".join(json.dumps(r) + "\n" for r in tiny_corpus_lines()), encoding="utf-8")
    hashes = []
    for run in ("one", "two"):
        proc = subprocess.run(
            [sys.executable, "-c", TRAIN_IN_A_CHILD, str(corpus_file), str(tmp_path / run)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        hashes.append(bundle.load(tmp_path / run).hash)
    assert hashes[0] == hashes[1]


@pytest.fixture(scope="module")
def distilled(tmp_path_factory: pytest.TempPathFactory, tiny_corpus: Path, fast_fold_table: None):
    from harness.data import distill

    teachers = distill.Teachers(
        hyperparameters=Hyperparameters(embedding_dim=4, filters=4, max_epochs=2),
        vocabulary=distill.Vocabulary(max_vocab=500, min_count=1),
        seeds=(3, 4),
    )
    out = tmp_path_factory.mktemp("distilled") / "bundle"
    metrics = training.train_bundle(str(tiny_corpus), out, SEED, hp=HP, teachers=teachers, candidates=2)
    return out, metrics, teachers


def test_distilled_bundle_records_its_teachers_and_the_seeds_tried(distilled) -> None:
    out, metrics, teachers = distilled
    recorded = json.loads((out / bundle.METRICS).read_text())
    assert recorded["distillation"]["seeds"] == [3, 4]
    assert recorded["distillation"]["label_weight"] == 0.0
    assert len(recorded["distillation"]["test_accuracy"]) == 2
    tried = recorded["candidates"]
    assert [c["seed"] for c in tried] == [SEED, SEED + 1]
    best = max(tried, key=lambda c: c["validation_accuracy"])  # the first of equals is kept
    assert recorded["seed"] == best["seed"]
    assert recorded["vocabulary"] == {"max_vocab": 10_000, "min_count": 3}


def test_soft_targets_are_the_teachers_scores_not_the_labels(tiny_corpus: Path, fast_fold_table: None) -> None:
    import numpy as np

    from harness.data import distill

    splits = corpus.by_split(corpus.load(str(tiny_corpus)))
    labels = np.asarray([r.label for r in splits["train"]], dtype=np.float32)
    teachers = distill.Teachers(
        hyperparameters=Hyperparameters(embedding_dim=4, filters=4, max_epochs=2),
        vocabulary=distill.Vocabulary(max_vocab=500, min_count=1),
        seeds=(3,),
    )
    targets, _ = distill.soft_targets(teachers, splits, labels)
    assert targets.shape == labels.shape and np.all((targets > 0) & (targets < 1))
    half, _ = distill.soft_targets(dataclasses.replace(teachers, label_weight=0.5), splits, labels)
    assert np.allclose(half, 0.5 * labels + 0.5 * targets, atol=1e-6)


def test_train_check_retrains_the_teachers_and_the_candidates(distilled, capsys) -> None:
    from harness import cli

    out, _, _ = distilled
    assert cli.main(["train", "--check", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] and result["same_hash"], result

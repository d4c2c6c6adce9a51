"""`harness train --check`: retrain a bundle from what it records and judge the difference by
tolerance, not by hash.

The same seed on the same machine gives byte-identical bundle files (reproducible.py), so the
bundle hash repeats; on another machine (another CPU, BLAS, TensorFlow build) the weights
differ in the last bits (measured: at most 9.2e-7 against the committed reference, identical
metrics). So the check retrains with the bundle's recorded corpus (its sha256 must match),
seed and hyperparameters, and reports the largest weight difference, the largest held-out
score difference and the accuracy difference of each split against conformance.toml
[retrain] (weight_atol, score_atol, accuracy_points); it passes or fails on those, and reports
whether the hash also repeated.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import bundle, config
from harness.core.errors import HarnessError
from harness.data import corpus, distill, text_cnn, training

DEFAULTS = {"weight_atol": 1e-5, "score_atol": 1e-5, "accuracy_points": 0.1}


def tolerance(cfg: dict[str, Any] | None = None) -> dict[str, float]:
    cfg = cfg if cfg is not None else config.load()
    return {k: float(cfg.get("retrain", {}).get(k, v)) for k, v in DEFAULTS.items()}


@dataclass(frozen=True)
class Recorded:
    """How a bundle says it was trained."""

    corpus: str
    corpus_sha256: str | None
    seed: int
    hyperparameters: text_cnn.Hyperparameters
    vocabulary: distill.Vocabulary
    teachers: distill.Teachers | None
    # Seeds tried, the kept one chosen by validation accuracy (training.train_bundle).
    first_candidate: int
    candidates: int


def _recorded(b: bundle.Bundle) -> Recorded:
    m = b.metrics()
    try:
        name, seed = m["corpus"]["name"], int(m["seed"])
        hp = text_cnn.Hyperparameters(**m.get("hyperparameters", {}))
        vocabulary = distill.Vocabulary(**m["vocabulary"]) if "vocabulary" in m else distill.LEGACY_VOCABULARY
        teachers = distill.Teachers.from_record(m["distillation"]) if "distillation" in m else None
        tried = [int(c["seed"]) for c in m.get("candidates", [])] or [seed]
    except (KeyError, TypeError, ValueError) as e:
        raise HarnessError(
            f"{b.path / bundle.METRICS}: does not record how it was trained ({e}); only a bundle made by "
            "`harness train` can be retrained"
        ) from None
    return Recorded(name, m["corpus"].get("sha256"), seed, hp, vocabulary, teachers, tried[0], len(tried))


def _weights(path: Path) -> list[np.ndarray]:
    from runtimes.frameworks import import_keras

    return [np.asarray(w) for w in import_keras().saving.load_model(path, compile=False).get_weights()]


def check(bundle_dir: str | None) -> dict[str, Any]:
    b = bundle.load(bundle_dir)
    rec = _recorded(b)
    name = rec.corpus
    if rec.corpus_sha256 is not None and corpus.corpus_hash(corpus.load(name)) != rec.corpus_sha256:
        raise HarnessError(
            f"{name}: the corpus changed since {b.path} was trained (sha256 differs); retraining would "
            "not check anything"
        )
    tol = tolerance()
    with tempfile.TemporaryDirectory(prefix="harness-retrain-") as tmp:
        again = training.train_bundle(
            name,
            Path(tmp) / "bundle",
            rec.first_candidate,
            hp=rec.hyperparameters,
            vocabulary=rec.vocabulary,
            teachers=rec.teachers,
            candidates=rec.candidates,
        )
        retrained = bundle.load(Path(tmp) / "bundle")
        old, new = _weights(b.model_path), _weights(retrained.model_path)
        if [w.shape for w in old] != [w.shape for w in new]:
            raise HarnessError(f"{b.path}: the retrained model has other weight shapes than the bundle's")
        weight_diff = max(
            (float(np.max(np.abs(a - c))) if a.size else 0.0 for a, c in zip(old, new, strict=True)), default=0.0
        )
        reviews = corpus.held_out(b)
        x = np.asarray(b.tokenizer().encode_batch(r.text for r in reviews), dtype=np.int32)
        from runtimes.frameworks import import_keras

        keras = import_keras()
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # two models predicting in turn: retracing warnings, nothing wrong
        s_old = text_cnn.scores(keras.saving.load_model(b.model_path, compile=False), x)
        s_new = text_cnn.scores(keras.saving.load_model(retrained.model_path, compile=False), x)
        score_diff = float(np.max(np.abs(s_old - s_new))) if len(x) else 0.0
        same_hash = retrained.hash == b.hash
    recorded = b.metrics()["splits"]
    acc_points = max(
        (abs(again["splits"][s]["accuracy"] - recorded[s]["accuracy"]) * 100 for s in recorded if s in again["splits"]),
        default=0.0,
    )
    checks = {
        "max_weight_diff": (weight_diff, tol["weight_atol"]),
        "max_score_diff": (score_diff, tol["score_atol"]),
        "max_accuracy_diff_points": (round(acc_points, 4), tol["accuracy_points"]),
    }
    failing = [f"{k} {v:.3g} > {t:g}" for k, (v, t) in checks.items() if v > t]
    return {
        "bundle": str(b.path),
        "bundle_hash": b.hash,
        "retrained_hash": retrained.hash,
        "same_hash": same_hash,
        "corpus": name,
        "seed": rec.seed,
        **{k: v for k, (v, _) in checks.items()},
        "tolerance": tol,
        "passed": not failing,
        "reasons": failing,
    }

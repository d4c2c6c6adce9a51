"""`harness train`: corpus -> tokenizer spec -> reference model -> reference bundle."""

from __future__ import annotations

import json
import platform
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import atomic, bundle
from harness.core.tokenizer.reference import Tokenizer
from harness.data import corpus, distill, text_cnn
from harness.data.progress import EpochProgress
from harness.data.reproducible import normalize_keras_archive
from harness.data.tokenizer.from_corpus import build_spec


def evaluate(m: Any, data: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, float]]:
    out = {}
    for split, (x, y) in data.items():
        if len(y) == 0:
            continue
        p = np.clip(text_cnn.scores(m, x), 1e-7, 1 - 1e-7)
        loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        out[split] = {
            "accuracy": round(float(np.mean((p > 0.5) == (y > 0.5))), 6),
            "loss": round(loss, 6),
            "n": int(len(y)),
        }
    return out


def signature(length: int, vocab_size: int, output_kind: str = "sigmoid", *, classes: int = 1) -> dict[str, Any]:
    return {
        "input": {"name": "token_ids", "dtype": "int32", "shape": [None, length], "vocab_size": vocab_size},
        "output": {"kind": output_kind, "classes": classes, "positive_index": 0 if classes == 1 else 1},
    }


def tool_versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def train_bundle(
    corpus_name: str,
    out: Path,
    seed: int,
    *,
    hp: text_cnn.Hyperparameters | None = None,
    vocabulary: distill.Vocabulary = distill.REFERENCE_VOCABULARY,
    teachers: distill.Teachers | None = None,
    candidates: int = 1,
) -> dict[str, Any]:
    """`vocabulary` bounds the tokenizer (`harness frontier` trains smaller and pruned ones);
    `teachers`, when given, replace the training labels by their scores (distill.py); with
    `candidates` > 1, seeds `seed` .. `seed + candidates - 1` are trained and the one with the best
    validation accuracy is kept (held-out reviews play no part in the choice)."""
    hp = hp or text_cnn.Hyperparameters()
    bundle.check_replaceable(out)
    reviews = corpus.load(corpus_name)
    splits = corpus.by_split(reviews)
    if not splits["train"] or not splits["validation"]:
        raise_too_small(corpus_name, splits)
    spec = build_spec((r.text for r in splits["train"]), max_vocab=vocabulary.max_vocab, min_count=vocabulary.min_count)
    tok = Tokenizer(spec)
    data = {s: distill.encode(tok, rs) for s, rs in splits.items()}
    recipe: dict[str, Any] = {"vocabulary": asdict(vocabulary)}
    if teachers is not None:
        x_train, y_train = data["train"]
        targets, recipe["distillation"] = distill.soft_targets(teachers, splits, y_train)
        data_fit = {**data, "train": (x_train, targets)}
    else:
        data_fit = data
    started = time.perf_counter()
    tried = []
    best: tuple[float, Any, dict[str, Any], int] | None = None
    for candidate in range(seed, seed + max(1, candidates)):
        with EpochProgress(hp.max_epochs) as progress:
            m, info = text_cnn.train(
                data_fit, tok.vocab_size, tok.length, seed=candidate, hp=hp, on_epoch=progress.update
            )
        val = evaluate(m, {"validation": data["validation"]})["validation"]["accuracy"]
        tried.append({"seed": candidate, "validation_accuracy": val})
        if best is None or val > best[0]:
            best = (val, m, info, candidate)
    assert best is not None
    _, m, info, seed = best
    if candidates > 1:
        recipe["candidates"] = tried
    seconds = time.perf_counter() - started
    metrics = {  # what is hashed: no time, nothing that depends on where the bundle goes (reproducible.py)
        "splits": evaluate(m, data),
        "corpus": {"name": corpus_name, "sha256": corpus.corpus_hash(reviews), "reviews": len(reviews)},
        "seed": seed,
        "weights_sha256": text_cnn.weights_hash(m),
        "versions": tool_versions(),
        "command": recorded_command(),
        **info,
        **recipe,
    }
    with atomic.staged_dir(out) as stage:
        m.save(stage / bundle.MODEL)
        normalize_keras_archive(stage / bundle.MODEL)
        (stage / bundle.TOKENIZER).write_text(
            json.dumps(spec, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        atomic.write_json(stage / bundle.SIGNATURE, signature(tok.length, tok.vocab_size))
        atomic.write_json(stage / bundle.METRICS, metrics)
        bundle.write_manifest(stage)
    return {**metrics, "training_seconds": round(seconds, 2)}  # printed, not written: it differs every run


def recorded_command() -> str:
    """`harness train ...` as it was run, without --out (where a bundle goes is not an input)."""
    if sys.argv[1:2] != ["train"]:
        return "harness train"
    args, kept = sys.argv[2:], []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--out":
            skip = True
            continue
        if a.startswith("--out=") or a == "--check":
            continue
        kept.append(a)
    return shlex.join(["harness", "train", *kept])


def raise_too_small(name: str, splits: dict[str, list[corpus.Review]]) -> None:
    from harness.core.errors import HarnessError

    sizes = ", ".join(f"{s} {len(r)}" for s, r in splits.items())
    raise HarnessError(f"{name}: too few reviews to train ({sizes}); expected some in train and validation")

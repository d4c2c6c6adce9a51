"""Distillation: the shipped model learns from the scores of bigger models, not from the labels.

The seed's argument is that a small, fast model beats a slightly more accurate big one in an
app. Trained on the labels alone, the reference architecture with an 8-wide embedding on the
words seen 3+ times lands below the 32-wide one on held-out reviews; trained on the averaged
scores of three 32-wide "teachers" it lands level with it, at a fifth of the weights
(`harness frontier` measures both; docs/frontier.md says how to read it). Each teacher is
trained here, deterministically, from its recorded seed, on its own tokenizer; only their
train-split scores are used, so validation (early stopping, the choice among seeds) and the
held-out split still see the labels alone.

A bundle records its teachers (metrics.json `distillation`), so `harness train --check`
retrains them too and repeats the student's weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from harness.core.tokenizer.reference import Tokenizer
from harness.data import corpus, text_cnn
from harness.data.tokenizer.from_corpus import build_spec


@dataclass(frozen=True)
class Vocabulary:
    """What `build_spec` keeps: at most `max_vocab` ids (pad and oov included), words seen at
    least `min_count` times in the training split."""

    max_vocab: int = 10_000
    min_count: int = 3


REFERENCE_VOCABULARY = Vocabulary()
# Bundles trained before the vocabulary was recorded used these.
LEGACY_VOCABULARY = Vocabulary(max_vocab=10_000, min_count=2)


@dataclass(frozen=True)
class Teachers:
    """The models whose averaged train-split scores the student is fitted to."""

    hyperparameters: text_cnn.Hyperparameters
    vocabulary: Vocabulary
    seeds: tuple[int, ...]
    # The share of the true label in the student's target; 0 = the teachers' scores alone.
    label_weight: float = 0.0

    def record(self) -> dict[str, Any]:
        return {
            "hyperparameters": asdict(self.hyperparameters),
            "vocabulary": asdict(self.vocabulary),
            "seeds": list(self.seeds),
            "label_weight": self.label_weight,
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Teachers:
        return cls(
            hyperparameters=text_cnn.Hyperparameters(**rec["hyperparameters"]),
            vocabulary=Vocabulary(**rec["vocabulary"]),
            seeds=tuple(int(s) for s in rec["seeds"]),
            label_weight=float(rec["label_weight"]),
        )


# The reference's teachers: the architecture the reference had until issue 27 (32-wide
# embedding, 64 filters, words seen 2+ times), at three seeds.
REFERENCE_TEACHERS = Teachers(
    hyperparameters=text_cnn.Hyperparameters(embedding_dim=32, filters=64),
    vocabulary=Vocabulary(max_vocab=10_000, min_count=2),
    seeds=(1234, 7, 42),
)


def encode(tok: Tokenizer, reviews: list[corpus.Review]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids [N, L] and labels [N] of `reviews`."""
    x = np.asarray(tok.encode_batch(r.text for r in reviews), dtype=np.int32).reshape(-1, tok.length)
    y = np.asarray([r.label for r in reviews], dtype=np.float32)
    return x, y


# (teachers, the splits' review ids) -> averaged train scores and record: `harness frontier`
# distils every variant from the same teachers in one process.
_taught: dict[tuple[Teachers, tuple[str, ...]], tuple[np.ndarray, dict[str, Any]]] = {}


def soft_targets(
    teachers: Teachers, splits: dict[str, list[corpus.Review]], labels: np.ndarray
) -> tuple[np.ndarray, dict[str, Any]]:
    """The student's training targets for splits['train'] (in its order), and what is recorded:
    each teacher's held-out accuracy and that of their average."""
    key = (teachers, tuple(r.id for s in ("train", "validation", "test") for r in splits.get(s, [])))
    if key not in _taught:
        _taught[key] = _teach(teachers, splits)
    averaged, record = _taught[key]
    targets = teachers.label_weight * labels + (1.0 - teachers.label_weight) * averaged
    return targets.astype(np.float32), dict(record)


def _teach(teachers: Teachers, splits: dict[str, list[corpus.Review]]) -> tuple[np.ndarray, dict[str, Any]]:
    spec = build_spec(
        (r.text for r in splits["train"]),
        max_vocab=teachers.vocabulary.max_vocab,
        min_count=teachers.vocabulary.min_count,
    )
    tok = Tokenizer(spec)
    data = {s: encode(tok, rs) for s, rs in splits.items()}
    train_scores, test_scores = [], []
    for seed in teachers.seeds:
        model, _ = text_cnn.train(data, tok.vocab_size, tok.length, seed=seed, hp=teachers.hyperparameters)
        train_scores.append(text_cnn.scores(model, data["train"][0]))
        if len(data["test"][1]):
            test_scores.append(text_cnn.scores(model, data["test"][0]))
    averaged = np.mean(train_scores, axis=0)
    record = teachers.record()
    if test_scores:
        y = data["test"][1] > 0.5

        def accuracy(scores: np.ndarray) -> float:
            return round(float(np.mean((scores > 0.5) == y)), 6)

        record["test_accuracy"] = [accuracy(s) for s in test_scores]
        record["test_accuracy_of_average"] = accuracy(np.mean(test_scores, axis=0))
    return averaged, record

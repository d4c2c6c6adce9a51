"""`make bench`'s emulator-against-Apple figures over the model zoo (the report has the reference's).

For every zoo model (harness/data/zoo.py) at the zoo tests' length, on held-out reviews: how
far our Core ML emulator is from Apple's Core AI engine at the same precision (`coreml-ref` vs
`coreai@f16`, `coreml-ref@fp32` vs `coreai`), beside each one's distance from Keras, with the
float16 step at the worst score (a pair one float16 step apart is two correct roundings, not an
emulator error: docs/coreai.md). A runtime that cannot run a model gives its failure line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.bench.zoo import zoo_bundle
from harness.core import bundle
from harness.data import corpus, zoo
from harness.run.engines import Engines
from runtimes.failures import RuntimeFailed
from runtimes.selection import select

PAIRS = (("coreml-ref", "coreai@f16"), ("coreml-ref@fp32", "coreai"))
LENGTH = 12  # the zoo tests' length: the unrolled recurrent conversions grow with it
REVIEWS = 200


def _pair(keras: np.ndarray, emulator: np.ndarray, apple: np.ndarray) -> dict[str, Any]:
    d = np.abs(emulator - apple)
    worst = int(np.argmax(d))
    return {
        "max_abs_diff": float(d.max()),
        "mean_abs_diff": float(d.mean()),
        "flips": int(np.sum((emulator > 0.5) != (apple > 0.5))),
        "emulator_vs_keras": float(np.abs(emulator - keras).max()),
        "apple_vs_keras": float(np.abs(apple - keras).max()),
        "float16_step_at_worst": float(np.spacing(np.float16(max(emulator[worst], apple[worst])))),
    }


def bench_emulator_vs_apple(like: bundle.Bundle) -> dict[str, Any]:
    """{kind: {"<emulator> vs <apple>": figures or {"error": ...}}} for every zoo model."""
    rids = ["keras", *dict.fromkeys(r for pair in PAIRS for r in pair)]
    texts = [r.text for r in corpus.held_out(like)[:REVIEWS]]
    out: dict[str, Any] = {"length": LENGTH, "reviews": len(texts), "models": {}}
    for kind in zoo.ZOO:
        b = zoo_bundle(kind, like, LENGTH)
        ids = np.asarray(b.tokenizer().encode_batch(texts), np.int32)
        scores: dict[str, Any] = {}
        with Engines(b, select(",".join(rids)).runtimes) as engines:
            for rid in rids:
                if rid not in engines.runtimes:
                    scores[rid] = f"{rid} is not available here"
                    continue
                try:
                    scores[rid] = engines.run(rid, ids).scores
                except RuntimeFailed as e:
                    scores[rid] = e.failure.line()
        model: dict[str, Any] = {}
        for emulator, apple in PAIRS:
            trio = [scores.get(r) for r in ("keras", emulator, apple)]
            bad = next((s for s in trio if isinstance(s, str)), None)
            model[f"{emulator} vs {apple}"] = {"error": bad} if bad is not None else _pair(*trio)  # type: ignore[arg-type]
        out["models"][kind] = model
    return out

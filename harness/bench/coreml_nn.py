"""`make bench`'s NeuralNetwork figures: single-review latency of the `.mlmodel` an iOS 13-14 app
ships, evaluated by coreml-nn-ref, on the reference model and on recurrent zoo models, beside
the ML Program evaluator (coreml-ref) on the same bundles.

Why recurrent models apart: a NeuralNetwork LSTM is a fused `uniDirectionalLSTM` layer when the
harness exports it (a time-step loop inside one layer), while a GRU is unrolled into hundreds of
small layers, so the evaluator's cost per layer shows there. `python -m harness.bench.coreml_nn`
prints just these figures; the zoo bundles and their exports are cached (harness/bench/zoo.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.bench.runtimes import single_review
from harness.bench.zoo import zoo_bundle
from harness.core import bundle
from harness.data.corpus import held_out
from harness.run.engines import Engines
from runtimes import tokenizers
from runtimes.base import Session
from runtimes.selection import select

RUNTIMES = ("coreml-ref", "coreml-nn-ref", "coreml-nn-ref@f16")
ZOO_KINDS = ("lstm", "gru")


def _layer_types(rid: str, session: Session) -> dict[str, Any]:
    return {"layer_types": len(session.info.get("nn_layers") or session.info.get("mil_ops") or [])}


def _latencies(b: bundle.Bundle, row: np.ndarray, repeats: int) -> dict[str, Any]:
    with Engines(b, select(",".join(RUNTIMES)).runtimes) as engines:
        return {rid: single_review(engines, rid, row, repeats=repeats, facts=_layer_types) for rid in RUNTIMES}


def bench_coreml_nn(like: bundle.Bundle, text: str, repeats: int = 100) -> dict[str, Any]:
    """{model: {runtime: {p50_ms, p95_ms, layer_types} or {error}}}: the reference and ZOO_KINDS."""
    figures: dict[str, Any] = {"repeats": repeats, "runtimes": list(RUNTIMES), "models": {}}
    length = like.signature().length
    for name, b in [("reference", like), *((kind, zoo_bundle(kind, like, length)) for kind in ZOO_KINDS)]:
        row = np.asarray(tokenizers.tokenize(tokenizers.REFERENCE, b, [text]), dtype=np.int32)[0]
        figures["models"][name] = _latencies(b, row, repeats)
    return figures


def main() -> None:
    import json

    b = bundle.load(None)
    print(json.dumps(bench_coreml_nn(b, held_out(b)[0].text), indent=2))


if __name__ == "__main__":
    main()

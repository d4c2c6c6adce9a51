"""`harness bench` / `make bench`: the speed figures the issues name, as one JSON object.

Latency is measured inside each engine after warm-up (in the page for browser runtimes),
never as `model.predict` round trips; export time is measured cold in a scratch cache,
then again warm (cached). `make bench` (the matrix) measures everything; with `--runtimes`
ids, only what those runtimes need: their families' exports and sizes, the browser
tokenizers and the web app only for a web runtime, training and the suite not at all.

One module per kind of figure: `exports` (export time, bytes), `runtimes` (latency,
throughput), `suite` (training, tokenizer, conformance suite), `webapp` (per engine, the
phone profile, first-visit bytes, against the issues' targets), `layers` (compare --layers),
`tokenizers` (a team's own Keras tokenizer and its JavaScript port), `zoo` (every zoo model's
single-review latency on keras, tfjs-wasm and coreml-ref; with the matrix, or `--zoo only`),
`memory` (100,000 cases through `harness predict`: resident memory and cases/s), `coreml_nn`
(the NeuralNetwork .mlmodel's latency on the reference and recurrent zoo models), `seed_formats`
(a tf_keras LSTM as the seed ships it: its TF.js layers model, graph model, LiteRT).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.bench import memory
from harness.bench.exports import FAMILY_TARGETS, bench_exports, scratch_cache
from harness.bench.runtimes import bench_runtime
from harness.bench.suite import bench_conformance_suite, bench_tokenizer_py, bench_training
from harness.check import gates
from harness.check.sizes import measure_sizes
from harness.core import bundle
from harness.data.corpus import held_out
from harness.run.engines import Engines
from runtimes import registry, tokenizers
from runtimes.selection import KEYWORDS, select

__all__ = ["bench_exports", "bench_runtime", "run_bench", "scratch_cache"]


def _sizes(b: bundle.Bundle, targets: set[str | None], everything: bool) -> dict[str, Any]:
    """Shipped bytes and gzip bytes per size target (android: the .tflite + tokenizer.json)."""
    budgets = {k: v for k, v in gates.size_budgets().items() if everything or k.partition(":")[2] in targets}
    return {
        key: {k: s[k] for k in ("bytes", "gzip_bytes", "budget_gzip_bytes", "passed", "error") if s.get(k) is not None}
        for key, s in measure_sizes(b, budgets).items()
    }


def run_bench(
    bundle_dir: str | None, selection: str, repeats: int, *, zoo: str = "include", large_cases: int = memory.LARGE
) -> dict[str, Any]:
    """The figures (see the module doc); `zoo` "include" adds the model zoo's latencies to a full
    run (the matrix or all), "only" gives just those, "skip" none; `large_cases` 0 skips the
    large-input figure."""
    from harness.bench.zoo import bench_zoo

    b = bundle.load(bundle_dir)
    chosen = select(selection, with_reference=True)
    everything = selection.strip() in KEYWORDS
    specs = [registry.spec(rid) for rid in [*chosen.ids, *chosen.unavailable]]
    web = everything or any(s.platform == "web" for s in specs)
    texts = [r.text for r in held_out(b)]
    if zoo == "only":
        return {"bundle_hash": b.hash, "zoo": bench_zoo(b, texts[0], min(repeats, 100))}
    ids = np.asarray(tokenizers.tokenize(tokenizers.REFERENCE, b, texts), dtype=np.int32)
    result: dict[str, Any] = {"bundle_hash": b.hash, "reviews": len(texts)}
    if everything:
        result["training"] = bench_training()
    result["tokenizer"] = {"py": bench_tokenizer_py(b, texts)}
    if web and tokenizers.availability("js").ok:
        from runtimes.tokenizers import browser as browser_tokenizers

        result["tokenizer"].update(browser_tokenizers.bench(b, texts))
    if everything:  # a team's own preprocessing: the keras-tokenizer reference and its JS port in Chromium
        from harness.bench.tokenizers import bench_keras_tokenizer

        result["tokenizer"]["keras-tokenizer"] = bench_keras_tokenizer()
    families = {s.family for s in specs}
    for family, targets in FAMILY_TARGETS.items():
        if everything or family in families:
            result[f"export_{family}"] = bench_exports(b, targets)
    with Engines(b, chosen.runtimes) as engines:
        result["runtimes"] = {rid: bench_runtime(engines, rid, ids, repeats=repeats) for rid in engines.runtime_ids}
    result["sizes"] = _sizes(b, {s.target for s in specs}, everything)
    result["unavailable"] = {rid: str(m) for rid, m in chosen.unavailable.items()}
    if everything:  # one `compare --layers` on the reference model (harness/bench/compare_layers.py)
        from harness.bench.compare_layers import bench_layers

        result["compare_layers"] = bench_layers(b)
    from runtimes.browser.host import BrowserHost

    host = BrowserHost.current()
    if host is not None:
        from harness.bench.webapp import bench_engines

        result["browser_engines"] = bench_engines(host.drivers)
    if web:
        from harness.bench.webapp import bench_webapp

        result["webapp"] = bench_webapp(b)
    if zoo == "include" and everything:
        result["zoo"] = bench_zoo(b, texts[0], min(repeats, 100))
    if everything:  # the NeuralNetwork .mlmodel on the reference and recurrent zoo models (bench/coreml_nn.py)
        from harness.bench.coreml_nn import bench_coreml_nn

        result["coreml_nn"] = bench_coreml_nn(b, texts[0], min(repeats, 100))

    if everything or "coreai" in families:  # our Core ML emulator against Apple's engine, every zoo model
        from harness.bench.emulator_vs_apple import bench_emulator_vs_apple

        result["emulator_vs_apple_zoo"] = bench_emulator_vs_apple(b)

    if everything:  # the seed's formats: a tf_keras LSTM's layers model (harness/bench/seed_formats.py)
        from harness.bench.seed_formats import bench_seed_formats

        result["seed_formats"] = bench_seed_formats(b, texts[0], min(repeats, 100))
    if everything:
        result["conformance_suite"] = bench_conformance_suite()
    if large_cases:
        large = [rid for rid in (memory.RUNTIMES if everything else chosen.requested) if rid in chosen.ids]
        result["large_input"] = memory.run(bundle_dir, tuple(large), large_cases)
    return result

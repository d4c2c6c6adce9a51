"""The model zoo (harness/data/zoo.py) through Apple's converter and engine, on Core AI.

Each zoo kind, at the zoo test's short length (12 ids), becomes a bundle, is converted by
coreai-torch in float32 and float16 and scored by Apple's engine on held-out reviews, judged
against Keras by each runtime's tolerance policy (conformance.toml). Exports go to a
module-scoped cache. All nightly: each kind costs a zoo model, two conversions and Keras
(about 25 s of CPU), and tests/test_coreai.py proves the same machinery on the reference model
in `make test`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import export
from harness.bench.zoo import zoo_bundle
from harness.check.compare import compare
from harness.core import bundle, config
from harness.core.paths import cache_dir
from harness.data import zoo
from runtimes import coreai_env, registry

pytestmark = pytest.mark.skipif(not coreai_env.status().ok, reason=f"Core AI: {coreai_env.status().reason}")

LENGTH = 12
N_REVIEWS = 64


@pytest.fixture(scope="module")
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    user_corpora = cache_dir() / "corpora"
    cache = tmp_path_factory.mktemp("coreai-zoo-cache")
    if user_corpora.is_dir():
        (cache / "corpora").symlink_to(user_corpora, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(cache))
        yield cache


def _scores(rid: str, b: bundle.Bundle, ids: np.ndarray) -> Any:
    rt = registry.get(rid)
    target = rt.spec.target
    with rt.open(b, export.export(b, target) if target else None) as s:
        return s.run(ids).scores


@pytest.mark.nightly
@pytest.mark.parametrize("kind", zoo.ZOO)
def test_zoo_model_within_policy_on_core_ai(tmp_cache, reference_bundle, test_split, kind):
    b = zoo_bundle(kind, reference_bundle, LENGTH)
    ids = np.asarray(b.tokenizer().encode_batch([r.text for r in test_split[:N_REVIEWS]]), np.int32)
    keras = _scores("keras", b, ids)
    for rid in ("coreai", "coreai@f16"):
        got = _scores(rid, b, ids)
        verdict = compare(
            rid, keras, got, tol=config.tolerance(rid, registry.spec(rid).precision), threshold=config.threshold()
        )
        assert verdict.passed, (kind, rid, verdict.reasons)
        bound = 1e-6 if rid == "coreai" else 5e-3  # float32: summation order only; float16: a few roundings
        assert np.abs(got - keras).max() < bound, (kind, rid, float(np.abs(got - keras).max()))

"""TF.js in real Chromium: agreement with keras, backend facts, guard rails."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest

from harness import export
from harness.core.errors import HarnessError
from harness.run.engines import Engines
from runtimes import registry
from runtimes.browser import host as browser

pytestmark = pytest.mark.browser

if not browser.availability().ok:
    pytest.skip(f"browser runtimes unavailable: {browser.availability().reason}", allow_module_level=True)


@pytest.fixture(scope="module")
def ids(reference_bundle, test_split):
    tok = reference_bundle.tokenizer()
    return np.asarray(tok.encode_batch(r.text for r in test_split[:300]), dtype=np.int32)


@pytest.fixture(scope="module")
def keras_scores(reference_bundle, ids):
    with Engines(reference_bundle, [registry.get("keras")]) as engines:
        return engines.scores("keras", ids)


@pytest.mark.parametrize(
    "runtime_id, atol",
    [("tfjs-cpu", 1e-4), ("tfjs-wasm", 1e-4), ("tfjs-webgl", 1e-4), ("tfjs-wasm@f16", 0.05), ("tfjs-wasm@u8", 0.05)],
)
def test_agrees_with_keras(reference_bundle, ids, keras_scores, runtime_id, atol):
    with Engines(reference_bundle, [registry.get(runtime_id)]) as engines:
        result = engines.run(runtime_id, ids)
    diff = np.abs(result.scores - keras_scores)
    assert diff.max() <= atol, f"{runtime_id}: max |diff| {diff.max():.3g}"
    assert np.mean((result.scores > 0.5) == (keras_scores > 0.5)) >= 0.99
    assert result.seconds > 0


@pytest.mark.parametrize("runtime_id", ["tfjs-cpu", "tfjs-wasm", "tfjs-webgl"])
def test_a_row_scores_the_same_in_any_batch(reference_bundle, ids, runtime_id):
    """What lets Engines answer a row it already scored from memory (the golden cases that are
    also held-out reviews): a review's score does not depend on the rows batched with it."""
    with Engines(reference_bundle, [registry.get(runtime_id)]) as engines:
        batch = engines.run(runtime_id, ids[:24]).scores
        alone = np.concatenate([engines.run(runtime_id, ids[i : i + 1]).scores for i in range(24)])
        shuffled = engines.run(runtime_id, ids[:24][::-1]).scores[::-1]
    np.testing.assert_array_equal(batch, alone)
    np.testing.assert_array_equal(batch, shuffled)


def test_engines_score_a_row_once(reference_bundle, ids, keras_scores):
    with Engines(reference_bundle, [registry.get("keras")]) as engines:
        first = engines.scores("keras", ids[:50])
        calls = []
        session = engines.session("keras")
        real_run = session.run
        session.run = lambda x: calls.append(len(x)) or real_run(x)  # type: ignore[method-assign]
        again = engines.scores("keras", ids[:60])
    assert calls == [10]  # only the 10 rows it had not scored
    np.testing.assert_array_equal(again[:50], first)
    np.testing.assert_allclose(again, keras_scores[:60], atol=1e-6)


def test_reports_wasm_flavour_and_webgl_precision(reference_bundle):
    with Engines(reference_bundle, [registry.get("tfjs-wasm"), registry.get("tfjs-webgl")]) as engines:
        wasm, webgl = engines.session("tfjs-wasm"), engines.session("tfjs-webgl")
    assert wasm.info["wasm_flavour"] in {"threads+simd", "simd", "plain"}
    assert wasm.info["cross_origin_isolated"] is True  # COOP/COEP from the server
    assert webgl.info["renderer"] and webgl.info["float_precision"] in {"float32", "float16"}


def test_out_of_range_ids_never_reach_the_runtime(reference_bundle):
    rt = registry.get("tfjs-wasm")
    with rt.open(reference_bundle, export.export(reference_bundle, rt.spec.target)) as session:
        vocab = reference_bundle.signature().vocab_size
        for bad in (vocab, -1):
            with pytest.raises(HarnessError, match=f"token id {bad} outside"):
                session.run(np.full((2, 48), bad, dtype=np.int32))
        with pytest.raises(HarnessError, match=r"shape \[N, 48\]"):
            session.run(np.zeros((2, 47), dtype=np.int32))


@pytest.mark.parametrize("engine", ["chromium", "firefox", "webkit"])
def test_a_request_off_the_machine_is_refused_and_fails_the_call(engine):
    """The server's CSP makes every engine refuse it before the network; a call fails naming
    the URL (the one that made it, or, when the engine reports the refusal a moment later, the
    next one), and the URL is in the host's one blocked list; the page stays usable."""
    if not browser.availability(engine).ok:
        pytest.skip(f"{engine} unavailable: {browser.availability(engine).reason}")
    host = browser.BrowserHost.shared()
    page = host.open_page("/page/tfjs.html", "window.harness && window.harness.ready", engine)
    urls = ["http://198.51.100.7/model.json", "https://cdn.example.invalid/tf.min.js"]
    try:
        for url in urls:
            named = []
            try:
                assert page.call("(u) => fetch(u).then(() => 'loaded', () => 'refused')", url) == "refused"
            except HarnessError as e:
                named.append(str(e))
            deadline = time.monotonic() + 10
            while not named and time.monotonic() < deadline:
                try:
                    page.call("() => new Promise((r) => setTimeout(r, 100))")
                except HarnessError as e:
                    named.append(str(e))
            assert named and f"blocked a request off this machine: {url}" in named[0], named
            assert url in host.blocked
        time.sleep(0.5)
        with contextlib.suppress(HarnessError):  # a late duplicate report of the same refusal
            page.call("() => new Promise((r) => setTimeout(r, 200))")
        assert page.call("() => 'still usable'") == "still usable"
    finally:
        page.close()
        for url in urls:  # other tests assert nothing else was blocked
            while url in host.blocked:
                host.blocked.remove(url)


def test_page_errors_surface_with_the_page_message():
    host = browser.BrowserHost.shared()
    page = host.open_page("/page/tfjs.html", "window.harness && window.harness.ready")
    try:
        with pytest.raises(HarnessError, match="boom from the page"):
            page.call("() => { throw new Error('boom from the page') }")
        with pytest.raises(HarnessError, match="console error: loud"):
            page.call("() => { console.error('loud'); return 1 }")
    finally:
        page.close()

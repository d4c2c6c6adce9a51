"""webgl16: TF.js webgl on half-float textures, as on a phone GPU without float32 render targets.

Real Chromium with SwiftShader and TF.js's own WEBGL_FORCE_F16_TEXTURES flag; the reference
model's failure must read as its cause (token ids above 2048 rounded before the lookup), and the
shipped web app must refuse webgl where float32 rendering is missing (docs/phones.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.check.doctor import webgl_warning
from harness.core import config, float16_ids
from harness.core.paths import REFERENCE_BUNDLE
from harness.run.engines import Engines
from runtimes import registry
from runtimes.browser import host as browser_host

LOW_IDS = ([5, 17, 300, 1200, 2047], [2, 9, 2000])  # reviews whose every id float16 keeps


def test_float16_keeps_ids_up_to_2048_and_rounds_the_odd_ones_above():
    ids = np.arange(0, 8192)
    lost = float16_ids.rounded(ids)
    assert not lost[: float16_ids.EXACT_MAX + 1].any()
    assert lost[2049] and not lost[2050] and lost[4097] and not lost[4100]
    assert float16_ids.vocabulary_warning(2049) == ""  # ids 0..2048: all exact
    assert "2048" in float16_ids.vocabulary_warning(10000)


def test_explain_names_the_rounded_ids_only_when_they_account_for_the_gap():
    ids = np.zeros((4, 3), dtype=np.int64)
    ids[2, 0], ids[3, 1] = 5001, 9999
    ref = np.array([0.1, 0.9, 0.5, 0.5])
    hit = float16_ids.explain(ids, ref, ref + [1e-4, -1e-4, 0.3, -0.2], atol=0.05)
    assert hit["explained"] and hit["reviews_with_rounded_ids"] == 2 and "rounded before the lookup" in hit["cause"]
    miss = float16_ids.explain(ids, ref, ref + [0.3, 0, 0, 0], atol=0.05)  # the gap is elsewhere
    assert not miss["explained"] and miss["cause"] == ""


def test_registry_config_and_doctor_know_the_webgl16_runtimes(reference_bundle):
    ids = [i for i in registry.ids() if "webgl16" in i]
    assert sorted(ids) == sorted(f"{p}tfjs-webgl16{v}" for p in ("", "firefox:", "webkit:") for v in ("", "@u8"))
    spec = registry.spec("tfjs-webgl16@u8")
    assert spec.precision == "float16-storage" and spec.target == "tfjs-u8" and spec.backend == "webgl16"
    assert "float16 storage" in spec.options["label"]
    assert config.tolerance(spec.id, spec.precision).atol == 0.05
    vocab = reference_bundle.signature().vocab_size
    assert vocab > 2048 and "2048" in webgl_warning(reference_bundle, ["keras", "tfjs-webgl"])
    assert webgl_warning(reference_bundle, ["keras", "tfjs-wasm"]) == ""


@pytest.mark.browser
@pytest.mark.nightly  # ~50 s: an export, Chromium and keras (the unit tests above run in make test)
def test_webgl16_rounds_ids_above_2048_and_nothing_else(reference_bundle):
    if not browser_host.availability("chromium").ok:
        pytest.skip(f"chromium unavailable here: {browser_host.availability('chromium').reason}")
    sig = reference_bundle.signature()
    low_rows = np.zeros((len(LOW_IDS), sig.length), dtype=np.int32)
    for row, found in zip(low_rows, LOW_IDS, strict=True):
        row[: len(found)] = found
    high = np.random.default_rng(7).integers(2049, sig.vocab_size, size=(6, sig.length), dtype=np.int32)
    batch = np.concatenate([low_rows, high])
    runtimes = [registry.get("keras"), registry.get("tfjs-webgl"), registry.get("tfjs-webgl16")]
    with Engines(reference_bundle, runtimes) as engines:
        keras, f32, f16 = (engines.scores(rt.id, batch) for rt in runtimes)
        info = engines.session("tfjs-webgl16").info
    assert info["f16_textures"] is True and info["float32_render"] is False and info["float_precision"] == "float16"
    assert "float16 storage" in info["runs_as"]
    assert np.abs(f32 - keras).max() <= 1e-4  # the same renderer with float32 textures
    low = ~float16_ids.rows_with_rounded_ids(batch)
    assert low[:2].all() and not low[2:].any()
    assert np.abs(f16 - keras)[low].max() <= config.tolerance("tfjs-webgl16", "float16-storage").atol
    assert np.abs(f16 - keras)[~low].max() > 0.01  # other words were looked up
    why = float16_ids.explain(batch, keras, f16, atol=0.01)
    assert why["explained"], why


@pytest.mark.browser
@pytest.mark.nightly  # Chromium and keras through the CLI
def test_doctor_warns_before_converting_and_names_the_cause(capsys):
    from harness import cli

    if not browser_host.availability("chromium").ok:
        pytest.skip(f"chromium unavailable here: {browser_host.availability('chromium').reason}")
    rc = cli.main(["doctor", "--bundle", str(REFERENCE_BUNDLE), "--runtimes", "keras,tfjs-webgl16"])
    out, err = capsys.readouterr()
    assert rc == 0  # doctor's two reviews use common words only: ids below 2048
    assert err.startswith("harness doctor: warning: vocabulary of ") and "float16" in err
    row = next(line for line in out.splitlines() if line.strip().startswith("tfjs-webgl16"))
    assert "these reviews hold no id above 2048; reviews that do are rounded" in row


@pytest.mark.browser
@pytest.mark.nightly  # builds the web app (vite) and opens it twice in Chromium
def test_the_web_app_refuses_webgl_without_float32_textures(reference_bundle):
    import shutil

    from harness.app import build as webapp
    from harness.app import serve

    if shutil.which("npm") is None and webapp.read_build() is None:
        pytest.skip("npm is not installed and apps/web/dist was never built")
    if not browser_host.availability("chromium").ok:
        pytest.skip(f"chromium unavailable here: {browser_host.availability('chromium').reason}")
    webapp.build(reference_bundle)
    ready = "document.querySelector('[data-testid=\"score-button\"]') && !document.querySelector('[data-testid=\"score-button\"]').disabled"
    in_use = "() => document.querySelector('[data-testid=\"backend-in-use\"]').textContent"
    server = serve.app_server(webapp.DIST, prefix="/app/")
    shown = {}
    try:  # TF.js's own URL flag makes this Chromium's webgl store float16, as a phone GPU without float32 does
        for query in ("?backend=webgl", "?backend=webgl&tfjsflags=WEBGL_FORCE_F16_TEXTURES:true"):
            tab = (
                browser_host.BrowserHost.shared()
                .driver("chromium")
                .open_tab(server.url("/app/index.html" + query), ready, timeout_s=120)
            )
            try:
                shown[query] = tab.call(in_use)
            finally:
                tab.close()
    finally:
        server.close()
    assert shown["?backend=webgl"].startswith("webgl")
    refused = shown["?backend=webgl&tfjsflags=WEBGL_FORCE_F16_TEXTURES:true"]
    assert refused.startswith("wasm") and "webgl refused" in refused and "2048" in refused

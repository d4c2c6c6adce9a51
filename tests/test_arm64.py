"""The arm64: runtimes: LiteRT's aarch64 wheel in an arm64 Python under qemu user mode.

The unit tests read the environment's state (no qemu); the emulated ones start the real worker
under qemu-aarch64 (10-60 s each on 2 loaded cores), so they are nightly, and say why they skip
when `make setup` could not build the environment here.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.core import config
from harness.run.engines import Engines
from runtimes import registry, tokenizers
from runtimes.arm64 import env as arm64_env
from runtimes.arm64.runtime import cpu_model

TEXTS = ("a gorgeous, witty and moving film", "dull, flat and far too long", "not bad at all", "a mess")


def test_the_arm64_ids_say_what_they_are():
    ids = [i for i in registry.ids() if i.startswith("arm64:")]
    assert ids == ["arm64:tflite", "arm64:tflite@f16", "arm64:tflite@dr8", "arm64:tflite@int8", "arm64:tflite-fp16@f16"]
    for rid in ids:
        spec = registry.spec(rid)
        assert spec.platform == "android" and spec.options["emulated"] is True and "qemu" in spec.options["label"]
    fp16 = registry.spec("arm64:tflite-fp16@f16")
    assert fp16.options["xnnpack_flags"] == 0x4 and fp16.precision == "float16-arith" and fp16.target == "tflite-f16"
    assert registry.spec("arm64:tflite@int8").precision == "int8"  # the x86 classes for the same artifacts
    assert config.tolerance(fp16.id, fp16.precision).atol == 0.01
    assert cpu_model() == "cortex-a55"


def test_an_environment_setup_gave_up_on_is_unavailable_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_ARM64_ROOT", str(tmp_path))
    (tmp_path / "unavailable.txt").write_text("qemu-aarch64 >= 8.1 not found\n")
    found, why = arm64_env.find()
    assert found is None and why == "arm64 setup gave up: qemu-aarch64 >= 8.1 not found"
    (tmp_path / "unavailable.txt").unlink()
    ok = registry.get("arm64:tflite").availability()
    assert not ok.ok and ok.reason and "make setup" in ok.install  # no qemu, or no sysroot under tmp_path


def _ready() -> arm64_env.Arm64Env:
    found, why = arm64_env.find()
    if found is None:
        pytest.skip(f"arm64 environment unavailable here: {why}")
    return found


@pytest.mark.nightly  # qemu starts LiteRT in 10-60 s per session
def test_arm_kernels_agree_with_x86_and_fp16_arithmetic_moves_the_scores(reference_bundle):
    _ready()
    ids = np.asarray(tokenizers.tokenize(tokenizers.REFERENCE, reference_bundle, list(TEXTS)), dtype=np.int32)
    wanted = ["tflite", "tflite@int8", "arm64:tflite", "arm64:tflite@int8", "arm64:tflite@f16", "arm64:tflite-fp16@f16"]
    with Engines(reference_bundle, [registry.get(r) for r in wanted]) as engines:
        s = {rid: engines.scores(rid, ids) for rid in wanted}
        fp16 = engines.session("arm64:tflite-fp16@f16").info
        plain = engines.session("arm64:tflite").info
    assert np.abs(s["arm64:tflite"] - s["tflite"]).max() <= 1e-6  # measured 1.2e-7 at most
    assert np.array_equal(s["arm64:tflite@int8"], s["tflite@int8"])  # integer kernels: bit-identical
    moved = np.abs(s["arm64:tflite-fp16@f16"] - s["arm64:tflite@f16"]).max()
    assert 0 < moved <= config.tolerance("arm64:tflite-fp16@f16", "float16-arith").atol
    assert (
        fp16["emulated"] is True
        and fp16["cpu"] == "cortex-a55"
        and tuple(map(int, fp16["qemu"].split(".")[:2])) >= arm64_env.MIN_QEMU
    )
    assert fp16["fp16_inference"] is True and fp16["api"] == "CompiledModel"
    assert plain["fp16_inference"] is False and plain["api"] == "Interpreter" and plain["xnnpack_partitions"] > 0
    assert plain["machine"] == "aarch64"


@pytest.mark.nightly  # a whole report: held-out reviews, latency and golden cases under qemu
def test_report_rows_say_emulated_and_latency_is_shown_not_judged(tmp_path, monkeypatch):
    _ready()
    import json

    from harness import cli

    out = tmp_path / "report"
    cli.main(["report", "--runtimes", "keras,arm64:tflite,arm64:tflite-fp16@f16", "--out", str(out)])
    report = json.loads((out / "report.json").read_text())
    for rid, fp16 in (("arm64:tflite", False), ("arm64:tflite-fp16@f16", True)):
        row = report["runtimes"][rid]
        assert row["status"] == "ran", row.get("error")
        info = row["info"]
        assert info["emulated"] is True and info["cpu"] == "cortex-a55" and info["qemu"]
        assert info["fp16_inference"] is fp16 and "emulated CPU" in info["runs_as"]
        assert row["latency"]["single_ms"]["p50"] > 0  # measured and shown
        judged = {g["gate"]: g for g in report["gates"] if g["subject"] == rid}
        for kind in ("latency_p50", "latency_p95", "load_time"):
            assert judged[kind]["evaluated"] is False and judged[kind]["required"] is False
            assert "never judged" in judged[kind]["detail"]
        assert judged["agreement"]["passed"] and judged["agreement"]["required"]  # agreement still applies
        assert judged["golden"]["passed"]

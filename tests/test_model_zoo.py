"""The model zoo through `harness bundle` and `harness predict` on every runtime that can run it.

The architectures `harness bundle` promises (harness/data/zoo.py: CNN, fastText-style pooling,
LSTM, GRU, Bidirectional GRU, stacked LSTM, attention encoder block; sigmoid and softmax heads),
at a short input length (a tokenizer copy keeping 12 ids: the unrolled GRU's Core ML
conversion grows with it), go through the real CLI on a few dozen held-out reviews, on keras,
every TF.js backend in Chromium, coreml-ref fp16 and fp32, and LiteRT float32. Each
(model, runtime) cell is a test: inside the runtime's tolerance policy against keras, or the
declared limitation (golden/known_limitations.toml) that says why not, which must then still
happen (shown as an expected failure with its id and cause). Two models exist to prove the
limitations: exact gelu (Erfc) and a custom while loop, which TF.js must run with
executeAsync. Exports go to a temporary cache, so the user's cache is never reused or touched.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import cli
from harness.check.compare import compare
from harness.core import bundle, config
from harness.core.paths import REFERENCE_BUNDLE
from harness.data import zoo
from runtimes import registry
from runtimes.selection import select

pytestmark = [pytest.mark.browser, pytest.mark.coreml, pytest.mark.slow]

LENGTH = 12
# the reference tokenizer, keeping LENGTH ids (harness bundle --tokenizer FILE --maxlen N)
SHORT = ("--tokenizer", str(REFERENCE_BUNDLE / "tokenizer.json"), "--maxlen", str(LENGTH))
N_REVIEWS = 36
KINDS = (*zoo.ZOO, "gelu", "loop")
# make test runs the kinds whose ops nothing else runs (LSTM, GRU, attention, the two
# limitations); the rest repeat ops of these or of the reference model, which every test of the
# conformance suite runs (the bidirectional GRU is a GRU and its reversal: tests/test_coreml_recurrent.py
# and tests/test_tflite.py convert it too, and its unrolled Core ML conversion is the zoo's
# slowest): the nightly job covers them (make test-nightly).
NIGHTLY_KINDS = ("cnn", "fasttext", "bigru", "stacked")


def _kinds(kinds: tuple[str, ...]) -> list[Any]:
    return [pytest.param(k, marks=[pytest.mark.nightly] if k in NIGHTLY_KINDS else []) for k in kinds]


RUNTIMES = ("keras", "tfjs-cpu", "tfjs-wasm", "tfjs-webgl", "tfjs-webgpu", "coreml-ref", "coreml-ref@fp32")
# Android: the float32 LiteRT a phone runs (XNNPACK), when this checkout has it; the quantized
# variants are tests/test_tflite.py's (full int8 refuses recurrent models: tflite-int8-recurrent)
TFLITE = tuple(rid for rid in ("tflite",) if rid in registry.ids())
# (kind, runtime glob) -> the declared limitation that cell must show
EXPECTED = {
    ("gelu", "tfjs-*"): "tfjs-erfc",
    ("gelu", "coreml-*"): "coreml-erfc",
    ("loop", "coreml-*"): "coreml-tf2-while-loop",
}
# kind -> the TF.js export's graph rewrites and execution mode
TFJS_PLAN = {
    "cnn": ([], "execute"),
    "fasttext": ([], "execute"),
    "lstm": (["unroll", "unfuse_matmul"], "execute"),
    "gru": (["unroll"], "execute"),
    "bigru": (["unroll"], "execute"),
    "stacked": (["unroll", "unfuse_matmul"], "execute"),
    "attention": (["einsum_v1"], "execute"),
    "loop": ([], "executeAsync"),
}
_TABLE: dict[str, dict[str, str]] = {}
UNAVAILABLE = {rid: str(why) for rid, why in select(",".join(RUNTIMES + TFLITE)).unavailable.items()}


def cli_run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


class Zoo:
    """Each kind bundled and predicted once (on first use), shared by its cells."""

    def __init__(self, folder: Path, cases: Path) -> None:
        self.folder, self.cases = folder, cases
        self.results: dict[str, dict[str, Any]] = {}

    def bundle_dir(self, kind: str) -> Path:
        return self.folder / f"bundle-{kind}"

    def result(self, kind: str) -> dict[str, Any]:
        if kind not in self.results:
            vocab = bundle.load(REFERENCE_BUNDLE).signature().vocab_size
            model = zoo.save(kind, vocab, LENGTH, folder=self.folder)
            out = self.bundle_dir(kind)
            rc, _, err = cli_run("bundle", "--model", str(model), *SHORT, "--out", str(out))
            assert rc == 0, err
            ids = ",".join(rid for rid in RUNTIMES + TFLITE if rid not in UNAVAILABLE)
            rc, stdout, err = cli_run("predict", "--runtimes", ids, "--bundle", str(out), "--input", str(self.cases))
            rows = [json.loads(line) for line in stdout.splitlines()]
            assert rows, err
            scores = {rid: np.asarray([r["scores"][rid] for r in rows]) for rid in rows[0]["scores"]}
            self.results[kind] = {"scores": scores, "errors": rows[0].get("errors", {}), "rc": rc, "stderr": err}
        return self.results[kind]


@pytest.fixture(scope="module")
def zoo_run(
    tmp_path_factory: pytest.TempPathFactory, test_split: list[Any], terminal_summary: list[str]
) -> Iterator[Zoo]:
    folder = tmp_path_factory.mktemp("zoo")
    cases = folder / "cases.jsonl"
    cases.write_text("".join(json.dumps({"id": r.id, "text": r.text}) + "\n" for r in test_split[:N_REVIEWS]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE", str(folder / "cache"))
        yield Zoo(folder, cases)
    if not _TABLE:
        return
    columns = [rid for rid in (*RUNTIMES[1:], *TFLITE) if any(rid in row for row in _TABLE.values())]
    terminal_summary.append(
        f"model zoo, {N_REVIEWS} held-out reviews at length {LENGTH}: max |diff| vs keras, or why not"
    )
    terminal_summary.append(f"{'model':<10} " + " ".join(f"{rid:>21}" for rid in columns))
    for kind, row in _TABLE.items():
        terminal_summary.append(f"{kind:<10} " + " ".join(f"{row.get(rid, '-'):>21}" for rid in columns))


def expected_limitation(kind: str, runtime: str) -> str | None:
    import fnmatch

    return next(
        (lim for (k, pattern), lim in EXPECTED.items() if k == kind and fnmatch.fnmatchcase(runtime, pattern)), None
    )


@pytest.mark.parametrize("runtime", [*RUNTIMES[1:], "tflite"])
@pytest.mark.parametrize("kind", _kinds(KINDS))
def test_zoo_model_on_runtime(zoo_run: Zoo, kind: str, runtime: str) -> None:
    if runtime == "tflite":
        if not TFLITE:
            pytest.skip("no tflite runtime is registered in this checkout (runtimes/registry.py)")
        runtimes = list(TFLITE)
    else:
        runtimes = [runtime]
    for rid in runtimes:
        if rid in UNAVAILABLE:
            pytest.skip(f"{rid} cannot run here: {UNAVAILABLE[rid]}")
    result = zoo_run.result(kind)
    assert "keras" in result["scores"], f"{kind}: keras did not run: {result['stderr'][-1000:]}"
    ref = result["scores"]["keras"]
    if kind in zoo.ZOO:  # the comparison means something only if scores and decisions vary
        assert ref.std() > 0.02 and 0 < np.count_nonzero(ref > config.threshold()) < len(ref), f"{kind}: {ref}"
    for rid in runtimes:
        row = _TABLE.setdefault(kind, {})
        error = result["errors"].get(rid)
        lim = expected_limitation(kind, rid)
        if lim is not None:
            assert error is not None, f"{kind} now runs on {rid}: limitation {lim} no longer happens, remove it"
            assert f"known limitation {lim}:" in error, f"{kind} on {rid}: expected limitation {lim}, got: {error}"
            row[rid] = lim
            pytest.xfail(f"{kind} on {rid}: {error}")
        if error is not None:
            pytest.fail(f"{kind} on {rid}: {error}", pytrace=False)
        got = result["scores"][rid]
        tol = config.tolerance(rid, registry.spec(rid).precision)
        cmp = compare(rid, ref, got, tol=tol, threshold=config.threshold())
        row[rid] = f"{cmp.max_abs_diff:.1e}"
        print(f"{kind} {rid}: max |diff| {cmp.max_abs_diff:.2e} (atol {tol.atol:g}), agreement {cmp.agreement:.3f}")
        assert cmp.passed, f"{kind} on {rid}: {'; '.join(cmp.reasons)} (max |diff| {cmp.max_abs_diff:.2e})"


@pytest.mark.parametrize("kind", _kinds(tuple(TFJS_PLAN)))
def test_tfjs_export_says_what_it_rewrote_and_how_it_runs(zoo_run: Zoo, kind: str) -> None:
    """The TF.js artifact manifest records the rewrites (what and why), the runtime picks the
    execution mode from model.json, and no Einsum or rank-N-bias _FusedMatMul is left."""
    from harness import export
    from runtimes.tfjs import read_execution

    zoo_run.result(kind)
    art = export.export(bundle.load(zoo_run.bundle_dir(kind)), "tfjs")  # cached by the predict run
    rewrites, mode = TFJS_PLAN[kind]
    assert [r["rewrite"] for r in art.manifest["graph_rewrites"]] == rewrites
    assert all(r["why"] for r in art.manifest["graph_rewrites"])
    execution = read_execution(art.path)
    assert execution["mode"] == mode, execution
    assert "Einsum" not in art.manifest["graph_ops"]
    if mode == "executeAsync":
        assert {"Enter", "Exit", "Merge", "Switch"} <= set(execution["async_ops"])
    model_json = json.loads((art.path / "model.json").read_text())
    fused = [n for n in model_json["modelTopology"]["node"] if n["op"] == "_FusedMatMul"]
    consts = {n["name"]: n for n in model_json["modelTopology"]["node"] if n["op"] == "Const"}
    for node in fused:  # what is still fused has a rank-1 weight as its bias (wasm accepts that)
        bias = consts[node["input"][2].split(":")[0]]
        assert len(bias["attr"]["value"]["tensor"]["tensorShape"]["dim"]) == 1, node["name"]

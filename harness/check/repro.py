"""`harness repro --runtime R --case ID --out DIR`: one disagreement as a folder for an upstream bug report.

Engine maintainers (TF.js, Core ML) ask for reports they can run without our tooling
(onnxruntime#25029 asks for "more actionable bug reports"; coremltools#2110 bisects by hand).
The folder holds the artifact exactly as the harness ran it, the case's token ids (the
reference tokenizer's, as `compare --layers` feeds every runtime), the expected (reference)
and actual scores as the harness printed them, the engine, browser and converter versions,
one file to run (`run.py`), and a README shaped as an upstream issue. `run.py` imports
nothing of the harness and prints the same score, to the last digit.

Per engine family, a `Writer` adds its files (`WRITERS`; another family joins by adding one):
- tfjs: the graph model, TF.js's own bundles and wasm binaries, a page, and a Python script that
  serves the folder (with the harness's COOP/COEP headers, so wasm gets the same threads) to a
  headless Chromium and reads the score the page posts back;
- coreml: the .mlpackage, coreml-ref's evaluator copied under vendor/ unchanged, and a script
  that runs it (or, on a Mac, Apple's Core ML with `--engine coreml`).
The folder is built beside DIR and renamed into place: a failed run leaves no half folder,
and an existing DIR is never overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from harness.core import config
from harness.core.bundle import Bundle
from harness.core.cases import Case
from harness.core.errors import HarnessError
from harness.core.paths import REPO
from harness.run.engines import Engines
from runtimes import registry, tokenizers
from runtimes.failures import RuntimeFailed
from runtimes.spec import RuntimeSpec

FILES = Path(__file__).with_name("repro_files")
TFJS_LIB = (
    "@tensorflow/tfjs/dist/tf.es2017.min.js",
    "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js",
)
WASM_DIR = "@tensorflow/tfjs-backend-wasm/dist"
# coreml-ref's evaluator and what it imports, copied unchanged; the packages' __init__ files are
# stubs, so importing them pulls in nothing else of the harness.
VENDORED = (
    "runtimes/tensors.py",
    "runtimes/frameworks.py",
    "runtimes/coreml_ref/evaluator.py",
    "runtimes/coreml_ref/ops",
    "harness/core/errors.py",
    "harness/core/quiet.py",
)
STUB_PACKAGES = ("runtimes", "runtimes/coreml_ref", "harness", "harness/core")


class Writer(Protocol):
    """Adds one engine family's files to a reproducer folder; returns how to run it."""

    def __call__(self, folder: Path, spec: RuntimeSpec, artifact: Any, *, repro: dict[str, Any]) -> list[str]: ...


def _tfjs(folder: Path, spec: RuntimeSpec, artifact: Any, *, repro: dict[str, Any]) -> list[str]:
    from runtimes.tfjs import read_execution

    if spec.backend not in ("wasm", "cpu", "webgl"):
        raise HarnessError(f"{spec.id}: the reproducer page loads the wasm, cpu and webgl backends, not {spec.backend}")
    shutil.copytree(artifact.path, folder / "model", ignore=shutil.ignore_patterns("artifact.json"))
    lib = folder / "lib"
    lib.mkdir()
    for rel in TFJS_LIB:
        shutil.copy2(REPO / "node_modules" / rel, lib / Path(rel).name)
    for wasm in (REPO / "node_modules" / WASM_DIR).glob("*.wasm"):
        shutil.copy2(wasm, lib / wasm.name)
    for name in ("page.html", "page.js"):
        shutil.copy2(FILES / name, folder / name)
    shutil.copy2(FILES / "run_tfjs.py", folder / "run.py")
    repro.update(backend=spec.backend, mode=read_execution(artifact.path)["mode"])
    return [
        "python3 run.py                      # headless Chromium; or --chromium /path/to/chrome",
        "python3 -m http.server -d . 8000    # or serve it yourself and open page.html (score in the console)",
    ]


def _coreml(folder: Path, spec: RuntimeSpec, artifact: Any, *, repro: dict[str, Any]) -> list[str]:
    from runtimes.coreml_ref import PACKAGE

    shutil.copytree(artifact.main_file(PACKAGE), folder / "model.mlpackage")
    vendor = folder / "vendor"
    for rel in VENDORED:
        source, target = REPO / rel, vendor / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    for package in STUB_PACKAGES:
        (vendor / package / "__init__.py").write_text('"""Vendored from the harness for this reproducer."""\n')
    shutil.copy2(FILES / "run_coreml.py", folder / "run.py")
    return [
        "python3 run.py                  # coreml-ref (numpy + coremltools to read the package)",
        "python3 run.py --engine coreml  # Apple's Core ML, on macOS",
    ]


WRITERS: dict[str, Writer] = {"tfjs": _tfjs, "coreml": _coreml}


def write(bundle: Bundle, case: Case, runtime_id: str, *, out: Path) -> dict[str, Any]:
    """Run `case` through the reference and `runtime_id`, write the folder at `out`; its repro.json."""
    from harness.export import export

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise HarnessError(f"{out}: exists and is not an empty folder (a reproducer never overwrites)")
    spec = registry.get(runtime_id).spec
    writer = WRITERS.get(spec.family)
    if writer is None or spec.target is None:
        raise HarnessError(f"{runtime_id}: repro writes {', '.join(WRITERS)} runtimes, not {spec.family} (yet)")
    reference = config.reference()  # conformance.toml [matrix] reference
    with Engines(bundle, [registry.get(reference), registry.get(runtime_id)], [tokenizers.REFERENCE]) as engines:
        ids = engines.tokenize(tokenizers.REFERENCE, [case.text])[:1].astype(np.int32)
        try:
            ref_score = float(engines.scores(engines.reference, ids)[0])
            score = float(engines.scores(runtime_id, ids)[0])
        except RuntimeFailed as e:
            raise HarnessError(f"repro: {e.failure.line()}") from None
        info = engines.info.get(runtime_id, {})
        tolerance = engines.tolerance(runtime_id)
        artifact = export(bundle, spec.target)
    sig = bundle.signature()
    positive = sig.positive_index if sig.positive_index is not None else 1  # softmax: class 1 (bundle.positive_scores)
    repro: dict[str, Any] = {
        "case_id": case.id,
        "text": case.text,
        "ids": [int(i) for i in ids[0]],
        "runtime": runtime_id,
        "score": score,
        "reference": reference,
        "reference_score": ref_score,
        "diff": abs(score - ref_score),
        "atol": tolerance.atol,
        "positive_index": positive,
        "engine": _plain(info),
        "artifact": {k: artifact.manifest.get(k) for k in ("target", "tool_versions", "graph_rewrites", "cache_key")},
    }
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        how = writer(stage, spec, artifact, repro=repro)
        (stage / "repro.json").write_text(json.dumps(repro, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (stage / "README.md").write_text(readme(repro, how), encoding="utf-8")
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return repro


def _plain(info: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if isinstance(v, (str, int, float, bool)) or v is None}


def readme(repro: dict[str, Any], how: list[str]) -> str:
    """The README, shaped as an upstream issue: what, how to run, expected vs actual, environment."""
    engine = "\n".join(f"- {k}: {v}" for k, v in sorted(repro["engine"].items())) or "- (not recorded)"
    tools = repro["artifact"].get("tool_versions") or {}
    converter = "\n".join(f"- {k}: {v}" for k, v in sorted(tools.items())) or "- (not recorded)"
    runs = "\n".join(how)
    title = f"{repro['runtime']} gives {repro['score']!r} where {repro['reference']} gives {repro['reference_score']!r}"
    return f"""# {title}

## Describe the problem
The same model and the same int32 token ids give a different probability on {repro["runtime"]}
than on the reference ({repro["reference"]}): |diff| {repro["diff"]:.3g}, our tolerance {repro["atol"]:g}.
Input: case `{repro["case_id"]}`, text {json.dumps(repro["text"], ensure_ascii=False)}.

## To reproduce
Everything is in this folder (no network, no other tooling):
```
{runs}
```
The first line printed is the score; it should read `{repro["score"]!r}` (what we saw), while the
reference model gives `{repro["reference_score"]!r}`.

## Expected and actual
- expected ({repro["reference"]}): {repro["reference_score"]!r}
- actual ({repro["runtime"]}): {repro["score"]!r}
- input ids (shape [1, {len(repro["ids"])}], int32): `{repro["ids"]}`

## Environment
{engine}

The model was converted with:
{converter}

## Files
- repro.json: the ids, both scores, the engine facts (this README is made from it)
- run.py: one forward pass, printing the score
- the artifact exactly as it ran (model/ or model.mlpackage)
"""

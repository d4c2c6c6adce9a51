#!/usr/bin/env python3
"""Reproduce one Core ML disagreement without the harness: run model.mlpackage on repro.json's ids.

    python3 run.py                 # coreml-ref: the ML Program evaluated op by op in numpy (vendor/)
    python3 run.py --engine coreml # Apple's Core ML (macOS only): coremltools' MLModel.predict

First line printed: the score, to compare with repro.json's "score" (what the harness printed).
coreml-ref needs numpy and coremltools (to read the package); its code is copied into vendor/
(the harness's runtimes/coreml_ref, unchanged), so this folder runs where the harness is not
installed. On a Mac, `--engine coreml` asks Apple's own engine the same question.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["coreml-ref", "coreml"], default="coreml-ref")
    args = parser.parse_args()
    import numpy as np

    repro = json.loads((HERE / "repro.json").read_text(encoding="utf-8"))
    ids = np.asarray([repro["ids"]], dtype=np.int32)
    package = HERE / "model.mlpackage"
    if args.engine == "coreml":
        import coremltools as ct

        model = ct.models.MLModel(str(package))
        name = model.get_spec().description.input[0].name
        out = next(iter(model.predict({name: ids}).values()))
    else:
        sys.path.insert(0, str(HERE / "vendor"))
        from runtimes.coreml_ref.evaluator import Program

        program = Program(package)
        out = program.run({program.inputs[0].name: ids})[program.outputs[0].name]
    row = np.asarray(out, dtype=np.float64).reshape(1, -1)[0]
    score = float(row[repro["positive_index"]])
    print(repr(score))
    same = "the same" if score == repro["score"] else "DIFFERENT"
    said = f"the harness printed {repro['score']!r} ({same}); {repro['reference']}: {repro['reference_score']!r}"
    print(f"{repro['runtime']} ({args.engine}) here: {score!r}; {said}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`harness repro` (a folder that reproduces one disagreement, harness/check/repro.py) and `harness reduce`
(the fewest float32 layers, harness/check/reduce.py): the two ways to take a disagreement upstream."""

from __future__ import annotations

import argparse

from harness.core.errors import HarnessError


def cmd_repro(args: argparse.Namespace) -> int:
    from harness.check import repro
    from harness.cli.compare import compare_cases
    from harness.core import bundle
    from harness.core.paths import GOLDEN

    if args.case and not (args.input or args.report):
        args.input = str(GOLDEN / "texts.jsonl")  # the golden cases: every id a report or test names
    found, _ = compare_cases(args)
    if len(found) != 1:
        raise HarnessError(f"repro writes one case; {len(found)} given (pick one with --case ID)")
    written = repro.write(bundle.load(args.bundle), found[0], args.runtime, out=args.out)
    print(f"{written['runtime']}: {written['score']!r}  ({written['reference']}: {written['reference_score']!r})")
    print(f"wrote {args.out}: run `python3 {args.out}/run.py`; README.md is the bug report")
    return 0


def cmd_reduce(args: argparse.Namespace) -> int:
    import numpy as np

    from harness.check.reduce import Trial, reduce
    from harness.core import bundle, cases
    from harness.core.paths import GOLDEN
    from runtimes import tokenizers

    b = bundle.load(args.bundle)
    found = cases.read_cases(args.input or GOLDEN / "texts.jsonl")
    if not found:
        raise HarnessError(f"{args.input}: no cases")
    ids = tokenizers.tokenize(tokenizers.REFERENCE, b, [c.text for c in found])

    def say(trial: Trial) -> None:
        kept = ", ".join(trial.keep) or "(none: as shipped)"
        print(
            f"  float32: {kept:<40} max|diff| {trial.max_abs_diff:.3g}  "
            f"{'within' if trial.passed else 'OUTSIDE'}  {trial.bytes:,} bytes"
        )

    print(f"reduce {args.runtime}: {len(found)} cases; trials:")
    r = reduce(b, args.runtime, np.asarray(ids), on_trial=say)
    print(f"policy: |diff| <= {r.atol:g} + {r.rtol:g}*|keras| on every case; layers with ops: {', '.join(r.layers)}")
    if r.keep is None:
        print(f"no set found: {r.verdict}")
        return 1
    chosen = next(t for t in r.trials if t.keep == r.keep and t.passed)
    cost = chosen.bytes - r.baseline.bytes
    print(f"keep in float32: {', '.join(r.keep) or '(none)'} ({r.verdict})")
    print(f"size: {chosen.bytes:,} bytes vs {r.baseline.bytes:,} as shipped ({cost:+,} bytes)")
    return 0

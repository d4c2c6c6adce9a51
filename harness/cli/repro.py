"""`harness repro`: one disagreement as a folder that reproduces it without the harness (harness/check/repro.py)."""

from __future__ import annotations

import argparse

from harness.core.errors import HarnessError


def cmd_repro(args: argparse.Namespace) -> int:
    from harness.check import repro
    from harness.cli.run import _compare_cases
    from harness.core import bundle
    from harness.core.paths import GOLDEN

    if args.case and not (args.input or args.report):
        args.input = str(GOLDEN / "texts.jsonl")  # the golden cases: every id a report or test names
    found, _ = _compare_cases(args)
    if len(found) != 1:
        raise HarnessError(f"repro writes one case; {len(found)} given (pick one with --case ID)")
    written = repro.write(bundle.load(args.bundle), found[0], args.runtime, args.out)
    print(f"{written['runtime']}: {written['score']!r}  ({written['reference']}: {written['reference_score']!r})")
    print(f"wrote {args.out}: run `python3 {args.out}/run.py`; README.md is the bug report")
    return 0

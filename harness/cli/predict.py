"""`harness predict`: each case's score on every runtime, one JSON line per case, as batches finish."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.cli.output import print_jsonl, reported, say_unavailable


def cmd_predict(args: argparse.Namespace) -> int:
    from harness.core import bundle, cases
    from harness.run.predict import BATCH, RoundedIds, predict_batches
    from runtimes.selection import select

    selection = select(args.runtimes, strict=True)
    b = bundle.load(args.bundle)
    items = cases.source(args.input, args.texts)  # checked whole before anything runs
    say_unavailable("predict", selection.unavailable)
    said: set[str] = set()
    first = True
    rounded = RoundedIds(selection.reference)
    batches = predict_batches(b, selection, cases.batched(items, BATCH))
    try:
        for scored in batches:
            if first and scored.tokenized_by:
                used = ", ".join(f"{rid}={tok}" for rid, tok in scored.tokenized_by.items())
                print(f"tokenized with: {used}", file=sys.stderr)
            first = False
            errors = reported("predict", scored.failures, said)
            rounded.add(scored)
            for i, case in enumerate(scored.cases):
                scores = {rid: round(float(s[i]), 8) for rid, s in scored.scores.items()}
                row: dict[str, Any] = {"id": case.id, "scores": scores}
                if errors:
                    row["errors"] = errors
                hit = [rid for rid, mask in scored.rounded_ids.items() if mask[i]]
                if hit:
                    row["rounded_ids"] = hit  # runtimes whose lookup got other ids than these (float16)
                print_jsonl(row)
            sys.stdout.flush()
    finally:
        batches.close()  # here, not whenever the generator is collected
    for line in rounded.lines():
        print(f"harness predict: {line}", file=sys.stderr)
    return 1 if said else 0

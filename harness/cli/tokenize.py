"""`harness tokenize`: the tokenizer runtimes side by side, each divergence class shrunk to its shortest input."""

from __future__ import annotations

import argparse
import json
from typing import Any

from harness.cli.output import print_jsonl, reported, say_unavailable
from harness.core.errors import HarnessError
from runtimes.failures import StepFailure


def cmd_tokenize(args: argparse.Namespace) -> int:
    """Rows on stdout (one per case, with "agree"); on stderr the failures and, per divergence
    class, the shortest input that shows it. Exit 1 when any case or runtime differs or fails."""
    import sys
    import tempfile

    from harness.check.tokenizer.parity import check, merge_classes, shrink
    from harness.core import bundle, cases
    from harness.core.tokenizer.app_tokenizer import AppTokenizer
    from harness.run.tokenize import BATCH, tokenize_cases
    from runtimes import tokenizers

    if args.bundle and args.tokenizer:
        raise HarnessError("give --bundle DIR or --tokenizer FILE, not both")
    if args.app_asset and not args.app_tokenizer:
        raise HarnessError("--app-asset goes with --app-tokenizer PATH.js:FUNCTION")
    if not args.tokenizer and (args.maxlen or args.padding or args.truncating):
        raise HarnessError("--maxlen, --padding and --truncating describe a --tokenizer FILE; give one")
    app = AppTokenizer.parse(args.app_tokenizer, args.app_asset) if args.app_tokenizer else None
    found: dict[tuple[str, str], Any] = {}
    failures: dict[str, StepFailure] = {}
    said: set[str] = set()
    total = agree = 0
    ran: list[str] = []
    reference = ""
    with tempfile.TemporaryDirectory(prefix="harness-tokenize-") as scratch:
        b = _tokenizer_bundle(args, scratch) if args.tokenizer else bundle.load(args.bundle)
        chosen, unavailable = tokenizers.select(args.runtimes, b, app)
        if args.runtimes.strip() != "all" and unavailable:
            tid, why = next(iter(unavailable.items()))
            raise HarnessError(f"tokenizer runtime {tid} cannot run here: {why}")
        items = cases.source(args.input, args.texts)  # checked whole before anything runs, then read in batches
        if app is not None and any(tokenizers.spec(t).kind == "app" for t in chosen):
            from runtimes.tokenizers.app_module import prepare

            prepare(app)  # a module no browser can import (an import that does not resolve) is refused here
        say_unavailable("tokenize", unavailable)
        for batch in cases.batched(items, BATCH):
            results, failed = tokenize_cases(
                b, [t for t in chosen if t not in failures], [c.text for c in batch], app=app
            )
            failures.update(failed)
            errors = reported("tokenize", failures, said)
            parity = check(b, batch, results, app=app, minimize=False)
            merge_classes(found, parity.classes)
            for r in parity.rows:
                if errors:
                    r["errors"] = {**errors, **r.get("errors", {})}
                print_jsonl(r)
            sys.stdout.flush()
            total, agree, ran, reference = total + len(batch), agree + parity.agree, list(results), parity.reference
        classes = list(found.values())
        if len(ran) > 1:
            shrink(b, classes, reference, app=app)
    if len(ran) > 1 or classes:
        verdict = f"{agree} of {total} cases agree ({', '.join(ran)})"
        print(f"harness tokenize: {verdict}; reference {reference}", file=sys.stderr)
        for cls in classes:
            print(f"harness tokenize: {cls.line(total)}", file=sys.stderr)
    return 1 if failures or classes else 0


def _tokenizer_bundle(args: argparse.Namespace, scratch: str) -> Any:
    """A preprocessing-only bundle in `scratch` for `--tokenizer FILE` (no model, so --maxlen
    gives the length of a Keras Tokenizer's rows)."""
    from pathlib import Path

    from harness.core import bundle
    from harness.data.tokenizer.from_file import read_tokenizer

    spec = read_tokenizer(args.tokenizer, args.maxlen, args.padding, truncating=args.truncating)
    folder = Path(scratch) / "bundle"
    folder.mkdir()
    (folder / bundle.TOKENIZER).write_text(json.dumps(spec), encoding="ascii")
    return bundle.tokenizer_only(folder)

"""`harness compare`: one or a few reviews through the runtimes side by side (or layer by layer).

`compare_cases` is also how `harness repro` picks its case."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli.output import say_unavailable
from harness.core import json_reader
from harness.core.errors import HarnessError


def _json_texts(values: list[str]) -> list[str]:
    out = []
    for v in values:
        text = json_reader.loads(v, f"--json-text {v[:40]!r}")
        if not isinstance(text, str):
            raise HarnessError(f"--json-text {v[:40]!r}: expected a JSON string")
        out.append(text)
    return out


def compare_cases(args: argparse.Namespace) -> tuple[list[Any], str | None]:
    """The cases `compare` runs (texts, --input, or a report's worst cases, narrowed by --case),
    and the runtimes a report's worst case names (used when --runtimes is not given)."""
    from harness.core import cases

    texts = list(args.texts) + _json_texts(args.json_text)
    sources = [bool(texts), bool(args.input), bool(args.report)]
    if sum(sources) > 1:
        raise HarnessError("give texts, --input FILE or --report REPORT.json, not several")
    if args.case and not (args.input or args.report):
        raise HarnessError("--case ID picks a case from --input FILE or --report REPORT.json")
    runtimes = None
    if args.report:
        from pathlib import Path

        from harness.report.schema import read

        report = read(Path(args.report))
        worst = [w for w in report.worst_cases if args.case in (None, w.case_id)]
        if not worst:
            what = f"no worst case {args.case!r}" if args.case else "no worst cases"
            raise HarnessError(f"{args.report}: {what} (it lists {len(report.worst_cases)})")
        found = [cases.Case(worst[0].case_id, worst[0].text, "report")]
        runtimes = f"{report.reference},{worst[0].runtime}"
    elif args.input:
        found = [c for c in cases.read_cases(args.input) if args.case in (None, c.id)]
        if not found:
            raise HarnessError(f"{args.input}: no case with id {args.case!r}")
    else:
        found = cases.from_texts(texts)
    if not found:
        raise HarnessError("nothing to compare: give one or more texts")
    return found, runtimes


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.check.side_by_side import run_compare
    from harness.core import bundle
    from runtimes import tokenizers
    from runtimes.selection import select

    found, from_report = compare_cases(args)
    texts = [c.text for c in found]
    selection = select(args.runtimes or from_report or "matrix", strict=True, with_reference=True)
    if args.layers:
        from harness.check.layers_view import run_layers

        b = bundle.load(args.bundle)
        say_unavailable("compare", selection.unavailable)
        out: list[str] = []
        code = run_layers(
            b, found, selection, as_json=args.json, out=out, isolated=args.isolate, model_explorer=args.model_explorer
        )
        print("\n".join(out))
        return code
    if args.json:
        raise HarnessError("--json goes with --layers (plain compare prints a table)")
    if args.isolate or args.model_explorer:
        raise HarnessError("--isolate and --model-explorer go with --layers (they are per-layer views)")
    b = bundle.load(args.bundle)
    tokenizer_ids, _ = tokenizers.select(args.tokenizers, b)
    say_unavailable("compare", selection.unavailable)
    lines: list[str] = []
    code = run_compare(b, texts, selection, tokenizer_ids=tokenizer_ids, out=lines)
    print("\n".join(lines))
    return code

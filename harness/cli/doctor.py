"""`harness doctor`: does a model convert and run on every runtime (and `harness bundle`'s check)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from harness.core.errors import HarnessError


def check(bundle_dir: str | Path, runtimes: str, try_known: bool, as_json: bool, stream: TextIO, title: str) -> int:
    """Diagnose the bundle on `runtimes`; print the table (or JSON Lines) to `stream`; 0 when
    every runtime that can run here runs it within tolerance, else 1."""
    from harness.check.doctor import diagnose, render, webgl_warning
    from harness.core import bundle
    from runtimes.selection import select

    b = bundle.load(bundle_dir)
    selection = select(runtimes, with_reference=True)
    warning = webgl_warning(b, selection.ids + list(selection.unavailable))
    if warning:  # before the conversions start: it is known from the bundle alone
        print(f"harness doctor: warning: {warning}", file=sys.stderr, flush=True)
    rows = diagnose(b, selection, try_known)
    if as_json:
        for row in rows:
            print(json.dumps(row.as_dict(), ensure_ascii=False), file=stream)
    else:
        print("\n".join(render(rows, title)), file=stream, flush=True)
    return 0 if all(r.ok or r.result == "unavailable" for r in rows) else 1


def cmd_doctor(args: argparse.Namespace) -> int:
    from harness.core import bundle

    if bool(args.model) == bool(args.bundle):
        raise HarnessError("give the model to check: --model FILE.keras, or --bundle DIR")
    if args.bundle:
        sig = bundle.load(args.bundle).signature()
        title = f"harness doctor: {args.bundle} (ids [N, {sig.length}], {sig.output_kind} head)"
        return check(args.bundle, args.runtimes, args.try_known, args.json, sys.stdout, title)
    from harness.cli.build import make_bundle_from

    with tempfile.TemporaryDirectory(prefix="harness-doctor-") as tmp:
        out = Path(tmp) / "bundle"
        make_bundle_from(args, str(out))
        sig = bundle.load(out).signature()
        title = f"harness doctor: {args.model} (ids [N, {sig.length}], {sig.output_kind} head)"
        return check(out, args.runtimes, args.try_known, args.json, sys.stdout, title)

"""`harness report`, `harness report merge`, `harness signoff`."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.core.errors import HarnessError


def cmd_report(args: argparse.Namespace) -> int:
    from harness.report import build

    if args.merge:
        if args.merge[0] != "merge":
            raise HarnessError(
                f"unexpected argument {args.merge[0]!r} (did you mean `harness report merge A.json B.json`?)"
            )
        return _merge(args.merge[1:], args.out)
    return build.run_report(args.bundle, args.runtimes, Path(args.out) if args.out else None)


def _merge(paths: list[str], out: str | None) -> int:
    from harness.report import merge, summary, writer

    if not out:
        raise HarnessError("report merge needs --out DIR")
    merged = merge.merge([(Path(p), merge.load(Path(p))) for p in paths])
    writer.write(merged, Path(out), history_path=None)
    summary.print_summary(merged, Path(out))
    return 0 if merged.verdict == "pass" else 1


def cmd_signoff(args: argparse.Namespace) -> int:
    import datetime as dt

    from harness.report import signoff, writer

    waivers = signoff.parse_waivers(args.waive, args.reason)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else writer.REPORTS / "signoff" / stamp
    return signoff.run_signoff(args.bundle, out, waivers, args.with_reports, args.profile, args.runtimes)

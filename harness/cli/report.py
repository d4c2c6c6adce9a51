"""`harness report`, `harness report merge`, `harness signoff`."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.core.errors import HarnessError


def cmd_report(args: argparse.Namespace) -> int:
    from harness.release import signing
    from harness.report import build, writer

    key = signing.signing_key(args.sign)
    if args.merge:
        if args.merge[0] != "merge":
            raise HarnessError(
                f"unexpected argument {args.merge[0]!r} (did you mean `harness report merge A.json B.json`?)"
            )
        return _merge(args.merge[1:], args.out, args.bundle, allow_unsigned=args.allow_unsigned, key=key)
    out = Path(args.out) if args.out else None
    if out is not None:
        writer.check_out(out)  # the folder before the key, as before anything runs
    runtimes = with_fresh_exports(args.bundle, args.runtimes) if args.compare_export else args.runtimes
    if not key:
        return build.run_report(args.bundle, runtimes, out)
    signing.check_key(key)
    return build.run_report(args.bundle, runtimes, out, sign=lambda report: signing.signed(report, key))


def with_fresh_exports(bundle_dir: str | None, runtimes: str) -> str:
    """The runtimes asked for, each one that runs a shipped artifact followed by `<id>#exported`
    (the same engine on a fresh export of the same target: runtimes/registry.py)."""
    from harness.core import bundle, shipped
    from runtimes import registry, selection

    adopted = set(shipped.targets(bundle.load(bundle_dir)))
    if not adopted:
        where = bundle_dir or "golden/reference"
        raise HarnessError(f"--compare-export: the bundle {where} adopted no artifact (harness bundle --artifact)")
    out = []
    for rid in selection.requested_ids(runtimes):
        out.append(rid)
        if registry.spec(rid).target in adopted:
            out.append(rid + registry.EXPORTED)
    return ",".join(out)


def _merge(paths: list[str], out: str | None, bundle_dir: str | None, *, allow_unsigned: bool, key: str | None) -> int:
    from harness.core import bundle
    from harness.release import evidence, merge, signing
    from harness.report import summary, writer

    if not out:
        raise HarnessError("report merge needs --out DIR")
    target = Path(out)
    merge.check_out(target, [Path(p) for p in paths])
    b = bundle.load(bundle_dir)
    checked = evidence.load_inputs(paths, b, allow_unsigned=allow_unsigned)
    merged = merge.merge([(path, report) for path, report, _ in checked])
    merged = merge.with_inputs(merged, [record for _, _, record in checked])
    if key:
        merged = signing.signed(merged, key)
    writer.write(merged, target, history_path=None)
    summary.print_summary(merged, target)
    return 0 if merged.verdict == "pass" else 1


def cmd_signoff(args: argparse.Namespace) -> int:
    import datetime as dt

    from harness.release import signing, signoff
    from harness.report import writer

    waivers = signoff.parse_waivers(args.waive, args.reason)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else writer.REPORTS / "signoff" / stamp
    return signoff.run_signoff(
        args.bundle,
        out,
        waivers,
        with_reports=args.with_reports,
        profile=args.profile,
        runtimes=args.runtimes,
        allow_unsigned=args.allow_unsigned,
        key=signing.signing_key(args.sign),
        apple_ops_summary=Path(args.apple_ops) if args.apple_ops else None,
    )

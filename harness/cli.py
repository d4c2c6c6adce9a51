"""The `harness` command. A user mistake ends in one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

EXIT_USAGE = 2


def _add_bundle(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bundle", default=None, help="reference bundle folder (default: golden/reference)")


def _add_cases(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", help='JSON Lines file of {"id": ..., "text": ...}')
    p.add_argument("texts", nargs="*", help="review texts (instead of --input)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="harness", description="Cross-runtime conformance harness")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train the reference model and write a bundle")
    p.add_argument("--corpus", default="movie-reviews", help="'movie-reviews' or a .jsonl/.csv file with text,label")
    p.add_argument("--out", default=None, help="bundle folder (default: golden/reference)")
    p.add_argument("--seed", type=int, default=1234)

    p = sub.add_parser("bundle", help="make a bundle from any Keras 3 text classifier")
    p.add_argument("--model", required=True, help="FILE.keras taking int32 [N, L] ids")
    p.add_argument("--like", default=None, help="bundle whose tokenizer to reuse (default: golden/reference)")
    p.add_argument("--out", required=True)

    p = sub.add_parser("export", help="export the bundle to every target (cached)")
    _add_bundle(p)
    p.add_argument("--targets", default="all", help="comma list or 'all'")
    p.add_argument("--force", action="store_true", help="rebuild even when cached")

    p = sub.add_parser("runtimes", help="list runtime ids, whether each can run here, and why not")
    p.add_argument("--json", action="store_true")

    for name, helptext in (
        ("predict", "score texts on several runtimes"),
        ("tokenize", "token ids per tokenizer runtime"),
    ):
        p = sub.add_parser(name, help=helptext)
        _add_bundle(p)
        p.add_argument("--runtimes", required=True, help="comma list of ids, or 'all'")
        _add_cases(p)

    p = sub.add_parser("compare", help="one or more texts through every runtime, side by side")
    _add_bundle(p)
    p.add_argument("--runtimes", default="all", help="comma list of model runtime ids, or 'all'")
    p.add_argument("--tokenizers", default="all", help="tokenizer runtimes (py,pyodide,js) or 'all'")
    p.add_argument(
        "--json-text", action="append", default=[], help="a text as a JSON string (for controls, lone surrogates)"
    )
    p.add_argument("texts", nargs="*")

    p = sub.add_parser("golden", help="golden files: regenerate texts or expected outputs, or check runtimes")
    p.add_argument("action", choices=["check", "update", "texts"])
    _add_bundle(p)
    p.add_argument("--runtimes", default="all", help="model runtimes to check ('all' = the matrix, where available)")
    p.add_argument("--tokenizers", default="all", help="tokenizer runtimes to check")

    p = sub.add_parser("report", help="every runtime and gate on the held-out split; or `report merge A.json B.json`")
    p.add_argument("merge", nargs="*", help="`merge A.json B.json ...` to merge reports from several machines")
    _add_bundle(p)
    p.add_argument("--runtimes", default="all")
    p.add_argument(
        "--out", default=None, help="output folder (default: reports/runs/<time>-<pid>, linked from reports/latest)"
    )

    p = sub.add_parser("signoff", help="release sign-off: full matrix, every gate, the conformance suite")
    _add_bundle(p)
    p.add_argument("--out", default=None, help="output folder (default: reports/signoff/<time>)")
    p.add_argument("--runtimes", default="all")
    p.add_argument(
        "--waive", action="append", default=[], metavar="ID", help="gate id or runtime id to waive (repeatable)"
    )
    p.add_argument("--reason", action="append", default=[], help="why, recorded in signoff.json (one per --waive)")
    p.add_argument(
        "--with",
        dest="with_reports",
        action="append",
        default=[],
        metavar="REPORT.json",
        help="merge a report from another machine (e.g. macOS for coreml-native)",
    )
    p.add_argument("--profile", default="signoff", help="Hypothesis profile for the conformance suite")

    p = sub.add_parser("app", help="build or serve the shipped web app (apps/web)")
    app_sub = p.add_subparsers(dest="app_command", required=True)
    q = app_sub.add_parser("build", help="build apps/web/dist against the current export (idempotent)")
    _add_bundle(q)
    q.add_argument("--variant", default=None, help="TF.js export target (default: conformance.toml [webapp] variant)")
    q.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    q = app_sub.add_parser("serve", help="serve the built app on 127.0.0.1 (rebuilds first when stale)")
    _add_bundle(q)
    q.add_argument("--port", type=int, default=8000)

    p = sub.add_parser("bench", help="measure speed; prints one JSON object")
    _add_bundle(p)
    p.add_argument("--runtimes", default="all")
    p.add_argument("--repeats", type=_positive_int, default=300, help="single-review timings per runtime")
    return ap


def _positive_int(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(COMMANDS[args.command](args) or 0)
    except HarnessError as e:
        print(f"harness {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _print_jsonl(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def cmd_train(args: argparse.Namespace) -> int:
    from harness import paths, training

    out = Path(args.out) if args.out else paths.REFERENCE_BUNDLE
    metrics = training.train_bundle(args.corpus, out, args.seed)
    print(
        json.dumps(
            {"bundle": str(out), "splits": metrics["splits"], "training_seconds": metrics["training_seconds"]}, indent=2
        )
    )
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from harness.make_bundle import make_bundle

    bundle_hash = make_bundle(args.model, args.like, args.out)
    print(json.dumps({"bundle": args.out, "bundle_hash": bundle_hash}))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from harness import bundle, export

    b = bundle.load(args.bundle)
    targets = (
        export.DEFAULT_TARGETS if args.targets == "all" else [t.strip() for t in args.targets.split(",") if t.strip()]
    )
    for target in targets:
        art = export.export(b, target, force=args.force)
        _print_jsonl({
            "target": target, "path": str(art.path), "cached": art.manifest.get("cached", False),
            "export_seconds": art.manifest["export_seconds"], "bytes": art.total("bytes"), "gzip_bytes": art.total("gzip_bytes"),
        })  # fmt: skip
    return 0


def cmd_runtimes(args: argparse.Namespace) -> int:
    from runtimes import registry
    from runtimes.base import Availability

    rows: list[dict[str, Any]] = []
    for rid in registry.ids():
        spec = registry.SPECS[rid]
        try:
            ok = registry.get(rid).availability()
        except HarnessError as e:
            ok = Availability(False, str(e), "reinstall the harness (make setup)")
        rows.append({"id": rid, "available": ok.ok, "target": spec.target, "precision": spec.precision,
                     "tokenizer": spec.tokenizer, "reason": ok.reason, "install": ok.install})  # fmt: skip
    if args.json:
        for row in rows:
            _print_jsonl(row)
        return 0
    width = max(len(rid) for rid in registry.ids())
    for r in rows:
        status = "available" if r["available"] else f"unavailable: {r['reason']} -> {r['install']}"
        print(f"{r['id']:<{width}}  {r['precision']:<8} {status}")
    return 0


def cmd_tokenize(args: argparse.Namespace) -> int:
    from harness import bundle, cases
    from harness.tokenizer_runtimes import tokenize_all

    b = bundle.load(args.bundle)
    items = cases.gather(args.input, args.texts)
    results = tokenize_all(b, args.runtimes, [c.text for c in items])
    for i, case in enumerate(items):
        _print_jsonl({"id": case.id, "ids": {rid: ids[i] for rid, ids in results.items()}})
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from harness import bundle, cases
    from harness.predict import predict

    b = bundle.load(args.bundle)
    items = cases.gather(args.input, args.texts)
    scores, tokenized_by = predict(b, args.runtimes, [c.text for c in items])
    print("tokenized with: " + ", ".join(f"{rid}={tok}" for rid, tok in tokenized_by.items()), file=sys.stderr)
    for i, case in enumerate(items):
        _print_jsonl({"id": case.id, "scores": {rid: round(float(s[i]), 8) for rid, s in scores.items()}})
    return 0


def _json_texts(values: list[str]) -> list[str]:
    out = []
    for v in values:
        try:
            text = json.loads(v)
        except json.JSONDecodeError as e:
            raise HarnessError(f"--json-text {v[:40]!r}: not a JSON string ({e.msg})") from None
        if not isinstance(text, str):
            raise HarnessError(f"--json-text {v[:40]!r}: expected a JSON string")
        out.append(text)
    return out


def _model_runtimes(selection: str) -> list[str]:
    from harness.report import select

    runtimes, unavailable = select(selection)
    if selection.strip() != "all" and unavailable:
        rid, why = next(iter(unavailable.items()))
        raise HarnessError(f"runtime {rid} cannot run here: {why}")
    return [r.id for r in runtimes]


def cmd_compare(args: argparse.Namespace) -> int:
    from harness import bundle, tokenizer_runtimes
    from harness.compare_cmd import run_compare

    texts = list(args.texts) + _json_texts(args.json_text)
    if not texts:
        raise HarnessError("nothing to compare: give one or more texts")
    b = bundle.load(args.bundle)
    out: list[str] = []
    code = run_compare(b, texts, _model_runtimes(args.runtimes), tokenizer_runtimes.resolve(args.tokenizers), out)
    print("\n".join(out))
    return code


def cmd_golden(args: argparse.Namespace) -> int:
    from harness import bundle, divergences, golden, tokenizer_runtimes
    from harness.cases import read_cases
    from harness.engines import Engines

    b = bundle.load(args.bundle)
    if args.action == "texts":
        from harness.golden_texts import build

        print(f"{golden.TEXTS}: {build(b)} cases; now run `harness golden update`")
        return 0
    if args.action == "update":
        meta = golden.update(b)
        print(f"{golden.EXPECTED}: {meta['cases']} cases for bundle {meta['bundle_hash'][:12]}")
        return 0
    expected = golden.read_expected()
    golden.ensure_current(b, expected)
    cases = read_cases(golden.TEXTS)  # module attributes, so tests can point them elsewhere
    with Engines(b, _model_runtimes(args.runtimes), tokenizer_runtimes.resolve(args.tokenizers)) as engines:
        result = golden.check(b, engines, cases, expected, divergences.load())
    for f in result.findings:
        tag = f"declared ({f.declared})" if f.declared else "FAIL"
        print(f"{tag}: {f.kind} {f.runtime} case {f.case_id}: {f.detail}")
    for d in result.unused_divergences:
        print(f"FAIL: declared divergence {d} no longer occurs; remove it from golden/known_divergences.toml")
    for rid, cmp in result.comparisons.items():
        print(
            f"{rid:<20} {'pass' if cmp.passed else 'FAIL'}  max|diff| {cmp.max_abs_diff:.2e}  agreement {cmp.agreement:.4f}"
        )
    verdict = "pass" if result.passed else f"FAIL ({len(result.undeclared)} undeclared divergences)"
    print(f"golden check: {result.cases} cases, tokenizers {','.join(engines.tokenizer_ids)}: {verdict}")
    return 0 if result.passed else 1


def cmd_report(args: argparse.Namespace) -> int:
    from harness import report

    if args.merge:
        if args.merge[0] != "merge":
            raise HarnessError(
                f"unexpected argument {args.merge[0]!r} (did you mean `harness report merge A.json B.json`?)"
            )
        return _merge(args.merge[1:], args.out)
    return report.run_report(args.bundle, args.runtimes, Path(args.out) if args.out else None)


def _merge(paths: list[str], out: str | None) -> int:
    from harness import merge, report

    if not out:
        raise HarnessError("report merge needs --out DIR")
    merged = merge.merge([(Path(p), merge.load(Path(p))) for p in paths])
    report.write(merged, Path(out), history_path=None)
    report.print_summary(merged, Path(out))
    return 0 if merged["verdict"] == "pass" else 1


def cmd_signoff(args: argparse.Namespace) -> int:
    import datetime as dt

    from harness import signoff
    from harness.report import REPORTS

    waivers = signoff.parse_waivers(args.waive, args.reason)
    out = Path(args.out) if args.out else REPORTS / "signoff" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return signoff.run_signoff(args.bundle, out, waivers, args.with_reports, args.profile, args.runtimes)


def cmd_app(args: argparse.Namespace) -> int:
    from harness import webapp

    if args.app_command == "build":
        record = webapp.build(args.bundle, args.variant, force=args.force)
        print(json.dumps({"dist": str(webapp.DIST), "variant": record["variant"], "cached": record["cached"],
                          "build_seconds": record["build_seconds"], "download": record["download"]}, indent=2))  # fmt: skip
        return 0
    webapp.build(args.bundle)
    webapp.serve(args.port)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from harness.bench import run_bench

    print(json.dumps(run_bench(args.bundle, args.runtimes, args.repeats), indent=2))
    return 0


COMMANDS = {
    "train": cmd_train, "bundle": cmd_bundle, "export": cmd_export, "runtimes": cmd_runtimes,
    "tokenize": cmd_tokenize, "predict": cmd_predict, "compare": cmd_compare, "golden": cmd_golden, "signoff": cmd_signoff, "app": cmd_app, "report": cmd_report, "bench": cmd_bench,
}  # fmt: skip

if __name__ == "__main__":
    sys.exit(main())

"""Commands that make the artifacts under test: train (the reference bundle), bundle (one from any
Keras model), export (one artifact per target)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.cli.output import print_jsonl
from harness.core import strict_json


def cmd_train(args: argparse.Namespace) -> int:
    from harness.core import paths
    from harness.data import training

    out = Path(args.out) if args.out else paths.REFERENCE_BUNDLE
    if args.check:  # retrain what `out` records and judge the difference by tolerance
        from harness.data import retrain_check

        result = retrain_check.check(str(out))
        print(strict_json.dumps(result, indent=2))
        verdict = "pass" if result["passed"] else f"FAIL ({'; '.join(result['reasons'])})"
        print(f"train --check: {verdict}", file=sys.stderr)
        return 0 if result["passed"] else 1
    from harness.core.errors import HarnessError
    from harness.data import distill

    if args.candidates < 1:
        raise HarnessError(f"--candidates {args.candidates}: expected 1 or more seeds to try")
    teachers = None if args.no_teachers else distill.REFERENCE_TEACHERS
    metrics = training.train_bundle(args.corpus, out, args.seed, teachers=teachers, candidates=args.candidates)
    summary = {"bundle": str(out), "splits": metrics["splits"], "training_seconds": metrics["training_seconds"]}
    print(strict_json.dumps(summary, indent=2))
    return 0


def make_bundle_from(args: argparse.Namespace, out: str) -> str:
    """`harness bundle`'s model and preprocessing options (also `harness doctor --model`) -> a bundle at `out`."""
    from harness.core.errors import HarnessError
    from harness.core.tokenizer.app_tokenizer import AppTokenizer
    from harness.data.make_bundle import make_bundle

    if args.app_asset and not args.app_tokenizer:
        raise HarnessError("--app-asset goes with --app-tokenizer PATH.js:FUNCTION")
    if args.like and args.tokenizer:
        raise HarnessError("give --like (reuse a bundle's tokenizer) or --tokenizer FILE, not both")
    app = AppTokenizer.parse(args.app_tokenizer, args.app_asset) if args.app_tokenizer else None
    artifacts = adopted_artifacts(getattr(args, "artifact", []))
    return make_bundle(
        args.model,
        args.like,
        out,
        tokenizer=args.tokenizer,
        maxlen=args.maxlen,
        padding=args.padding,
        truncating=args.truncating,
        app=app,
        logits=args.logits,
        artifacts=artifacts,
    )


def adopted_artifacts(values: list[str]) -> dict[str, Path]:
    """`--artifact TARGET=PATH` options, every target checked against the export targets first."""
    from harness import export
    from harness.data.adopt import check, parse

    artifacts = parse(values)
    for target, path in artifacts.items():  # before the model loads: a wrong option costs nothing
        export.exporter(target)  # an unknown target is refused, naming the known ones
        check(target, path)
    return artifacts


def cmd_bundle(args: argparse.Namespace) -> int:
    bundle_hash = make_bundle_from(args, args.out)
    print(strict_json.dumps({"bundle": args.out, "bundle_hash": bundle_hash}), flush=True)
    if args.doctor:  # the bundle is made either way: what cannot ship is news, not an error
        from harness.check.doctor import print_diagnosis

        title = f"harness bundle: will {args.out} ship? (harness doctor)"
        print_diagnosis(args.out, args.runtimes, try_known=False, as_json=False, stream=sys.stderr, title=title)
    else:
        print(f"harness bundle: check where it ships with `harness doctor --bundle {args.out}`", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from harness import export
    from harness.core import bundle

    b = bundle.load(args.bundle)
    targets = (
        export.DEFAULT_TARGETS if args.targets == "all" else [t.strip() for t in args.targets.split(",") if t.strip()]
    )
    for target in targets:
        export.exporter(target)  # every name checked before the first (slow) export starts
    for target in targets:
        art = export.export(b, target, force=args.force)
        print_jsonl(
            {
                "target": target,
                "path": str(art.path),
                "cached": art.manifest.get("cached", False),
                "export_seconds": art.manifest["export_seconds"],
                "bytes": art.total("bytes"),
                "gzip_bytes": art.total("gzip_bytes"),
            }
        )
    if any(t.startswith("tfjs") for t in targets):  # a TF.js export may ship on webgl (after: bad input stays one line)
        from harness.core.float16_ids import vocabulary_warning

        warning = vocabulary_warning(b.signature().vocab_size)
        if warning:
            print(f"harness export: warning: {warning}", file=sys.stderr)
    return 0

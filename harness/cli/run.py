"""Commands that run bundles on runtimes: runtimes, tokenize, predict, compare."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from harness.cli.output import print_jsonl, say_failures, say_unavailable
from harness.core import json_reader
from harness.core.errors import HarnessError
from runtimes.failures import RuntimeFailure


def cmd_runtimes(args: argparse.Namespace) -> int:
    """Model runtimes, then tokenizer runtimes: both kinds are ids that `--runtimes` takes
    (`predict`/`report` the first, `tokenize` the second), so both must be discoverable here."""
    from runtimes import registry, tokenizers
    from runtimes.base import Availability

    rows: list[dict[str, Any]] = []
    for rid, spec in registry.SPECS.items():
        try:
            ok = registry.get(rid).availability()
        except HarnessError as e:
            ok = Availability(False, str(e), "reinstall the harness (make setup)")
        rows.append(
            {
                "id": rid,
                "kind": "model",
                "available": ok.ok,
                **spec.describe(),
                "reason": ok.reason,
                "install": ok.install,
                "runs_as": spec.options.get("label", ""),
            }
        )
    for tid, tok in tokenizers.SPECS.items():
        try:
            ok = tokenizers.availability(tid)
        except HarnessError as e:
            ok = Availability(False, str(e), "reinstall the harness (make setup)")
        rows.append(
            {
                "id": tid,
                "kind": "tokenizer",
                "available": ok.ok,
                "implementation": tok.kind,
                "browser": tok.browser,
                "reason": ok.reason,
                "install": ok.install,
            }
        )
    if args.json:
        for row in rows:
            print_jsonl(row)
        return 0
    width = max(len(r["id"]) for r in rows)
    for kind, title in (("model", "model runtimes"), ("tokenizer", "tokenizer runtimes (harness tokenize)")):
        print(f"{title}:")
        for r in (r for r in rows if r["kind"] == kind):
            status = "available" if r["available"] else f"unavailable: {r['reason']} -> {r['install']}"
            if kind == "model":
                where = f"{r['platform']}/{r['browser']}" if r["browser"] else r["platform"]
                runs_as = f" ({r['runs_as']})" if r["runs_as"] else ""  # webgl16: simulated; arm64: emulated CPU
                print(f"  {r['id']:<{width}}  {r['precision']:<8} {where:<15} {status}{runs_as}")
            else:
                where = f"web/{r['browser']}" if r["browser"] else "python"
                print(f"  {r['id']:<{width}}  {r['implementation']:<8} {where:<15} {status}")
    return 0


def _reported(command: str, failures: dict[str, RuntimeFailure], said: set[str]) -> dict[str, str]:
    """Each new failure said once on stderr; every failure so far as the rows' `errors` object."""
    say_failures(command, {k: f for k, f in failures.items() if k not in said})
    said.update(failures)
    return {k: f.line() for k, f in failures.items()}


def cmd_tokenize(args: argparse.Namespace) -> int:
    """Rows on stdout (one per case, with "agree"); on stderr the failures and, per divergence
    class, the shortest input that shows it. Exit 1 when any case or runtime differs or fails."""
    import sys
    import tempfile

    from harness.check.tokenizer.parity import check, merge_classes, shrink
    from harness.core import bundle, cases
    from harness.core.tokenizer.app import AppTokenizer
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
    failures: dict[str, RuntimeFailure] = {}
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
            results, failed = tokenize_cases(b, [t for t in chosen if t not in failures], [c.text for c in batch], app)
            failures.update(failed)
            errors = _reported("tokenize", failures, said)
            parity = check(b, batch, results, app, minimize=False)
            merge_classes(found, parity.classes)
            for r in parity.rows:
                if errors:
                    r["errors"] = {**errors, **r.get("errors", {})}
                print_jsonl(r)
            sys.stdout.flush()
            total, agree, ran, reference = total + len(batch), agree + parity.agree, list(results), parity.reference
        classes = list(found.values())
        if len(ran) > 1:
            shrink(b, classes, reference, app)
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

    spec = read_tokenizer(args.tokenizer, args.maxlen, args.padding, args.truncating)
    folder = Path(scratch) / "bundle"
    folder.mkdir()
    (folder / bundle.TOKENIZER).write_text(json.dumps(spec), encoding="ascii")
    return bundle.tokenizer_only(folder)


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
            errors = _reported("predict", scored.failures, said)
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


def _json_texts(values: list[str]) -> list[str]:
    out = []
    for v in values:
        text = json_reader.loads(v, f"--json-text {v[:40]!r}")
        if not isinstance(text, str):
            raise HarnessError(f"--json-text {v[:40]!r}: expected a JSON string")
        out.append(text)
    return out


def _compare_cases(args: argparse.Namespace) -> tuple[list[Any], str | None]:
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

    found, from_report = _compare_cases(args)
    texts = [c.text for c in found]
    selection = select(args.runtimes or from_report or "matrix", strict=True, with_reference=True)
    if args.layers:
        from harness.check.layers_view import run_layers

        b = bundle.load(args.bundle)
        say_unavailable("compare", selection.unavailable)
        out: list[str] = []
        code = run_layers(
            b, found, selection, args.json, out, isolated=args.isolate, model_explorer=args.model_explorer
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
    code = run_compare(b, texts, selection, tokenizer_ids, lines)
    print("\n".join(lines))
    return code

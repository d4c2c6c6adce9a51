"""`harness runtimes`: every model and tokenizer runtime, whether it can run here, and what it is."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from harness.cli.output import print_jsonl
from harness.core.errors import HarnessError
from runtimes.base import Availability


def cmd_runtimes(args: argparse.Namespace) -> int:
    """Model runtimes, then tokenizer runtimes: both kinds are ids that `--runtimes` takes
    (`predict`/`report` the first, `tokenize` the second), so both must be discoverable here."""
    from runtimes import registry, tokenizers

    rows: list[dict[str, Any]] = []
    for rid, spec in registry.SPECS.items():
        ok = _checked(_model_availability, rid)
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
        ok = _checked(tokenizers.availability, tid)
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


def _model_availability(rid: str) -> Availability:
    from runtimes import registry

    return registry.get(rid).availability()


def _checked(check: Callable[[str], Availability], rid: str) -> Availability:
    """`check(rid)`, or unavailable with the error's words: a runtime whose own check fails is a
    row saying why, never a traceback that hides the other rows."""
    try:
        return check(rid)
    except HarnessError as e:
        return Availability(False, str(e), "reinstall the harness (make setup)")

"""`harness bench` and `harness frontier`: measured speed and size, and the accuracy-size frontier."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.core import strict_json


def cmd_bench(args: argparse.Namespace) -> int:
    from harness.bench import run_bench

    print(
        strict_json.dumps(
            run_bench(args.bundle, args.runtimes, args.repeats, zoo=args.zoo, large_cases=args.large_cases), indent=2
        )
    )
    return 0


def cmd_frontier(args: argparse.Namespace) -> int:
    """Trains and measures the grid, prints the table, writes frontier.json and frontier.html."""
    from harness.app.first_visit import app_code_gzip_bytes
    from harness.bench import frontier
    from harness.core import atomic
    from harness.core.paths import REPO
    from harness.report import frontier_page

    grid = frontier.parse_grid(args.grid) if args.grid else list(frontier.DEFAULT_GRID)
    out = Path(args.out) if args.out else REPO / "reports" / "frontier"
    app_bytes = app_code_gzip_bytes(args.bundle)
    result = frontier.run_frontier(
        grid,
        bundle=args.bundle,
        seed=args.seed,
        app_code_bytes=app_bytes,
        budget_seconds=args.budget_seconds,
        say=lambda m: print(m, file=sys.stderr, flush=True),
    )
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_json(out / "frontier.json", result)
    atomic.write_text(out / "frontier.html", frontier_page.render(result))
    print(frontier_page.table(result))
    print(f"wrote {out / 'frontier.json'} and {out / 'frontier.html'} in {result['seconds']:.0f} s")
    return 0

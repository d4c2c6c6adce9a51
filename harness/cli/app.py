"""`harness app`: build the web app for a bundle, or build and serve it."""

from __future__ import annotations

import argparse

from harness.core import strict_json


def cmd_app(args: argparse.Namespace) -> int:
    from harness.app import build, serve

    if args.app_command == "build":
        record = build.build(args.bundle, args.variant, force=args.force)
        print(
            strict_json.dumps(
                {
                    "dist": str(build.DIST),
                    "variant": record["variant"],
                    "cached": record["cached"],
                    "build_seconds": record["build_seconds"],
                    "download": record["download"],
                },
                indent=2,
            )
        )
        return 0
    build.build(args.bundle)
    serve.serve(args.port)
    return 0

"""`harness doctor`: does a model convert and run on every runtime? (The table itself is
harness.check.doctor.print_diagnosis, which `harness bundle --doctor` prints too.)"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from harness.core.errors import HarnessError


def cmd_doctor(args: argparse.Namespace) -> int:
    from harness.check.doctor import print_diagnosis
    from harness.core import bundle

    if bool(args.model) == bool(args.bundle):
        raise HarnessError("give the model to check: --model FILE.keras, or --bundle DIR")
    if args.bundle:
        sig = bundle.load(args.bundle).signature()
        title = f"harness doctor: {args.bundle} (ids [N, {sig.length}], {sig.output_kind} head)"
        return print_diagnosis(
            args.bundle, args.runtimes, try_known=args.try_known, as_json=args.json, stream=sys.stdout, title=title
        )
    from harness.cli.artifacts import make_bundle_from

    with tempfile.TemporaryDirectory(prefix="harness-doctor-") as tmp:
        out = Path(tmp) / "bundle"
        make_bundle_from(args, str(out))
        sig = bundle.load(out).signature()
        title = f"harness doctor: {args.model} (ids [N, {sig.length}], {sig.output_kind} head)"
        return print_diagnosis(
            out, args.runtimes, try_known=args.try_known, as_json=args.json, stream=sys.stdout, title=title
        )

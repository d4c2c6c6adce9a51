"""The `harness` command. A user mistake ends in one line on stderr and exit code 2; a runtime
that fails is reported beside the others and makes the exit code 1; Ctrl-C or SIGTERM ends
with 130 and no traceback (the browsers and servers started are stopped on the way out)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

from harness.cli.parser import parser
from harness.core.errors import HarnessError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _commands() -> dict[str, Callable[..., int]]:
    from harness.cli import build, doctor, golden, report, run

    return {
        "train": build.cmd_train, "bundle": build.cmd_bundle, "export": build.cmd_export, "app": build.cmd_app,
        "bench": build.cmd_bench, "runtimes": run.cmd_runtimes, "tokenize": run.cmd_tokenize,
        "predict": run.cmd_predict, "compare": run.cmd_compare, "golden": golden.cmd_golden,
        "report": report.cmd_report, "signoff": report.cmd_signoff, "doctor": doctor.cmd_doctor,
    }  # fmt: skip


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so `finally` blocks and atexit stop what this process started.
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        return int(_commands()[args.command](args) or 0)
    except HarnessError as e:
        print(f"harness {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        # A second Ctrl-C while the browsers close must not print a traceback either.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0

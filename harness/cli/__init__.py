"""The `harness` command. A user mistake ends in one line on stderr and exit code 2; a runtime
that fails is reported beside the others and makes the exit code 1; Ctrl-C or SIGTERM ends
with 130 and no traceback (the browsers and servers started are stopped on the way out)."""

from __future__ import annotations

import logging
import signal
import sys
import unicodedata
from collections.abc import Callable

from harness.cli.parser import parser
from harness.core.errors import HarnessError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _commands() -> dict[str, Callable[..., int]]:
    """Each command's function, from the module of its group (one group per module, imported
    only here, so `harness --help` imports no command)."""
    from harness.cli import app, artifacts, bench, compare, doctor, golden, inventory, predict, report, repro, tokenize

    return {
        "train": artifacts.cmd_train,
        "bundle": artifacts.cmd_bundle,
        "export": artifacts.cmd_export,
        "app": app.cmd_app,
        "bench": bench.cmd_bench,
        "frontier": bench.cmd_frontier,
        "runtimes": inventory.cmd_runtimes,
        "tokenize": tokenize.cmd_tokenize,
        "predict": predict.cmd_predict,
        "compare": compare.cmd_compare,
        "golden": golden.cmd_golden,
        "report": report.cmd_report,
        "signoff": report.cmd_signoff,
        "doctor": doctor.cmd_doctor,
        "repro": repro.cmd_repro,
        "reduce": repro.cmd_reduce,
    }


# Loggers that speak up, with a traceback, about a driver call a Ctrl-C abandoned: asyncio's
# "Task exception was never retrieved", Playwright's "Cannot find command to respond" when the
# browser answers a call that was given up. The interruption is said in one line already.
_ABANDONED_CALL_LOGGERS = ("asyncio", "playwright")


def _interrupt_once(signum: int, frame: object) -> None:
    """The first Ctrl-C or SIGTERM ends the command: from then on only cleanup is left (writing
    what finished, closing browsers and servers, here and in atexit), which a second one must
    not cut short with a traceback or a browser left behind. One place, for every command."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for name in _ABANDONED_CALL_LOGGERS:
        logging.getLogger(name).disabled = True
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _escape(c: str) -> str:
    if unicodedata.category(c)[0] != "C":
        return c
    return f"\\x{ord(c):02x}" if ord(c) <= 0xFF else f"\\u{ord(c):04x}"


def one_line(message: str) -> str:
    """An error as one line: a newline or control character (from a review's text or an
    engine's words) would otherwise cut the message or the terminal line short."""
    return "".join(_escape(c) for c in " ".join(message.splitlines()))


def main(argv: list[str] | None = None) -> int:
    """The program (`argv` None: the console script, `python -m harness.cli`) or one command
    run in-process (tests), which gets its caller's signal handlers back at the end."""
    args = parser().parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        # A review may hold a lone surrogate (golden/texts.jsonl has some); shown as \udXXX, which
        # is also how JSON writes it, instead of a UnicodeEncodeError at the first print.
        sys.stdout.reconfigure(errors="backslashreplace")
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    # SIGTERM unwinds like Ctrl-C, so `finally` blocks and atexit stop what this process started.
    signal.signal(signal.SIGINT, _interrupt_once)
    signal.signal(signal.SIGTERM, _interrupt_once)
    try:
        return int(_commands()[args.command](args) or 0)
    except HarnessError as e:
        print(f"harness {args.command}: error: {one_line(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"harness {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    finally:
        if argv is None:
            # The command is over: what is left is cleanup (closing browsers and servers in atexit).
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        else:  # an in-process caller gets its handlers and loggers back
            signal.signal(signal.SIGINT, saved[0])
            signal.signal(signal.SIGTERM, saved[1])
            for name in _ABANDONED_CALL_LOGGERS:
                logging.getLogger(name).disabled = False

"""The `harness` command line: every verb and its options (the commands live beside it)."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """A usage mistake is one line on stderr and exit code 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def _add_bundle(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bundle", default=None, help="reference bundle folder (default: golden/reference)")


def _add_cases(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", help='JSON Lines file of {"id": ..., "text": ...} ("-" reads standard input)')
    p.add_argument("texts", nargs="*", help="review texts (instead of --input)")


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _non_negative_int(value: str) -> int:
    return 0 if value.strip() == "0" else _positive_int(value)


def _port(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535 (0 = any free port), got {n}")
    return n


def _add_preprocessing(p: argparse.ArgumentParser, what: str) -> None:
    """A team's own preprocessing (README: Bring your own tokenizer)."""
    p.add_argument(
        "--tokenizer",
        metavar="FILE",
        help=f"{what}: a Keras Tokenizer.to_json() file, a TextVectorization "
        "config (with its vocabulary) or a harness tokenizer.json",
    )
    p.add_argument("--maxlen", type=_positive_int, help="sequence length (pad_sequences maxlen; default: the model's)")
    p.add_argument("--padding", choices=["pre", "post"], help="pad_sequences padding (Keras default: pre)")
    p.add_argument("--truncating", choices=["pre", "post"], help="pad_sequences truncating (Keras default: pre)")
    p.add_argument(
        "--app-tokenizer",
        metavar="PATH.js:FUNCTION",
        help="the app's own tokenizer: an ES module and "
        "the exported function that returns the ids (runs as the js tokenizer runtime)",
    )
    p.add_argument(
        "--app-asset",
        action="append",
        default=[],
        metavar="FILE",
        help="a JSON file the app tokenizer loads, passed to it after the text (repeatable, in order)",
    )


def _add_signing(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sign",
        default=None,
        metavar="KEY",
        help="sign report.json with this SSH private key (default: $HARNESS_SIGNING_KEY)",
    )
    p.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="accept reports from other machines that are unsigned or signed by a key not in"
        " golden/allowed_signers (recorded)",
    )


RUNTIMES_HELP = "comma list of runtime ids, 'matrix' (conformance.toml) or 'all' (every runtime)"


def parser() -> argparse.ArgumentParser:
    ap = OneLineParser(prog="harness", description="Cross-runtime conformance harness")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train the reference model and write a bundle")
    p.add_argument("--corpus", default="movie-reviews", help="'movie-reviews' or a .jsonl/.csv file with text,label")
    p.add_argument("--out", default=None, help="bundle folder (default: golden/reference)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument(
        "--candidates",
        type=int,
        default=8,
        help="train seeds SEED .. SEED+N-1 and keep the one with the best validation accuracy (default 8)",
    )
    p.add_argument(
        "--no-teachers",
        action="store_true",
        help="fit the labels, not the scores of the reference's three teacher models (harness/data/distill.py)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="retrain the bundle at --out from what it records and judge the difference by tolerance (writes nothing)",
    )

    p = sub.add_parser("bundle", help="make a bundle from any Keras text classifier")
    p.add_argument(
        "--model", required=True, help="FILE.keras (Keras 3 or tf_keras) or FILE.h5 (tf_keras) taking int32 [N, L] ids"
    )
    p.add_argument("--like", default=None, help="bundle whose tokenizer to reuse (default: golden/reference)")
    p.add_argument("--out", required=True)
    _add_preprocessing(p, "the model's own tokenizer instead of --like's")
    p.add_argument("--runtimes", default="all", help="runtimes the shippability check tries (" + RUNTIMES_HELP + ")")
    p.add_argument(
        "--doctor",
        action="store_true",
        help="then check the bundle on every runtime (`harness doctor`: exports, loads, scores)",
    )
    p.add_argument(
        "--logits",
        choices=["wrap", "refuse"],
        default="wrap",
        help="a model ending in a linear layer (logits): wrap it in sigmoid/softmax (default) or refuse it",
    )
    p.add_argument(
        "--artifact",
        action="append",
        default=[],
        metavar="TARGET=PATH",
        help="adopt the file your app ships as TARGET's artifact (model.json, .mlmodel, .mlpackage, .tflite; "
        "copied into the bundle, hashed, never rebuilt; repeatable)",
    )

    p = sub.add_parser(
        "doctor", help="does a model convert and run on every runtime? (exports, loads, scores 2 reviews)"
    )
    p.add_argument("--model", default=None, help="FILE.keras to check (a temporary bundle is made, like `bundle`)")
    _add_bundle(p)
    p.add_argument(
        "--like", default=None, help="with --model: bundle whose tokenizer to reuse (default: golden/reference)"
    )
    _add_preprocessing(p, "with --model: the model's own tokenizer instead of --like's")
    p.add_argument("--runtimes", default="all", help=RUNTIMES_HELP)
    p.add_argument(
        "--logits",
        choices=["wrap", "refuse"],
        default="wrap",
        help="with --model: a model ending in a linear layer: wrap it in sigmoid/softmax or refuse it",
    )
    p.add_argument("--try-known", action="store_true", help="also try runtimes a declared limitation rules out")
    p.add_argument("--json", action="store_true", help="one JSON object per runtime")

    p = sub.add_parser("export", help="export the bundle to every target (cached)")
    _add_bundle(p)
    p.add_argument("--targets", default="all", help="comma list or 'all'")
    p.add_argument("--force", action="store_true", help="rebuild even when cached")

    p = sub.add_parser("runtimes", help="list runtime ids, whether each can run here, and why not")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("predict", help="score texts on several runtimes")
    _add_bundle(p)
    p.add_argument("--runtimes", required=True, help=RUNTIMES_HELP)
    _add_cases(p)

    p = sub.add_parser(
        "tokenize", help="token ids per tokenizer runtime, whether they agree, and every divergence class"
    )
    _add_bundle(p)
    p.add_argument("--runtimes", required=True, help="tokenizer runtimes (py,pyodide,js) or 'all'")
    _add_preprocessing(p, "instead of a bundle")
    _add_cases(p)

    p = sub.add_parser("compare", help="one or more texts through every runtime, side by side")
    _add_bundle(p)
    p.add_argument("--runtimes", default=None, help=RUNTIMES_HELP + " (default: matrix)")
    p.add_argument("--tokenizers", default="all", help="tokenizer runtimes (py,pyodide,js) or 'all'")
    p.add_argument(
        "--json-text", action="append", default=[], help="a text as a JSON string (for controls, lone surrogates)"
    )
    p.add_argument("--layers", action="store_true", help="tensor by tensor: after which layer each runtime parts")
    p.add_argument("--input", help='JSON Lines file of {"id": ..., "text": ...} (with --case: that one)')
    p.add_argument(
        "--report", metavar="REPORT.json", help="a report's worst cases (with --case: that one; else the worst)"
    )
    p.add_argument("--case", metavar="ID", help="the case id to take from --input or --report")
    p.add_argument("--json", action="store_true", help="with --layers: one JSON object per case, for tools")
    p.add_argument(
        "--isolate", action="store_true", help="with --layers: each layer also on the reference's own inputs to it"
    )
    p.add_argument(
        "--model-explorer",
        metavar="DIR",
        help="with --layers: Model Explorer node data (SNR per tensor), a file per runtime",
    )
    p.add_argument("texts", nargs="*")

    p = sub.add_parser("repro", help="one disagreement as a folder that reproduces it without the harness")
    _add_bundle(p)
    p.add_argument("--runtime", required=True, help="the runtime that disagrees (tfjs-* or coreml-*)")
    p.add_argument("--case", metavar="ID", help="the case id, from --input or --report (default: golden/texts.jsonl)")
    p.add_argument("--input", help='JSON Lines file of {"id": ..., "text": ...}')
    p.add_argument("--report", metavar="REPORT.json", help="a report's worst cases")
    p.add_argument(
        "--json-text", action="append", default=[], help="a text as a JSON string (for controls, lone surrogates)"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write (must not exist, or be empty)")
    p.add_argument("texts", nargs="*")

    p = sub.add_parser("reduce", help="the fewest layers to keep in float32 so a float16 runtime meets its policy")
    _add_bundle(p)
    p.add_argument("--runtime", required=True, help="a float16 runtime (coreml-ref)")
    p.add_argument("--input", help='JSON Lines file of {"id": ..., "text": ...} (default: golden/texts.jsonl)')

    p = sub.add_parser("golden", help="golden files: regenerate texts or expected outputs, or check runtimes")
    p.add_argument("action", choices=["check", "update", "texts"])
    _add_bundle(p)
    p.add_argument("--runtimes", default="matrix", help=RUNTIMES_HELP + " (those that cannot run here are listed)")
    p.add_argument("--tokenizers", default="all", help="tokenizer runtimes to check")

    p = sub.add_parser("report", help="every runtime and gate on the held-out split; or `report merge A.json B.json`")
    p.add_argument("merge", nargs="*", help="`merge A.json B.json ...` to merge reports from several machines")
    _add_bundle(p)
    p.add_argument("--runtimes", default="matrix", help=RUNTIMES_HELP)
    p.add_argument(
        "--out", default=None, help="output folder (default: reports/runs/<time>-<pid>, linked from reports/latest)"
    )
    _add_signing(p)
    p.add_argument(
        "--compare-export",
        action="store_true",
        help="beside each runtime that runs a shipped artifact (bundle --artifact), run a fresh export of the "
        "same target as `<id>#exported`, so converter drift shows",
    )

    p = sub.add_parser("signoff", help="release sign-off: full matrix, every gate, the conformance suite")
    _add_bundle(p)
    p.add_argument("--out", default=None, help="output folder (default: reports/signoff/<time>)")
    p.add_argument("--runtimes", default="matrix", help=RUNTIMES_HELP)
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
    p.add_argument(
        "--apple-ops",
        default=None,
        metavar="SUMMARY.json",
        help="the full replay of Apple's op tests that vouches for coreml-ref"
        " (default: reports/apple-ops/summary.json, made by make apple-ops)",
    )
    _add_signing(p)

    p = sub.add_parser("app", help="build or serve the shipped web app (apps/web)")
    app_sub = p.add_subparsers(dest="app_command", required=True)
    q = app_sub.add_parser("build", help="build apps/web/dist against the current export (idempotent)")
    _add_bundle(q)
    q.add_argument("--variant", default=None, help="TF.js export target (default: conformance.toml [webapp] variant)")
    q.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    q = app_sub.add_parser("serve", help="serve the built app on 127.0.0.1 (rebuilds first when stale)")
    _add_bundle(q)
    q.add_argument("--port", type=_port, default=8000)

    p = sub.add_parser("bench", help="measure speed; prints one JSON object")
    _add_bundle(p)
    p.add_argument("--runtimes", default="matrix", help=RUNTIMES_HELP)
    p.add_argument("--repeats", type=_positive_int, default=300, help="single-review timings per runtime")
    p.add_argument(
        "--zoo",
        choices=["include", "only", "skip"],
        default="include",
        help="the model zoo's single-review p50 on keras, tfjs-wasm, coreml-ref (at most 100 timings each): "
        "added to a full run (include), alone (only) or not (skip)",
    )
    p.add_argument(
        "--large-cases",
        type=_non_negative_int,
        default=100_000,
        metavar="N",
        help="cases for the large-input figure (resident memory, cases/s of predict); 0 skips it",
    )

    p = sub.add_parser("frontier", help="train, export and measure smaller variants of the model: accuracy vs bytes")
    _add_bundle(p)
    p.add_argument(
        "--grid",
        default=None,
        metavar="V:E:F[:M],...",
        help="variants as VOCAB:EMBEDDING:FILTERS[:MIN_COUNT] (MIN_COUNT: words seen fewer times in training are"
        " out of vocabulary, default 2; default grid: 10 variants from the reference's sizes down, 3 pruned)",
    )
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument(
        "--budget-seconds",
        type=_positive_int,
        default=540,
        help="start no variant after this many seconds (default 540: the default grid ends within 10 minutes)",
    )
    p.add_argument("--out", default=None, help="folder for frontier.json and frontier.html (default: reports/frontier)")
    return ap

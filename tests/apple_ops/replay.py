"""Run Apple's MIL op tests against coreml-ref: `python -m tests.apple_ops.replay [--sample]`.

The op tests ship inside the coremltools wheel (converters/mil/mil/ops/tests/iOS14..iOS18).
They run in a child pytest with the settings they need: PYMIL_TEST_TARGETS=mlprogram and
INCLUDE_MIL_FP32_UNIT_TESTS=1 (every case in fp16 and fp32); an empty ini in a scratch dir (this
project's pyproject settings must not apply); --rootdir at the op tests dir, so node ids are
stable ("iOS17/test_conv.py::TestConv::..."; several folders share file basenames); --confcutdir
at the coremltools package (no conftest above it, such as this project's, is loaded); and the
files that import torch (not installed here) ignored. Exit 1 on any mismatch or evaluator error.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.check import apple_ops
from harness.core import atomic
from tests.apple_ops import sample

ROOT = Path(__file__).resolve().parents[2]
NEEDS_TORCH = ("iOS17/test_quantization.py", "iOS18/test_recurrent.py", "iOS18/test_transformers.py")


def coremltools_dir() -> Path:
    spec = importlib.util.find_spec("coremltools")  # not imported: that costs seconds (TensorFlow)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("coremltools is not installed (make setup)")
    return Path(next(iter(spec.submodule_search_locations)))


def op_tests_dir() -> Path:
    return coremltools_dir() / "converters" / "mil" / "mil" / "ops" / "tests"


def pytest_command(scratch: Path, summary: Path, targets: list[str], extra: list[str]) -> list[str]:
    ini = scratch / "pytest.ini"
    ini.write_text("[pytest]\n")
    tests = op_tests_dir()
    return [
        sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(tests),
        "--confcutdir", str(coremltools_dir()), "-p", "tests.apple_ops.plugin", "-p", "no:cacheprovider",
        "-p", "no:warnings", "-p", "no:hypothesispytest", "-q", "--no-header", "-o", "console_output_style=count",
        "--apple-ops-summary", str(summary),
        *(f"--ignore={tests / p}" for p in NEEDS_TORCH), *targets, *extra,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="store_true", help="only the fixed fast sample (tests/apple_ops/sample.txt)")
    parser.add_argument(
        "--make-sample", type=Path, nargs="+", metavar="SUMMARY", help="write sample.txt from replay summaries"
    )
    parser.add_argument("--summary", type=Path, default=None, help="JSON summary path (default: in the scratch dir)")
    parser.add_argument("--only", nargs="+", default=[], help="test files / node ids, relative to the op tests dir")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --), e.g. -- -k softmax -x")
    args = parser.parse_args(argv)
    if args.make_sample:
        ids = sample.write([json.loads(p.read_text()) for p in args.make_sample])
        print(f"apple-ops replay: {len(ids)} tests written to {sample.SAMPLE_FILE}", file=sys.stderr)
        return 0
    if args.only:
        targets = [str(op_tests_dir() / t) for t in args.only]
    else:
        targets = [str(op_tests_dir() / t) for t in sample.read()] if args.sample else [str(op_tests_dir())]
    full = not (args.only or args.sample or args.pytest_args)  # what a sign-off accepts (harness/check/apple_ops.py)
    if args.summary:  # the scratch dir (ini) is thrown away; the summary stays where asked
        with tempfile.TemporaryDirectory(prefix="apple-ops-") as scratch:
            return run(Path(scratch), args.summary.resolve(), targets, args.pytest_args, full)
    scratch = Path(tempfile.mkdtemp(prefix="apple-ops-"))
    return run(scratch, scratch / "summary.json", targets, args.pytest_args, full)


def run(scratch: Path, summary: Path, targets: list[str], extra: list[str], full: bool = False) -> int:
    """0: no mismatch and no evaluator error; 1: some; 2: no (complete) summary. The summary
    records what it checked (coreml-ref's source fingerprint, coremltools, full or not)."""
    env = {
        **os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "PYMIL_TEST_TARGETS": "mlprogram", "INCLUDE_MIL_FP32_UNIT_TESTS": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
    }  # fmt: skip
    started = time.time()
    proc = subprocess.run(pytest_command(scratch, summary, targets, extra), cwd=scratch, env=env)
    if not summary.is_file():
        print(f"apple-ops replay: pytest exited {proc.returncode} without a summary", file=sys.stderr)
        return 2
    data = json.loads(summary.read_text())
    data.update(apple_ops.provenance(sample=not full or bool(data.get("interrupted"))))
    atomic.write_json(summary, data)
    bad = sum(t["mismatched"] + t["error"] for t in data["totals"].values())
    print(f"apple-ops replay: {time.time() - started:.0f} s, summary {summary}", file=sys.stderr)
    if data.get("interrupted"):
        print("apple-ops replay: interrupted (SIGTERM); the summary is partial", file=sys.stderr)
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

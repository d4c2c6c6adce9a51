"""pytest plugin: every model Apple's MIL op tests build is run in coreml-ref and judged.

coremltools' op tests call `run_compare_builder`, which converts the program and hands the
MLModel to `compare_backend`; on Linux that returns without running anything. This plugin puts
`check.evaluate` in its place (in the op tests' `testing_utils` namespace, where it is looked up)
and counts each call as passed, refused (by op, with the reason) or mismatched (with the largest
|difference| and the test id). A mismatch, or an evaluator crash, fails that test; refusals do
not (the op table is incomplete on purpose, and the summary lists them by op).

Load with `-p tests.apple_ops.plugin`; `--apple-ops-summary FILE` writes the JSON summary.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.apple_ops.check import ERROR, MISMATCHED, OUT_OF_FP16, PASSED, REFUSED, Outcome, evaluate

NOT_IMPLEMENTED = "not implemented"


class Replay:
    """The plugin's state: one record per compare_backend call, one per test."""

    def __init__(self) -> None:
        self.cases: list[dict[str, Any]] = []
        self.tests: dict[str, dict[str, Any]] = {}
        self.current = "<outside a test>"
        self.calls_in_test = 0
        self.started = time.time()
        self.interrupted = False

    def compare_backend(
        self,
        mlmodel: Any,
        input_key_values: dict[str, Any],
        expected_outputs: dict[str, Any] | None,
        dtype: str = "fp32",
        atol: float = 1e-04,
        rtol: float = 1e-05,
        also_compare_shapes: bool = True,
        state: Any = None,
        allow_mismatch_ratio: float = 0.0,
    ) -> None:
        """Same signature as coremltools.converters.mil.testing_utils.compare_backend."""
        self.calls_in_test += 1
        test = self.current if self.calls_in_test == 1 else f"{self.current}#{self.calls_in_test}"
        try:
            outcome = evaluate(
                mlmodel, input_key_values, expected_outputs, dtype, atol, rtol, also_compare_shapes, state,
                allow_mismatch_ratio,
            )  # fmt: skip
        except Exception as e:  # an evaluator bug, not a refusal: it must fail the run
            tb = traceback.extract_tb(e.__traceback__)[-1]
            where = f"{Path(tb.filename).name}:{tb.lineno}"
            outcome = Outcome(ERROR, reason=f"{type(e).__name__}: {str(e).splitlines()[0][:300]} ({where})")
        self.cases.append(
            {"test": test, "precision": dtype, "status": outcome.status, "op": outcome.op, "reason": outcome.reason,
             "max_abs_diff": outcome.max_abs_diff, "ops": outcome.ops, "fp16_program": outcome.fp16_program}
        )  # fmt: skip
        if outcome.status in (MISMATCHED, ERROR):
            raise AssertionError(f"coreml-ref {outcome.status}: {outcome.reason} (max |diff| {outcome.max_abs_diff})")

    def summary(self) -> dict[str, Any]:
        totals: dict[str, Counter[str]] = defaultdict(Counter)
        refused: dict[str, dict[str, Any]] = {}
        for c in self.cases:
            totals[c["precision"]][c["status"]] += 1
            if c["status"] == REFUSED:
                entry = refused.setdefault(c["op"], {"fp16": 0, "fp32": 0, "reasons": Counter()})
                entry[c["precision"]] += 1
                entry["reasons"][c["reason"] or NOT_IMPLEMENTED] += 1
        order = sorted(refused, key=lambda op: -(refused[op]["fp16"] + refused[op]["fp32"]))
        return {
            "seconds": round(time.time() - self.started, 1),
            "interrupted": self.interrupted,
            "totals": {
                p: {s: totals[p][s] for s in (PASSED, REFUSED, MISMATCHED, ERROR, OUT_OF_FP16)} for p in sorted(totals)
            },
            "fp32_at_fp16_tolerance": sum(1 for c in self.cases if c["fp16_program"] and c["status"] == PASSED),
            "refused_by_op": {
                op: {**refused[op], "reasons": dict(refused[op]["reasons"].most_common())} for op in order
            },
            "mismatches": [c for c in self.cases if c["status"] == MISMATCHED],
            "out_of_fp16_range": [c for c in self.cases if c["status"] == OUT_OF_FP16],
            "errors": [c for c in self.cases if c["status"] == ERROR],
            "pytest_outcomes": dict(Counter(t["outcome"] for t in self.tests.values())),
            "cases": self.cases,
            "tests": self.tests,
        }


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--apple-ops-summary", default=None, help="write the coreml-ref replay summary (JSON) here")


_STATE: list[Replay] = []  # the session's Replay (logreport hooks get no config to find it on)


def _replay() -> Replay:
    return _STATE[0]


def pytest_configure(config: pytest.Config) -> None:
    from coremltools.converters.mil.mil.ops.tests import testing_utils

    _STATE[:] = [Replay()]
    _SUMMARY[:] = [config.getoption("--apple-ops-summary")]
    testing_utils.compare_backend = _replay().compare_backend  # run_compare_builder looks it up here
    signal.signal(signal.SIGTERM, _interrupted)  # a terminated replay still writes what it counted


_SUMMARY: list[str | None] = [None]


def _write_summary() -> None:
    if _SUMMARY[0]:
        Path(_SUMMARY[0]).write_text(json.dumps(_replay().summary(), indent=1) + "\n")


def _interrupted(signum: int, frame: Any) -> None:
    """Write the partial summary and leave at once: an exception raised here could be swallowed
    by a bare `except` inside the code under test, and the run would go on."""
    _replay().interrupted = True
    _write_summary()
    os._exit(128 + signum)


def pytest_collection_finish(session: pytest.Session) -> None:
    """coremltools' convert() ends with a full gc.collect(); with TensorFlow and every test module
    loaded that walk takes about a second per converted model, most of the replay's time. Frozen
    objects are skipped by collections, so freezing what exists after collection keeps every
    collect (and every result) while making it cost only the new objects."""
    gc.collect()
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    replay = _replay()
    replay.current, replay.calls_in_test = item.nodeid, 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Some tests outside the ignored torch files build their reference with torch (iOS14
    test_recurrent's GRU cases), which is not installed: they never reach compare_backend, so
    they are skipped ("needs torch"), not failed, and nothing of coreml-ref is judged by them."""
    outcome = yield
    report = outcome.get_result()
    exc = call.excinfo
    if report.failed and exc is not None and exc.errisinstance(NameError) and "'torch'" in str(exc.value):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, NEEDS_TORCH)


NEEDS_TORCH = "needs torch (not installed): the test's reference is computed with it"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    entry = _replay().tests.setdefault(report.nodeid, {"outcome": "passed", "seconds": 0.0})
    entry["seconds"] = round(entry["seconds"] + report.duration, 3)
    if report.failed:
        entry["outcome"] = "failed" if report.when == "call" else "error"
    elif report.skipped:
        entry["outcome"] = "skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _write_summary()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    from tests.apple_ops.table import render

    terminalreporter.write_line(render(_replay().summary()))

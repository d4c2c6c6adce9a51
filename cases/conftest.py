"""The conformance suite's wiring: which runtimes run, shared engines, regression capture.

Every test under cases/ is marked `conformance`. Runtimes come from conformance.toml's
matrix (or --runtimes) through the harness's one selection function; one that cannot run
here is reported as skipped with its reason, one that fails to export, load or run fails
its tests with the step and the engine's words (cases/test_runs.py).
A failing property test appends its shrunk example to golden/regressions.jsonl (set
HARNESS_REGRESSIONS to write elsewhere), which every run replays.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.paths import GOLDEN
from runtimes import registry, tokenizers
from runtimes.selection import Selection, select

REGRESSIONS = Path(os.environ.get("HARNESS_REGRESSIONS", GOLDEN / "regressions.jsonl"))
MARKS = {"tfjs": "browser", "coreml": "coreml"}  # runtime family -> the pytest mark its tests carry
_SELECTION = pytest.StashKey[Selection]()


def pytest_addoption(parser):
    parser.addoption(
        "--runtimes", default=None, help="comma list of runtime ids for the conformance suite (default: the matrix)"
    )


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.conformance)


def selection(pytest_config) -> Selection:
    """The run's runtimes (the matrix, or --runtimes), chosen once per session by the harness's selection."""
    if _SELECTION not in pytest_config.stash:
        try:
            chosen = select(pytest_config.getoption("--runtimes") or "matrix", with_reference=True)
        except HarnessError as e:
            raise pytest.UsageError(f"--runtimes: {e}") from None
        pytest_config.stash[_SELECTION] = chosen
    return pytest_config.stash[_SELECTION]


def runtime_params(pytest_config) -> list:
    """One pytest param per selected runtime, marked by family; one that cannot run here skips with the reason."""
    chosen = selection(pytest_config)
    params = []
    for rid in [*chosen.ids, *chosen.unavailable]:
        family = registry.spec(rid).family
        marks = [getattr(pytest.mark, MARKS[family])] if family in MARKS else []
        if rid in chosen.unavailable:
            marks.append(pytest.mark.skip(reason=f"{rid} cannot run here: {chosen.unavailable[rid]}"))
        params.append(pytest.param(rid, marks=marks, id=rid))
    return params


@pytest.fixture(scope="session")
def runtime_selection(pytestconfig) -> Selection:
    return selection(pytestconfig)


@pytest.fixture(scope="session")
def runtime_ids(runtime_selection) -> list[str]:
    return runtime_selection.ids


@pytest.fixture(scope="session")
def tokenizer_ids() -> list[str]:
    return tokenizers.select("all")[0]


@pytest.fixture(scope="session")
def engines(reference_bundle, runtime_selection, tokenizer_ids):
    from harness.run.engines import Engines

    with Engines(reference_bundle, runtime_selection.runtimes, tokenizer_ids) as e:
        yield e


class RegressionLog:
    """Keeps the last failing example of a test (Hypothesis replays the shrunk one last)."""

    def __init__(self) -> None:
        self.last: dict[str, dict] = {}

    def record(self, nodeid: str, text: str, runtime: str, prop: str) -> None:
        self.last[nodeid] = {"text": text, "runtime": runtime, "property": prop}


_LOG = RegressionLog()


@pytest.fixture()
def regression_log(request):
    yield lambda text, runtime, prop: _LOG.record(request.node.nodeid, text, runtime, prop)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and item.nodeid in _LOG.last:
        append_regression(_LOG.last.pop(item.nodeid))


def append_regression(entry: dict, path: Path = REGRESSIONS) -> None:
    """Append-only and deduplicated by text; the id is stable for the same text."""
    import hashlib

    existing = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    texts = {json.loads(line)["text"] for line in existing if line.strip()}
    if entry["text"] in texts:
        return
    rid = "reg-" + hashlib.sha256(entry["text"].encode("utf-8", "surrogatepass")).hexdigest()[:12]
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"id": rid, **entry}, ensure_ascii=True) + "\n")

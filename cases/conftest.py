"""The conformance suite's wiring: which runtimes run, shared engines, regression capture.

Every test under cases/ is marked `conformance`. Runtimes come from conformance.toml's
matrix (or --runtimes); one that cannot run here is reported as skipped with its reason.
A failing property test appends its shrunk example to golden/regressions.jsonl (set
HARNESS_REGRESSIONS to write elsewhere), which every run replays.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness import config, tokenizer_runtimes
from harness.paths import GOLDEN
from runtimes import registry

REGRESSIONS = Path(os.environ.get("HARNESS_REGRESSIONS", GOLDEN / "regressions.jsonl"))
MARKS = {"tfjs": "browser", "coreml": "coreml"}


def pytest_addoption(parser):
    parser.addoption(
        "--runtimes", default=None, help="comma list of runtime ids for the conformance suite (default: the matrix)"
    )


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.conformance)


def matrix_ids(pytest_config=None) -> list[str]:
    chosen = pytest_config.getoption("--runtimes") if pytest_config else None
    ids = [s.strip() for s in chosen.split(",") if s.strip()] if chosen else config.matrix()
    unknown = [rid for rid in ids if rid not in registry.SPECS]
    if unknown:
        raise pytest.UsageError(f"--runtimes: unknown runtime {unknown[0]!r}; `harness runtimes` lists them")
    return ids


def availability(runtime_id: str) -> tuple[bool, str]:
    try:
        ok = registry.get(runtime_id).availability()
    except Exception as e:  # an engine that cannot even load is unavailable, with the reason
        return False, str(e)
    return ok.ok, f"{ok.reason}; {ok.install}"


def runtime_params(ids: list[str]) -> list:
    """One pytest param per runtime, marked by family; unavailable ones skip with the reason."""
    params = []
    for rid in ids:
        marks = [getattr(pytest.mark, m) for prefix, m in MARKS.items() if rid.startswith(prefix)]
        ok, why = availability(rid)
        if not ok:
            marks.append(pytest.mark.skip(reason=f"{rid} cannot run here: {why}"))
        params.append(pytest.param(rid, marks=marks, id=rid))
    return params


@pytest.fixture(scope="session")
def runtime_ids(pytestconfig) -> list[str]:
    ids = [rid for rid in matrix_ids(pytestconfig) if availability(rid)[0]]
    assert "keras" in ids, "the reference runtime keras must be available"
    return ids


@pytest.fixture(scope="session")
def tokenizer_ids() -> list[str]:
    return tokenizer_runtimes.resolve("all")


@pytest.fixture(scope="session")
def engines(reference_bundle, runtime_ids, tokenizer_ids):
    from harness.engines import Engines

    with Engines(reference_bundle, runtime_ids, tokenizer_ids) as e:
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

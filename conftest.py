"""pytest wiring: markers live in pyproject.toml (--strict-markers); shared session fixtures;
Hypothesis profiles from conformance.toml (default `ci`; pick with --hypothesis-profile or
HARNESS_PROFILE)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _register_hypothesis_profiles() -> None:
    from datetime import timedelta

    from hypothesis import HealthCheck, settings

    from harness.core import config

    for name, opts in config.load().get("hypothesis", {}).items():
        deadline = opts.get("deadline_ms", 0)
        settings.register_profile(
            name,
            max_examples=int(opts["max_examples"]),
            derandomize=bool(opts.get("derandomize", False)),
            deadline=timedelta(milliseconds=deadline) if deadline else None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.function_scoped_fixture,
            ],
            print_blob=True,
        )
    settings.load_profile(os.environ.get("HARNESS_PROFILE", "ci"))


_register_hypothesis_profiles()


# Lines a test module wants on the terminal after the run (the model zoo's max |diff| table).
# Under pytest-xdist (make test runs two workers) a worker has no terminal: it hands its lines to
# the controller in `workeroutput`, which prints them with its own.
_SUMMARY = pytest.StashKey[list[str]]()
_WORKER_KEY = "harness_summary"
# Tests marked nightly that `-m "not nightly"` left out: counted where they are collected (each
# xdist worker collects them all), said once by whoever has the terminal.
_LEFT_OUT = pytest.StashKey[int]()
_LEFT_OUT_KEY = "harness_nightly_left_out"


def _summary(config: pytest.Config) -> list[str]:
    if _SUMMARY not in config.stash:
        config.stash[_SUMMARY] = []
    return config.stash[_SUMMARY]


@pytest.fixture(scope="session")
def terminal_summary(pytestconfig) -> list[str]:
    """Append lines here; they are printed once, after the run, in the terminal summary."""
    return _summary(pytestconfig)


def pytest_deselected(items):
    if items:
        config = items[0].config
        nightly = sum(1 for item in items if item.get_closest_marker("nightly"))
        config.stash[_LEFT_OUT] = config.stash.get(_LEFT_OUT, 0) + nightly


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_KEY] = _summary(session.config)
        workeroutput[_LEFT_OUT_KEY] = session.config.stash.get(_LEFT_OUT, 0)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pytest-xdist, on the controller
    output = getattr(node, "workeroutput", {})
    _summary(node.config).extend(output.get(_WORKER_KEY, []))
    node.config.stash[_LEFT_OUT] = max(node.config.stash.get(_LEFT_OUT, 0), output.get(_LEFT_OUT_KEY, 0))


def pytest_terminal_summary(terminalreporter, config):
    lines = _summary(config)
    if config.stash.get(_LEFT_OUT, 0):
        lines = [
            *lines,
            f"left out of this run: {config.stash[_LEFT_OUT]} tests marked nightly (repetitions of claims the "
            "tests above prove; make test-nightly runs them)",
        ]
    if lines:
        terminalreporter.write_line("")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_addoption(parser):
    parser.addoption(
        "--bundle", default=None, help="bundle folder the conformance suite checks (default: golden/reference)"
    )


@pytest.fixture(scope="session")
def reference_bundle(pytestconfig):
    """The bundle under test (the committed reference unless --bundle), verified against its manifest."""
    from harness.core import bundle

    return bundle.load(pytestconfig.getoption("--bundle"))


@pytest.fixture(scope="session")
def test_split(reference_bundle):
    """Held-out reviews of the reference bundle's corpus (fetched once into the cache)."""
    from harness.data.corpus import held_out

    return held_out(reference_bundle)

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

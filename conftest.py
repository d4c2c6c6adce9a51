"""pytest wiring: markers live in pyproject.toml (--strict-markers); shared session fixtures."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def reference_bundle():
    """The committed reference bundle, verified against its manifest."""
    from harness import bundle

    return bundle.load()


@pytest.fixture(scope="session")
def test_split(reference_bundle):
    """Held-out reviews of the reference bundle's corpus (fetched once into the cache)."""
    from harness.report import held_out

    return held_out(reference_bundle)

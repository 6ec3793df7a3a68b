"""Fixtures for the edit engine: the reference store built from ../shared/refdata (via the
shared ``ref_store`` fixture) and the shipped policies."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def store(ref_store):
    from reclaim.refdata.store import RefStore

    opened = RefStore.open(ref_store)
    yield opened
    opened.close()

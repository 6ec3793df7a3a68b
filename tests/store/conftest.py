"""Worklist store fixtures: every store test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from ``scripts/test-services.sh`` (``RECLAIM_TEST_POSTGRES_URL``). Under CI
(``CI=true``) a missing server fails the run; locally the PostgreSQL variant is skipped with a
message saying how to run it (``source scripts/test-services.sh``). Each PostgreSQL test gets
its own fresh database, so parallel workers never share tables.
"""

from __future__ import annotations

import os
import uuid

import pytest


def _postgres_base() -> str | None:
    url = os.environ.get("RECLAIM_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("RECLAIM_TEST_POSTGRES_URL is unset under CI=true: scripts/test-services.sh must start PostgreSQL",
                        pytrace=False)
        pytest.skip("RECLAIM_TEST_POSTGRES_URL not set (outside CI): run `source scripts/test-services.sh` first")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'worklist.sqlite'}"
        return
    import psycopg

    base = _postgres_base()
    name = f"reclaim_store_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    head, _, _ = base.rpartition("/")
    yield f"{head}/{name}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')

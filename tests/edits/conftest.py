"""Stores for edit tests that need a dataset the mirror lacks (OPPS Addendum B): the mirror's
store plus fixture folders of tests/fixtures/refdata (written in the official layouts)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"


@pytest.fixture(scope="session")
def stores_with(ref_store, tmp_path_factory):
    """name(s) -> the mirror's store plus those fixture folders (a copy, imported once per session)."""
    from reclaim.refdata.store import RefStore, import_dir

    opened: dict[tuple, RefStore] = {}

    def get(names: tuple) -> RefStore:
        if names not in opened:
            folder = tmp_path_factory.mktemp("store-" + "-".join(names))
            path = folder / "refdata.duckdb"
            shutil.copyfile(ref_store.store_path, path)
            for name in names:
                import_dir(_FIXTURES / name, path)
            opened[names] = RefStore.open(path)
        return opened[names]

    yield get
    for s in opened.values():
        s.close()

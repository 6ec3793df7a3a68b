"""Shared fixtures. Tests use the real official files and real X12 samples in ../shared;
when that folder is missing they fail (never skip), because a green run without the data
would prove nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared() -> Path:
    path = Path(os.environ.get("RECLAIM_SHARED", REPO.parent / "shared"))
    if not (path / "refdata" / "MANIFEST.csv").is_file() or not (path / "x12-samples" / "LIST.csv").is_file():
        pytest.fail(
            f"the shared data folder is missing or incomplete at {path}: tests need ../shared/refdata "
            "and ../shared/x12-samples beside the checkout (or RECLAIM_SHARED pointing to them)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def shared() -> Path:
    return _shared()


@pytest.fixture(scope="session")
def refdata_dir(shared: Path) -> Path:
    return shared / "refdata"


@pytest.fixture(scope="session")
def x12_samples(shared: Path) -> Path:
    return shared / "x12-samples"


@pytest.fixture(scope="session")
def ref_store(refdata_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Settings whose ``home`` holds a reference store built once per session from ``refdata_dir``
    (open it with ``reclaim.refdata.store.RefStore.open(ref_store)``; path: ``ref_store.store_path``)."""
    from reclaim.config import Settings
    from reclaim.refdata.store import import_dir

    settings = Settings(home=str(tmp_path_factory.mktemp("reclaim-home")))
    import_dir(refdata_dir, settings.store_path, bundled_icd10=True)  # as `reclaim data import` does
    return settings


@pytest.fixture(scope="session")
def store(ref_store):
    """The reference store built from ../shared/refdata, opened read-only once per session."""
    from reclaim.refdata.store import RefStore

    opened = RefStore.open(ref_store)
    yield opened
    opened.close()

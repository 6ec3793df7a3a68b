"""Fixtures of the closed-loop tests: the committed history (examples/history), a reference
store holding the mirror's releases plus the hand-made successor (tests/fixtures/releases), and
a builder of small 837/835 pairs (the history generator's own X12 writers)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HISTORY = REPO / "examples" / "history"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def gen(refdata_dir):
    """examples/history/generate.py as a module (its X12 writers build the small test cases)."""
    return _load("history_generate", HISTORY / "generate.py")


@pytest.fixture(scope="session")
def successor():
    return _load("successor_fixture", REPO / "tests" / "fixtures" / "releases" / "successor.py")


@pytest.fixture(scope="session")
def history():
    from reclaim.claims.io import read_claims, read_remits

    return read_claims([HISTORY / "claims"]), read_remits([HISTORY / "remits"])


@pytest.fixture(scope="session")
def release_store(ref_store, refdata_dir, successor, tmp_path_factory):
    """A store with the mirror (HCPCS 2025-10, ASP 2025-Q4...) and the FIXTURE successor
    (HCPCS 2026-01, ASP/crosswalk/MUE 2026-Q1), plus a fixture MUE table for 2025-Q4."""
    import shutil

    from reclaim.refdata.store import import_dir

    work = tmp_path_factory.mktemp("releases")
    successor.write_successor(refdata_dir, work / "files")
    store = work / "refdata.duckdb"
    shutil.copyfile(ref_store.store_path, store)  # the session's store of the mirror, built once
    import_dir(work / "files" / "old_mue", store)
    import_dir(work / "files" / "new", store)
    return store


@pytest.fixture
def x12(gen, tmp_path):
    """write(claims, remits) -> (ClaimBatch, RemitBatch) read back from real 837/835 files."""
    from reclaim.claims.io import read_claims, read_remits

    def write(claims, remits, payer="MB"):
        import datetime as dt

        c = tmp_path / "case.837"
        r = tmp_path / "case.835"
        c.write_text(gen.write_837(claims, payer, dt.date(2025, 11, 28), 1), newline="")
        r.write_text(gen.write_835(remits, payer, dt.date(2025, 12, 16), 2), newline="")
        return read_claims([c]), read_remits([r])

    return write

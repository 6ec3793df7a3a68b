"""The reference store the benchmarks run against: the one in RECLAIM_BENCH_HOME when it holds
one, else built from ../shared/refdata (or RECLAIM_SHARED) into a temporary home."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reclaim.refdata.store import import_dir

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def bench_home() -> Iterator[Path]:
    """A reclaim home whose ``refdata.duckdb`` is built; the store path is ``home / 'refdata.duckdb'``."""
    folder = Path(os.environ.get("RECLAIM_SHARED", REPO.parent / "shared")) / "refdata"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(os.environ.get("RECLAIM_BENCH_HOME", tmp))
        if not (home / "refdata.duckdb").exists():
            import_dir(folder, home / "refdata.duckdb")
        yield home

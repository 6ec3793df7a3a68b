"""Benchmark: build the reference store from ../shared/refdata (or RECLAIM_SHARED/refdata).

Prints seconds and rows/s for each loader and for the whole build (loaders + DuckDB write), and
the ratio against a baseline measured in the same process: reading and hashing every file
(the I/O floor any import pays). Run: ``.venv/bin/python bench/refdata.py [FOLDER]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from reclaim.refdata.files import sha256_file
from reclaim.refdata.store import import_dir, recognize

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    default = Path(os.environ.get("RECLAIM_SHARED", REPO.parent / "shared")) / "refdata"
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    files = sorted(p for p in folder.rglob("*") if p.is_file())

    start = time.perf_counter()
    size = sum(len(p.read_bytes()) for p in files) + len([sha256_file(p) for p in files])
    baseline = time.perf_counter() - start

    print(f"{'loader':<52} {'rows':>8} {'seconds':>8} {'rows/s':>10}")
    for path in files:
        loader = recognize(path)
        if isinstance(loader, str):
            continue
        t0 = time.perf_counter()
        rows = sum(item.rows.num_rows for item in loader(path))
        took = time.perf_counter() - t0
        print(f"{str(path.relative_to(folder))[-52:]:<52} {rows:>8,} {took:>8.2f} {rows / took:>10,.0f}")

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = import_dir(folder, Path(tmp) / "refdata.duckdb")
        build = time.perf_counter() - t0
    total = sum(item.rows.num_rows for item in report.loaded)
    print(f"\nstore build: {total:,} rows in {build:.2f} s = {total / build:,.0f} rows/s")
    print(f"baseline (read + sha256 of {len(files)} files, {size / 1e6:.1f} MB): {baseline:.3f} s; "
          f"build/baseline ratio {build / baseline:.1f}x")


if __name__ == "__main__":
    main()

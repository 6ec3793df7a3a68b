"""Benchmark: build the reference store from ../shared/refdata (or RECLAIM_SHARED/refdata) with
the CDC ICD-10-CM tabular of the installed simple-icd-10-cm package, as ``reclaim data import``
does, then time the warm billing-guide look-up (``reclaim code``) on the store just built.

Prints seconds and rows/s for each loader (the CDC tabular: ~98k codes; the three MUE tables and
the practitioner XLSX twin) and for the whole build (loaders + DuckDB write), the rows per
dataset, the ratio against a baseline measured in the same process (reading and hashing every
file: the I/O floor any import pays), and the warm ``build_guide`` median/p99 for J0897 on a
date of the MUE quarter. Run: ``.venv/bin/python bench/refdata.py [FOLDER] [RUNS]``.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from reclaim.documents.guide import build_guide
from reclaim.refdata import icd10
from reclaim.refdata.files import sha256_file
from reclaim.refdata.store import RefStore, import_dir, recognize

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    default = Path(os.environ.get("RECLAIM_SHARED", REPO.parent / "shared")) / "refdata"
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    packaged = icd10.bundled_tabular()
    if packaged is not None:
        files.append(packaged)

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
        name = str(path.relative_to(folder)) if path.is_relative_to(folder) else f"(package) {path.name}"
        print(f"{name[-52:]:<52} {rows:>8,} {took:>8.2f} {rows / took:>10,.0f}")

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = import_dir(folder, Path(tmp) / "refdata.duckdb", bundled_icd10=True)
        build = time.perf_counter() - t0
        total = sum(item.rows.num_rows for item in report.loaded)
        print(f"\nstore build: {total:,} rows in {build:.2f} s = {total / build:,.0f} rows/s")
        print(f"baseline (read + sha256 of {len(files)} files, {size / 1e6:.1f} MB): {baseline:.3f} s; "
              f"build/baseline ratio {build / baseline:.1f}x")
        by_dataset: dict[str, int] = {}
        for item in report.loaded:
            by_dataset[f"{item.dataset} {item.release}"] = by_dataset.get(f"{item.dataset} {item.release}", 0) + item.rows.num_rows
        for name in sorted(d for d in by_dataset if d.startswith(("icd10", "mue"))):
            print(f"  {name:<40} {by_dataset[name]:>8,} rows")

        with RefStore.open(Path(tmp) / "refdata.duckdb") as store:
            day = dt.date(2026, 5, 1)  # in the MUE quarter and the CDC April 2026 release
            t0 = time.perf_counter()
            build_guide(store, "J0897", day)  # first look-up: caches, DuckDB plans
            first = time.perf_counter() - t0
            took = []
            for _ in range(runs):
                t0 = time.perf_counter()
                build_guide(store, "J0897", day)
                took.append(time.perf_counter() - t0)
            took.sort()
            p99 = took[min(len(took) - 1, int(len(took) * 0.99))]
            print(f"\nwarm `code J0897 --date {day}` (build_guide), {runs} runs: median {statistics.median(took) * 1000:.1f} ms, "
                  f"p99 {p99 * 1000:.1f} ms (first look-up {first * 1000:.1f} ms); goal < 100 ms")


if __name__ == "__main__":
    main()

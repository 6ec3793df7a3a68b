"""Benchmark: the billing guide (``reclaim code``) warm and end to end.

Builds a reference store from ../shared/refdata (or RECLAIM_SHARED/refdata, or the store in
RECLAIM_BENCH_HOME when it exists), then prints, over N runs each:

* warm ``build_guide`` latency (store open, code tables cached): median and p99 per code;
* warm ``lookup_ndc`` and ``search_codes`` latency;
* the CLI end to end (a new ``python -m reclaim code J0897 --format json`` process each run);
* the baseline measured in the same process: a full scan of the HCPCS table in DuckDB
  (``SELECT * FROM hcpcs`` fetched), and the ratio of each warm look-up to it.

Run: ``.venv/bin/python bench/guide.py [N]`` (default N=200 warm runs, N/10 CLI runs).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from reclaim.documents.guide import build_guide, lookup_ndc, search_codes
from reclaim.refdata.store import RefStore

from _store import bench_home

REPO = Path(__file__).resolve().parents[1]
DOS = dt.date(2025, 11, 15)


def timings(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm: caches, DuckDB plan and buffers
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def summary(name: str, seconds: list[float], baseline: float | None) -> None:
    ordered = sorted(seconds)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    ratio = f"{median / baseline:6.2f}x" if baseline else "   base"
    print(f"{name:<44} {len(seconds):>5} {median * 1e3:>9.2f} {p99 * 1e3:>9.2f} {ratio:>9}")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with bench_home() as home:
        store = RefStore.open(home / "refdata.duckdb")

        scan = timings(lambda: store.con.execute("SELECT * FROM hcpcs").fetchall(), max(20, runs // 10))
        baseline = statistics.median(scan)
        print(f"{'operation':<44} {'runs':>5} {'median ms':>9} {'p99 ms':>9} {'vs scan':>9}")
        summary("baseline: full scan of hcpcs (8,846 rows)", scan, None)
        for code in ("J0897", "J1745", "J1327", "C9033"):
            summary(f"build_guide({code}) warm", timings(lambda c=code: build_guide(store, c, DOS), runs), baseline)
        summary("lookup_ndc(55513-0710-01) warm", timings(lambda: lookup_ndc(store, "55513-0710-01", DOS), runs),
                baseline)
        summary("search_codes('denosumab') warm", timings(lambda: search_codes(store, "denosumab", DOS), runs),
                baseline)
        store.close()

        env = {**os.environ, "RECLAIM_HOME": str(home)}
        command = [sys.executable, "-m", "reclaim", "code", "J0897", "--date", "2025-11-15", "--format", "json"]
        bare = [sys.executable, "-c", "pass"]
        cli_runs = max(5, runs // 10)
        cli = timings(lambda: subprocess.run(command, env=env, check=True, capture_output=True), cli_runs)
        python = timings(lambda: subprocess.run(bare, check=True, capture_output=True), cli_runs)
        summary("CLI end to end: reclaim code J0897", cli, baseline)
        summary("python -c pass (interpreter start-up)", python, baseline)
        print(f"CLI minus interpreter start-up: {(statistics.median(cli) - statistics.median(python)) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()

"""Benchmark ``reclaim check``: synthetic claims written as the normalized Parquet tables
``reclaim convert`` writes, then the whole catalog run end to end from Parquet
(``check_files``: DuckDB reads the Parquet itself, all edits, findings out) on DuckDB and on
local Spark.

Claims are realistic in shape: drug lines drawn from the CMS NDC-HCPCS crosswalk (codes that
have an ASP payment limit), units from the NDC's billing units, Medicare / Medicaid /
commercial payers, patients with several visits, and about one line in eight carrying an
injected error (units typed as milligrams, fractional units, missing or hyphenated NDC, JG
after 2024, NDC billed under another code, missing JZ, duplicated line).

    python bench/check.py --lines 1000000 --spark-lines 200000
    python bench/check.py --lines 10000000 --spark-lines 0 --out /tmp/reclaim-bench   # reused next time
    python bench/check.py --lines 1000000 --spark-lines 0 --baseline main   # before/after ratio

``--baseline REF`` also times the code of git revision REF (exported with ``git archive`` into a
temporary folder and run in a child process) on the same Parquet files, alternating with this
code ``--repeat`` times, and prints the after/before ratio: a baseline measured in the same run,
on the same load.

Generation runs in DuckDB SQL (columnar), so writing 10M lines takes seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path

import duckdb

from reclaim.claims.model import CLAIM_TABLES

GENERATE = """
CREATE TEMP TABLE drugs AS
SELECT row_number() OVER (ORDER BY x.hcpcs, x.ndc11) - 1 AS k, x.hcpcs, x.ndc11, x.ndc_hyphenated,
       CAST(x.billing_units AS DECIMAL(18,3)) AS per_item, CAST(a.payment_limit AS DECIMAL(18,3)) AS price,
       coalesce(h.unit_amount, 1) AS unit_amount
FROM refstore.ndc_crosswalk x
JOIN refstore.asp_pricing a ON a.hcpcs = x.hcpcs
LEFT JOIN refstore.hcpcs h ON h.code = x.hcpcs AND h.kind = 'procedure'
WHERE x.billing_units >= 1 AND x.billing_units = floor(x.billing_units) AND x.billing_units <= 500;

-- split (the number of drugs is inlined below: a constant keeps the join a hash join)
CREATE TEMP TABLE base AS
SELECT i AS line_i, i // 2 AS claim_i, (i % 2) + 1 AS line_number,
       hash(i // 2) AS hc, hash(i * 7919 + 13) AS hl
FROM range({lines}) t(i);

CREATE TEMP TABLE gen_claims AS
SELECT claim_i, 'bench:' || claim_i AS claim_id, 'bench' AS transaction_id, 'bench-file' AS file_id, 'professional' AS claim_type,
       'PCN' || claim_i AS patient_control_number,
       CASE WHEN hc % 10 < 6 THEN 'MB' WHEN hc % 10 < 8 THEN 'MC' ELSE 'CI' END AS claim_filing_indicator,
       CASE WHEN hc % 10 < 6 THEN '01112' WHEN hc % 10 < 8 THEN 'SKMCD' ELSE 'ACME01' END AS payer_id,
       'P' AS payer_responsibility, '1' AS frequency_code, CASE WHEN hc % 23 = 0 THEN '22' ELSE '11' END AS place_of_service,
       '1234567893' AS billing_npi, 'M' || (claim_i // 3) AS patient_id, '18' AS relationship_code,
       CASE WHEN hc % 4 = 0 THEN 'PA' || claim_i END AS prior_auth_number,
       DATE '2025-10-01' + CAST(hc % 90 AS INTEGER) AS dos
FROM base WHERE line_number = 1;

CREATE TEMP TABLE gen_lines AS
WITH picked AS (
  SELECT b.*, c.claim_id, c.claim_filing_indicator, c.dos, d.*, 1 + CAST(b.hl % 2 AS INTEGER) AS qty, b.hl % 64 AS err
  FROM base b JOIN gen_claims c ON c.claim_i = b.claim_i
  JOIN drugs d ON d.k = CAST(b.hl % {n_drugs} AS BIGINT)
)
SELECT claim_id, CAST(line_number AS INTEGER) AS line_number, dos AS service_date, 'HC' AS procedure_qualifier,
       CASE WHEN err = 5 AND hcpcs = 'J0897' THEN 'J1327' ELSE hcpcs END AS procedure_code,
       CASE WHEN err = 6 THEN 'JG' WHEN claim_filing_indicator = 'MB' AND err <> 7 THEN 'JZ' END AS modifier_1,
       CASE WHEN err = 6 AND claim_filing_indicator = 'MB' THEN 'JZ' END AS modifier_2,
       CAST(per_item * qty * (CASE WHEN err = 1 AND unit_amount > 1 THEN unit_amount ELSE 1 END)
            + CASE WHEN err = 2 THEN 0.5 ELSE 0 END AS DECIMAL(18,3)) AS units,
       CAST(price * per_item * qty * 1.25 AS DECIMAL(18,2)) AS charge, 'UN' AS unit_basis,
       CAST(1 AS SMALLINT) AS dx_pointer_1,
       CASE WHEN err = 3 THEN NULL ELSE 'N4' END AS ndc_qualifier,
       CASE WHEN err = 3 THEN NULL WHEN err = 4 THEN ndc_hyphenated ELSE ndc11 END AS ndc,
       CASE WHEN err = 3 THEN NULL ELSE ndc11 END AS ndc11,
       CASE WHEN err = 3 THEN NULL ELSE CAST(qty AS DECIMAL(18,3)) END AS ndc_quantity,
       CASE WHEN err = 3 THEN NULL ELSE 'UN' END AS ndc_unit
FROM picked;

CREATE TEMP TABLE gen_diagnoses AS
SELECT claim_id, CAST(1 AS SMALLINT) AS position, 'ABK' AS qualifier,
       CASE WHEN hash(claim_id) % 3 = 0 THEN 'M810' WHEN hash(claim_id) % 3 = 1 THEN 'C7951' ELSE 'C3490' END AS code
FROM gen_claims;
"""


def generate(store_path: Path, out: Path, lines: int) -> None:
    """Write ``lines`` synthetic lines as the normalized Parquet tables ``reclaim convert`` writes
    (every model column, in model order), plus ``.bench.json`` (hidden: not read as a claim file) saying how many, so a later run
    with the same ``--out`` reuses them."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{store_path}' AS refstore (READ_ONLY)")
    first, rest = GENERATE.split("-- split", 1)
    rest = "--" + rest
    con.execute(first)
    n_drugs = con.execute("SELECT count(*) FROM drugs").fetchone()[0]
    con.execute(rest.format(lines=lines, n_drugs=n_drugs))
    con.execute("ALTER TABLE gen_claims DROP COLUMN dos")
    con.execute("ALTER TABLE gen_claims DROP COLUMN claim_i")
    con.execute("CREATE TEMP TABLE gen_files AS SELECT 'bench-file' AS file_id, 'bench.837' AS path, 'x12' AS format")
    for name in ("claims", "lines", "diagnoses", "files"):
        con.register("model", CLAIM_TABLES[name].empty_table())
        con.execute(f"CREATE TEMP TABLE out_{name} AS SELECT * FROM model")
        con.execute(f"INSERT INTO out_{name} BY NAME SELECT * FROM gen_{name}")
        con.execute(f"COPY out_{name} TO '{out / (name + '.parquet')}' (FORMAT parquet)")
    con.close()
    (out / ".bench.json").write_text(json.dumps({"lines": lines}))


def prepare(store_path: Path, out: Path, lines: int) -> None:
    """Generate into ``out`` unless it already holds ``lines`` generated lines."""
    marker = out / ".bench.json"
    if marker.exists() and json.loads(marker.read_text()).get("lines") == lines:
        print(f"reusing {lines:,} generated lines in {out}")
        return
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    generate(store_path, out, lines)
    print(f"generated {lines:,} lines as Parquet in {out} ({time.perf_counter() - t:.1f}s)")


def run(folder: Path, store_path: Path, engine: str):
    """check_files over the Parquet folder, end to end (read, all edits, findings out)."""
    from reclaim.edits import check_files
    from reclaim.policy import load_policies

    policies = load_policies(["medicare", "medicaid", str(Path(__file__).resolve().parents[1] / "examples/policies/commercial-example.yaml")])
    start, cpu = time.perf_counter(), time.process_time()
    # the synthetic dates are 2025-Q4: check as of year end, not today (timely filing)
    findings = check_files([folder], store=store_path, policies=policies, engine=engine, date_of_check=dt.date(2025, 12, 31))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return findings, elapsed, cpu


_CHILD = """
import datetime as dt, json, sys, time
from pathlib import Path
from reclaim.edits import check_files
from reclaim.policy import load_policies
folder, store, policy = sys.argv[1:4]
policies = load_policies(["medicare", "medicaid", policy])
start, cpu = time.perf_counter(), time.process_time()
found = check_files([Path(folder)], store=store, policies=policies, date_of_check=dt.date(2025, 12, 31))
print(json.dumps({"secs": time.perf_counter() - start, "cpu": time.process_time() - cpu, "lines": found.lines,
                  "findings": len(found)}))
"""


def run_revision(src: Path, folder: Path, store_path: Path) -> dict:
    """The same timed check_files as :func:`run`, by the code in ``src`` (a child process)."""
    import subprocess
    import sys

    policy = str(Path(__file__).resolve().parents[1] / "examples/policies/commercial-example.yaml")
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(folder), str(store_path), policy],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def export_revision(ref: str, into: Path) -> Path:
    """``git archive REF src`` unpacked under ``into``; returns its ``src`` folder."""
    import subprocess
    import tarfile

    repo = Path(__file__).resolve().parents[1]
    tar = into / "src.tar"
    with open(tar, "wb") as f:
        subprocess.run(["git", "-C", str(repo), "archive", ref, "src"], stdout=f, check=True)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")
    return into / "src"


def _stages(findings) -> str:
    top = sorted(findings.timings.items(), key=lambda kv: -kv[1])[:6]
    return ", ".join(f"{k} {v:.2f}" for k, v in top)


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="synthetic lines for the DuckDB run (e.g. 1000000, 10000000)")
    parser.add_argument("--spark-lines", type=int, default=200_000, help="lines for the Spark run and its DuckDB twin (0 = skip Spark)")
    parser.add_argument("--store", type=Path, help="reference store (default: the configured one when built, "
                        "else one built from ../shared/refdata, as the other benchmarks do)")
    parser.add_argument("--out", type=Path, help="folder for the Parquet files, reused when it holds the same number of lines "
                        "(default: a temporary folder)")
    parser.add_argument("--baseline", metavar="REF", help="also time git revision REF (e.g. main) on the same files "
                        "and print the after/before ratio")
    parser.add_argument("--repeat", type=int, default=1, help="with --baseline: runs of each, alternating")
    args = parser.parse_args()

    import contextlib

    from reclaim import config

    with contextlib.ExitStack() as stack:
        store_path = args.store or config.load().store_path
        if not store_path.is_file():
            from _store import bench_home

            store_path = stack.enter_context(bench_home()) / "refdata.duckdb"
        _bench(args, store_path)


def _bench(args, store_path: Path) -> None:
    out = args.out or Path(tempfile.mkdtemp(prefix="reclaim-bench-"))
    prepare(store_path, out / f"lines-{args.lines}", args.lines)

    print(f"machine: {os.cpu_count()} cores, {_load()} (other work slows every number below)")
    findings, secs, cpu = run(out / f"lines-{args.lines}", store_path, "duckdb")
    n = findings.lines
    print(f"duckdb: {n:,} lines, {len(findings):,} findings, {secs:.2f}s end to end from Parquet: {n / secs:,.0f} lines/s "
          f"({cpu:.1f} CPU-s: {n / cpu:,.0f} lines per CPU-second; {_load()})")
    print(f"  slowest stages (s): {_stages(findings)}")
    if args.baseline:
        _before_after(args, out / f"lines-{args.lines}", store_path)
    if args.spark_lines:
        folder = out / f"lines-{args.spark_lines}"
        prepare(store_path, folder, args.spark_lines)
        on_spark, secs2, _ = run(folder, store_path, "spark")
        n2 = on_spark.lines
        print(f"spark (local[2]): {n2:,} lines, {len(on_spark):,} findings, {secs2:.2f}s (includes session start): "
              f"{n2 / secs2:,.0f} lines/s ({_load()})")
        print(f"  slowest stages (s): {_stages(on_spark)}")
        on_duck, secs3, _ = run(folder, store_path, "duckdb")
        print(f"duckdb on the same {n2:,} lines: {len(on_duck):,} findings, {secs3:.2f}s: {n2 / secs3:,.0f} lines/s")
        same = sorted(map(str, on_spark.table.to_pylist())) == sorted(map(str, on_duck.table.to_pylist()))
        print(f"ratio duckdb/spark at {n2:,} lines: {(n2 / secs3) / (n2 / secs2):.1f}x"
              + ("  (findings identical)" if same else "  (FINDINGS DIFFER)"))


def _before_after(args, folder: Path, store_path: Path) -> None:
    """This code and revision ``args.baseline`` on the same files, alternating: after/before."""
    import statistics

    with tempfile.TemporaryDirectory(prefix="reclaim-baseline-") as tmp:
        src = export_revision(args.baseline, Path(tmp))
        here = Path(__file__).resolve().parents[1] / "src"
        times: dict[str, list[dict]] = {"before": [], "after": []}
        for _ in range(max(1, args.repeat)):
            times["before"].append(run_revision(src, folder, store_path))
            times["after"].append(run_revision(here, folder, store_path))
    for label, runs in times.items():
        best = min(r["secs"] for r in runs)
        print(f"{label} ({args.baseline if label == 'before' else 'this code'}): {runs[0]['lines']:,} lines, "
              f"{runs[0]['findings']:,} findings, best {best:.2f}s = {runs[0]['lines'] / best:,.0f} lines/s, "
              f"CPU-s {statistics.median(r['cpu'] for r in runs):.1f} (median of {len(runs)}; {_load()})")
    before, after = (min(r["secs"] for r in times[k]) for k in ("before", "after"))
    print(f"ratio after/before (lines/s): {before / after:.2f}x")


if __name__ == "__main__":
    main()

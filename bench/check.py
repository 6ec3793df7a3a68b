"""Benchmark ``reclaim check``: synthetic claims written to Parquet, then the whole catalog run
end to end from Parquet (read, normalise to a ClaimBatch, all edits, findings) on DuckDB and on
local Spark.

Claims are realistic in shape: drug lines drawn from the CMS NDC-HCPCS crosswalk (codes that
have an ASP payment limit), units from the NDC's billing units, Medicare / Medicaid /
commercial payers, patients with several visits, and about one line in eight carrying an
injected error (units typed as milligrams, fractional units, missing or hyphenated NDC, JG
after 2024, NDC billed under another code, missing JZ, duplicated line).

    python bench/check.py --lines 1000000 --spark-lines 200000
    python bench/check.py --lines 10000000 --spark-lines 0

Generation runs in DuckDB SQL (columnar), so writing 10M lines takes seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from reclaim.claims.model import CLAIM_TABLES, ClaimBatch

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
    con = duckdb.connect()
    con.execute(f"ATTACH '{store_path}' AS refstore (READ_ONLY)")
    first, rest = GENERATE.split("-- split", 1)
    rest = "--" + rest
    con.execute(first)
    n_drugs = con.execute("SELECT count(*) FROM drugs").fetchone()[0]
    con.execute(rest.format(lines=lines, n_drugs=n_drugs))
    con.execute("ALTER TABLE gen_claims DROP COLUMN dos")
    con.execute("ALTER TABLE gen_claims DROP COLUMN claim_i")
    for name in ("claims", "lines", "diagnoses"):
        con.execute(f"COPY gen_{name} TO '{out / (name + '.parquet')}' (FORMAT parquet)")
    con.close()


def load(folder: Path, max_lines: int | None = None) -> ClaimBatch:
    """Parquet -> ClaimBatch (the normalized model), optionally only the first claims."""
    tables = {name: pq.read_table(folder / f"{name}.parquet") for name in ("claims", "lines", "diagnoses")}
    if max_lines:
        keep = tables["lines"].slice(0, max_lines)
        con = duckdb.connect()
        con.register("keep", keep)
        ids = con.execute("SELECT DISTINCT claim_id FROM keep").to_arrow_table()
        con.register("ids", ids)
        for name in ("claims", "diagnoses"):
            con.register("t", tables[name])
            tables[name] = con.execute("SELECT t.* FROM t JOIN ids USING (claim_id)").to_arrow_table()
        tables["lines"] = keep
        con.close()
    return ClaimBatch(tables={name: _conform(t, CLAIM_TABLES[name]) for name, t in tables.items()})


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table with every column of the model schema (absent ones null), in its order."""
    cols = [table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(cols, schema=schema)


def run(folder: Path, store_path: Path, engine: str, max_lines: int | None) -> tuple[int, int, float, float]:
    from reclaim.edits import check
    from reclaim.policy import load_policies

    policies = load_policies(["medicare", "medicaid", str(Path(__file__).resolve().parents[1] / "examples/policies/commercial-example.yaml")])
    start, cpu = time.perf_counter(), time.process_time()
    batch = load(folder, max_lines)
    # the synthetic dates are 2025-Q4: check as of year end, not today (timely filing)
    findings = check(batch, store=store_path, policies=policies, engine=engine, date_of_check=dt.date(2025, 12, 31))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return batch["lines"].num_rows, findings.table.num_rows, elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="synthetic lines for the DuckDB run (e.g. 1000000, 10000000)")
    parser.add_argument("--spark-lines", type=int, default=200_000, help="lines for the Spark run (0 = skip Spark)")
    parser.add_argument("--store", type=Path, help="reference store (default: the configured one)")
    parser.add_argument("--out", type=Path, help="folder for the Parquet files (default: a temporary folder)")
    args = parser.parse_args()

    from reclaim import config

    store_path = args.store or config.load().store_path
    out = args.out or Path(tempfile.mkdtemp(prefix="reclaim-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    generate(store_path, out, args.lines)
    print(f"generated {args.lines:,} lines as Parquet in {out} ({time.perf_counter() - t:.1f}s)")

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other work slows every number below)")
    n, found, secs, cpu = run(out, store_path, "duckdb", None)
    duck_rate = n / secs
    print(f"duckdb: {n:,} lines, {found:,} findings, {secs:.2f}s end to end from Parquet: {duck_rate:,.0f} lines/s "
          f"({cpu:.1f} CPU-s: {n / cpu:,.0f} lines per CPU-second)")
    if args.spark_lines:
        n2, found2, secs2, _ = run(out, store_path, "spark", args.spark_lines)
        spark_rate = n2 / secs2
        print(f"spark (local[2]): {n2:,} lines, {found2:,} findings, {secs2:.2f}s (includes session start): {spark_rate:,.0f} lines/s")
        n3, found3, secs3, _ = run(out, store_path, "duckdb", args.spark_lines)
        print(f"duckdb on the same {n3:,} lines: {found3:,} findings, {secs3:.2f}s: {n3 / secs3:,.0f} lines/s")
        print(f"ratio duckdb/spark at {n2:,} lines: {(n3 / secs3) / spark_rate:.1f}x"
              + ("  (findings identical in count)" if found2 == found3 else f"  (FINDINGS DIFFER: {found2} vs {found3})"))


if __name__ == "__main__":
    main()

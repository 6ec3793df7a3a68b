"""The whole catalog gives identical findings on DuckDB and on Spark (local[2]) over the same
claims: every case claim of every edit, in one batch, with every policy the cases use."""

from __future__ import annotations

import datetime as dt

import pytest

from reclaim.claims.model import ClaimBatch
from reclaim.edits import catalog, check
from reclaim.edits.cases import all_cases, build_batch
from reclaim.policy import builtin_policies


@pytest.fixture(scope="module")
def all_case_claims():
    batches, histories, policies = [], [], {p.id: p for p in builtin_policies()}
    for case in all_cases():
        batches.append(build_batch(case.claims, case.key))
        if case.history:
            histories.append(build_batch(case.history, case.key + ":history"))
        for p in case.policies:
            policies.setdefault(p.id, p)
    history = ClaimBatch.concat(histories) if histories else None
    return ClaimBatch.concat(batches), history, list(policies.values())


def test_duckdb_and_spark_agree(all_case_claims, stores_with):
    # the mirror plus the OPPS Addendum B fixture (the cases of RC802 and the 837I SI cases need it)
    store = stores_with(("opps",))
    batch, history, policies = all_case_claims
    kwargs = dict(store=store, policies=policies, history=history, date_of_check=dt.date(2025, 12, 15))
    on_duckdb = check(batch, engine="duckdb", **kwargs).table
    on_spark = check(batch, engine="spark", **kwargs).table
    assert on_duckdb.num_rows > 40  # the failing cases really fail here too
    assert set(on_duckdb.column("code").to_pylist()) >= set(catalog())
    assert on_spark.schema == on_duckdb.schema
    key = lambda r: (r["claim_id"], r["line_number"] or 0, r["code"], r["message"])  # noqa: E731
    assert sorted(on_spark.to_pylist(), key=key) == sorted(on_duckdb.to_pylist(), key=key)



def test_spark_reads_streamed_files_as_duckdb_does(store):
    """check_files on Spark: the files are loaded as on DuckDB, then handed to Spark as Parquet it
    reads itself; the input tables Spark sees equal DuckDB's (the findings' parity over the same
    tables is the test above)."""
    from pathlib import Path

    from reclaim.edits.backends import DuckDBBackend, SparkBackend

    files = sorted((Path(__file__).resolve().parents[2] / "examples" / "claims").glob("check-*"))
    sql = ("SELECT l.claim_id, l.line_number, l.procedure_code, CAST(l.units AS VARCHAR) AS units, c.patient_control_number, "
           "f.format FROM lines l JOIN claims c ON c.claim_id = l.claim_id JOIN files f ON f.file_id = c.file_id")
    seen = {}
    for backend in (DuckDBBackend(store), SparkBackend(store)):
        try:
            loaded = backend.load(files)
            seen[backend.name] = (loaded.counts, sorted(backend.query(sql).to_pylist(), key=str))
        finally:
            backend.close()
    assert seen["spark"] == seen["duckdb"]
    assert seen["duckdb"][0]["lines"] == len(seen["duckdb"][1]) > 20

"""load_into: claim and remittance files streamed into DuckDB tables hold exactly what
read_claims / read_remits return, whatever the block size; Parquet tables written by
``convert`` load straight into DuckDB; wrong-kind and unreadable files become read issues."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from reclaim.claims.io import convert, load_into, read_claims, read_remits
from reclaim.claims.model import CLAIM_TABLES, REMIT_TABLES

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "examples" / "claims-template.csv"
FHIR = REPO / "tests" / "fixtures" / "fhir"
CLAIM_FILES = ["x12__demo.drug.example10.2.837", "x12__institutional-claim.837i", "x12-parser__x12_many_claims.txt"]
REMIT_FILES = ["x12__managed-care.835", "x12__medicare-part-a.835", "edi-835-parser__emedny_sample.txt"]


def _rows(con, name: str, order: str) -> list[tuple]:
    return con.execute(f'SELECT * FROM "{name}" ORDER BY {order}').fetchall()


def _arrow_rows(table: pa.Table, order: str) -> list[tuple]:
    con = duckdb.connect()
    con.register("t", table)
    return con.execute(f"SELECT * FROM t ORDER BY {order}").fetchall()


def test_claims_streamed_into_duckdb_equal_read_claims(x12_samples):
    paths = [x12_samples / f for f in CLAIM_FILES] + [TEMPLATE, FHIR / "claims-bundle.json"]
    expected = read_claims(paths)
    con = duckdb.connect()
    calls = []
    added = load_into(con, paths, "claims", block_size=4096,  # many blocks per file
                      progress=lambda done, total, path: calls.append((done, total)))
    assert calls[-1] == (len(paths), len(paths))
    assert set(added) == set(CLAIM_TABLES)
    for name, order in (("claims", "claim_id"), ("lines", "claim_id, line_number"),
                        ("diagnoses", "claim_id, category, position"), ("files", "file_id")):
        assert added[name] == expected[name].num_rows > 0
        assert _rows(con, name, order) == _arrow_rows(expected[name], order), name


def test_remits_streamed_with_a_prefix(x12_samples):
    paths = [x12_samples / f for f in REMIT_FILES]
    expected = read_remits(paths)
    con = duckdb.connect()
    added = load_into(con, paths, "remits", prefix="new_", block_size=2048)
    assert {f"new_{t}" for t in REMIT_TABLES} <= {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    for name, order in (("remit_claims", "remit_claim_id"), ("adjustments", "ALL"), ("payments", "ALL")):
        assert added[name] == expected[name].num_rows
        assert _rows(con, f"new_{name}", order) == _arrow_rows(expected[name], order), name
    # appending a second time adds the rows again (the caller decides what a table holds)
    again = load_into(con, paths[:1], "remits", prefix="new_")
    total = con.execute("SELECT count(*) FROM new_remit_claims").fetchone()[0]
    assert total == added["remit_claims"] + again["remit_claims"]


def test_wrong_kind_and_unreadable_files_are_issues_and_the_rest_loads(x12_samples, tmp_path):
    (tmp_path / "notes.txt").write_text("not a claim file at all\n")
    shutil.copy(x12_samples / "x12__demo.drug.example10.3.837", tmp_path / "good.837")
    shutil.copy(x12_samples / "x12__managed-care.835", tmp_path / "remit.835")
    con = duckdb.connect()
    added = load_into(con, [tmp_path, tmp_path / "missing.837"], "claims", block_size=1024)
    assert added["claims"] == 1
    issues = {Path(p).name: code for p, code in
              con.execute("SELECT path, code FROM read_issues WHERE skipped = 'file'").fetchall()}
    assert issues["remit.835"] == "IO-WRONG-KIND"
    assert issues["missing.837"] == "IO-NOT-FOUND"
    assert "notes.txt" in issues
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert tables == set(CLAIM_TABLES)  # the 835's rows went nowhere: no remittance table was made


def test_parquet_tables_from_convert_load_without_python_batches(x12_samples, tmp_path):
    claims_src = [x12_samples / f for f in CLAIM_FILES]
    remits_src = [x12_samples / f for f in REMIT_FILES]
    convert(claims_src + remits_src, tmp_path / "out")
    expected = read_claims(claims_src)
    con = duckdb.connect()
    added = load_into(con, [tmp_path / "out"], "claims")  # remit tables in the folder are not claims: left alone
    assert added["lines"] == expected["lines"].num_rows
    assert _rows(con, "lines", "claim_id, line_number") == _arrow_rows(expected["lines"], "claim_id, line_number")
    assert con.execute("SELECT count(*) FROM read_issues WHERE skipped = 'file'").fetchone()[0] == 0
    # a Parquet file that is not one of reclaim's tables, or lacks a column, is reported
    pq.write_table(pa.table({"x": [1]}), tmp_path / "mystery.parquet")
    pq.write_table(pa.table({"claim_id": ["a"]}), tmp_path / "lines.parquet")
    con2 = duckdb.connect()
    load_into(con2, [tmp_path / "mystery.parquet", tmp_path / "lines.parquet"], "claims")
    codes = dict(con2.execute("SELECT regexp_extract(path, '[^/]+$'), code FROM read_issues").fetchall())
    assert codes == {"mystery.parquet": "IO-UNKNOWN-FORMAT", "lines.parquet": "IO-UNREADABLE"}
    assert con2.execute("SELECT count(*) FROM lines").fetchone()[0] == 0


def test_parquet_views_read_the_same_rows_as_copies(x12_samples, tmp_path):
    """parquet_views: tables with Parquet inputs are views over the files (plus the rows streamed
    from other files); they hold what the copying load holds, and are final."""
    import pytest

    convert([x12_samples / f for f in CLAIM_FILES[:2]], tmp_path / "out")
    pq.write_table(pa.table({"claim_id": ["a"]}), tmp_path / "lines.parquet")  # lacks columns
    inputs = [tmp_path / "out", x12_samples / CLAIM_FILES[2], tmp_path / "lines.parquet"]
    copied, viewed = duckdb.connect(), duckdb.connect()
    added_copy = load_into(copied, inputs, "claims")
    added_view = load_into(viewed, inputs, "claims", parquet_views=True)
    assert added_view == added_copy
    kinds = dict(viewed.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds["lines"] == "VIEW" and kinds["lines__streamed"] == "BASE TABLE"
    for name, order in (("claims", "claim_id"), ("lines", "claim_id, line_number"), ("read_issues", "ALL")):
        assert _rows(viewed, name, order) == _rows(copied, name, order), name
        assert viewed.execute(f"DESCRIBE {name}").fetchall() == copied.execute(f"DESCRIBE {name}").fetchall()
    assert viewed.execute("SELECT code, message FROM read_issues WHERE skipped = 'file'").fetchall() == [
        ("IO-UNREADABLE", "cannot load this Parquet file as the lines table (expected the columns of "
                          "docs/data-model.md): no column line_number, line_control_number, service_date, "
                          "service_date_to, procedure_qualifier")]
    with pytest.raises(ValueError, match="one call"):
        load_into(viewed, inputs, "claims", parquet_views=True)

"""`reclaim convert` end to end: real files in, Parquet/CSV/JSON tables out, DuckDB reads
them back with the row counts of the batch; the summary names what was skipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from reclaim.claims.io import read_any

REPO = Path(__file__).resolve().parents[2]
FHIR = REPO / "tests" / "fixtures" / "fhir"


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reclaim", "convert", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO)


def test_convert_samples_to_parquet(x12_samples, tmp_path):
    inputs = [x12_samples, FHIR, REPO / "examples" / "claims-template.csv"]
    out = tmp_path / "tables"
    done = run(*inputs, "-o", out, "--quiet")
    assert done.returncode == 1, done.stderr  # some samples are broken on purpose: 1 = something skipped
    assert "Traceback" not in done.stderr
    claims, remits = read_any(inputs)
    con = duckdb.connect()
    for name, table in {**claims.tables, **remits.tables}.items():
        if name in ("files", "transactions", "read_issues"):
            continue
        count = con.execute(f"SELECT count(*) FROM '{out / (name + '.parquet')}'").fetchone()[0]
        assert count == table.num_rows, name
    assert con.execute(f"SELECT count(*) FROM '{out / 'claims.parquet'}'").fetchone()[0] > 1400
    assert con.execute(f"SELECT count(DISTINCT file_id) FROM '{out / 'files.parquet'}'").fetchone()[0] == \
        con.execute(f"SELECT count(*) FROM '{out / 'files.parquet'}'").fetchone()[0]
    # types survive: money stays decimal, dates stay dates
    described = con.execute(f"DESCRIBE SELECT total_charge, statement_from FROM '{out / 'claims.parquet'}'").fetchall()
    types = {row[0]: row[1] for row in described}
    assert types == {"total_charge": "DECIMAL(18,2)", "statement_from": "DATE"}
    summary = done.stderr
    assert "claims:" in summary and "skipped" in summary and "read_issues.parquet" in summary
    skipped_files = con.execute(
        f"SELECT DISTINCT regexp_extract(path, '[^/]+$') FROM '{out / 'read_issues.parquet'}' WHERE skipped = 'file'"
    ).fetchall()
    assert ("README.md",) in skipped_files


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_convert_other_formats(tmp_path, fmt):
    out = tmp_path / fmt
    done = run(FHIR / "claims-bundle.json", FHIR / "eob-bundle.json", "-o", out, "--format", fmt)
    assert done.returncode == 0, done.stderr
    reader = "read_csv_auto" if fmt == "csv" else "read_json_auto"
    con = duckdb.connect()
    assert con.execute(f"SELECT count(*) FROM {reader}('{out / ('claims.' + fmt)}')").fetchone()[0] == 2
    assert con.execute(f"SELECT count(*) FROM {reader}('{out / ('remit_claims.' + fmt)}')").fetchone()[0] == 2
    assert con.execute(f"SELECT count(*) FROM {reader}('{out / ('lines.' + fmt)}')").fetchone()[0] == 3


def test_convert_only_remittances_writes_remittance_tables(x12_samples, tmp_path):
    out = tmp_path / "r"
    done = run(x12_samples / "x12__managed-care.835", "-o", out)
    assert done.returncode == 0, done.stderr
    names = {p.stem for p in out.iterdir()}
    assert {"remit_claims", "remit_lines", "adjustments", "payments", "files", "read_issues"} <= names
    assert "lines" not in names and "claims" not in names


def test_convert_without_files_is_a_usage_error(tmp_path):
    done = run("-o", tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_convert_validate_reports_pyx12_findings_next_to_ours(x12_samples, tmp_path):
    """--validate runs pyx12 on each X12 file: the deliberately broken sample's wrong SE count
    and missing mandatory segments appear in pyx12_findings.csv; a clean 835 gets none of those."""
    import csv

    broken = x12_samples / "x12-parser__x12_segment_errors.txt"
    clean = x12_samples / "x12__medicare-part-a.835"
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "reclaim", "convert", str(broken), str(clean), "-o", str(out),
                          "--validate", "--quiet"], capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr
    rows = list(csv.DictReader(open(out / "pyx12_findings.csv", encoding="utf-8")))
    broken_rows = [r for r in rows if r["file"] == str(broken)]
    assert any(r["segment_id"] == "ST" and "SE count" in r["message"] for r in broken_rows)
    assert any(r["segment_id"] == "HI" and "missing" in r["message"] for r in broken_rows)
    assert f"pyx12: {len(broken_rows)} finding(s) in {broken}" in run.stderr
    # findings may quote claim values: they stay in the file, never on stderr
    assert all(r["value"] == "" or r["value"] not in run.stderr for r in rows)

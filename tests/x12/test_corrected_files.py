"""Corrected claims from the commands a biller runs: ``check --fix`` on the examples (837 and
CSV, in the input's own format, only the fixed elements changed, pyx12-clean with default
settings), a mismatched output name refused, ``reclaim claims replace|void``, and ``recover``'s
corrected claims routed to each payer's interchange."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reclaim.claims.csv import read_csv
from reclaim.claims.x12 import read_837
from reclaim.cli import cli
from reclaim.errors import ReclaimError
from tests.x12.x12diff import segment_diff, segments

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "claims"
REMITS = REPO / "examples" / "remits"
POLICIES = ["--policy", "medicare", "--policy", "medicaid", "--policy", str(REPO / "examples/policies/commercial-example.yaml")]
#: the model field a fix changes -> the segment and element that carry it
ELEMENT_OF = {"procedure_code": ("SV1", 1), "modifier_1": ("SV1", 1), "modifier_2": ("SV1", 1), "modifier_3": ("SV1", 1),
              "modifier_4": ("SV1", 1), "units": ("SV1", 4), "ndc": ("LIN", 3), "ndc_qualifier": ("LIN", 2)}


def _run(ref_store, *args, home=None):
    return CliRunner().invoke(cli, ["--home", str(home or ref_store.home), *args], catch_exceptions=False)


def test_check_fix_on_an_837_changes_only_the_fixed_elements(ref_store, tmp_path, pyx12_validate, monkeypatch):
    monkeypatch.setenv("RECLAIM_CONFIG", str(tmp_path / "reclaim.toml"))  # default settings
    (tmp_path / "reclaim.toml").write_text("[reclaim]\n")
    src = EXAMPLES / "check-medicare.837"
    out = tmp_path / "fixed.837"
    result = _run(ref_store, "check", str(src), "--date-of-check", "2025-12-15", "--fix", "-o", str(out),
                  "--format", "json")
    import json

    fixes = json.loads(result.output)["fixes"]
    assert fixes and out.is_file()
    diff = segment_diff(src.read_bytes(), out.read_bytes())
    allowed = {ELEMENT_OF[f["field"]] for f in fixes}
    assert diff and all(d[0] == "element" and (d[1], d[2]) in allowed for d in diff), diff
    # as many changed elements as fixed fields (a modifier change is one SV101 change per line)
    per_line = {(f["patient_control_number"], f["line_number"], ELEMENT_OF[f["field"]]) for f in fixes}
    assert len(diff) == len(per_line)
    # same envelope (ISA15 T stays T), and pyx12 finds nothing
    assert segments(out.read_bytes())[0][15] == segments(src.read_bytes())[0][15] == "T"
    assert pyx12_validate(out) == []


def test_check_fix_on_a_csv_writes_csv_and_refuses_an_837_name(ref_store, tmp_path):
    src = EXAMPLES / "check-medicaid.csv"
    wrong = tmp_path / "fixed.837"
    with pytest.raises(ReclaimError, match="read from a CSV, so the corrected file is a CSV too; its name must end in .csv"):
        _run(ref_store, "check", str(src), "--date-of-check", "2025-12-15", "--fix", "-o", str(wrong))
    assert not wrong.exists()
    out = tmp_path / "fixed.csv"
    result = _run(ref_store, "check", str(src), "--date-of-check", "2025-12-15", "--fix", "-o", str(out))
    assert "--fix:" in result.output
    before, after = src.read_text().splitlines(), out.read_text().splitlines()
    assert after[0] == before[0] and len(after) == len(before)  # every column and row of the input
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    assert changed
    for b, a in changed:  # only the fixed cells differ
        diff = [i for i, (x, y) in enumerate(zip(b.split(","), a.split(","))) if x != y]
        assert {before[0].split(",")[i] for i in diff} <= {"units", "procedure_code", "modifier_1", "modifier_2", "ndc"}
    assert read_csv(out)["read_issues"].num_rows == 0


def test_claims_replace_and_void(ref_store, tmp_path, pyx12_validate):
    src = EXAMPLES / "recover-acme.837"
    out = tmp_path / "replace.837"
    result = _run(ref_store, "claims", "replace", str(src), "--claim", "RC2002=ICN123", "-o", str(out))
    assert result.exit_code == 0, result.output
    clm = next(s for s in segments(src.read_bytes()) if s[:2] == ["CLM", "RC2002"])
    diff = segment_diff(src.read_bytes(), out.read_bytes())
    # the other claims are not written; this one differs in CLM05-3 and REF*F8 only
    assert ("element", "CLM", 5, clm[5], clm[5][:-1] + "7") in diff and ("insert", "REF*F8*ICN123") in diff
    assert {d[0] for d in diff} == {"element", "delete", "insert"}
    assert [d for d in diff if d[0] == "element"] == [("element", "CLM", 5, clm[5], clm[5][:-1] + "7")]
    assert all(not d[1].startswith(("CLM*RC2002", "REF*F8")) for d in diff if d[0] == "delete")
    [claim] = read_837(out)["claims"].to_pylist()
    assert (claim["patient_control_number"], claim["frequency_code"], claim["original_claim_number"]) == (
        "RC2002", "7", "ICN123")
    assert pyx12_validate(out) == []
    csv_out = tmp_path / "void.csv"
    result = _run(ref_store, "claims", "void", str(EXAMPLES / "check-medicaid.csv"), "--claim", "MCD-2001=ICN9",
                  "-o", str(csv_out))
    assert result.exit_code == 0, result.output
    [claim] = read_csv(csv_out)["claims"].to_pylist()
    assert (claim["frequency_code"], claim["original_claim_number"]) == ("8", "ICN9")
    assert csv_out.read_text().splitlines()[0].startswith(
        (EXAMPLES / "check-medicaid.csv").read_text().splitlines()[0])  # input columns first, then the added one
    with pytest.raises(ReclaimError, match="no claim with patient control number"):
        _run(ref_store, "claims", "void", str(src), "--claim", "NOPE=1", "-o", str(tmp_path / "x.837"))


def test_recover_corrected_claims_go_to_each_payers_interchange(ref_store, tmp_path, pyx12_validate):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ref_store.store_path, home / "refdata.duckdb")
    out = tmp_path / "out"
    args = ["recover", str(REMITS / "recover-medicare.835"), str(REMITS / "recover-acme.835"),
            "--claims", str(EXAMPLES / "recover-medicare.837"), "--claims", str(EXAMPLES / "recover-acme.837"),
            *POLICIES[:4], "--terms", str(REMITS / "acme-terms.yaml"), "--no-save", "--no-letters",
            "--as-of", "2025-12-15", "-o", str(out)]
    result = _run(ref_store, *args, home=home)
    assert result.exit_code == 0, result.output
    corrected = out / "corrected-claims.837"
    written = read_837(corrected)
    assert written["claims"].num_rows and set(written["claims"]["frequency_code"].to_pylist()) == {"7"}
    receivers = {t["transaction_id"]: t["receiver_id"] for t in written["transactions"].to_pylist()}
    acme = set(read_837(EXAMPLES / "recover-acme.837")["claims"]["patient_control_number"].to_pylist())
    for c in written["claims"].to_pylist():
        assert receivers[c["transaction_id"]] == ("ACME01" if c["patient_control_number"] in acme else "MEDICAREB")
    assert pyx12_validate(corrected) == []


def test_a_corrected_excel_workbook_changes_only_the_fixed_cells(tmp_path):
    import openpyxl
    import pyarrow as pa

    from reclaim.claims.csv import read_xlsx
    from reclaim.edits.fix import apply_fixes, write_fixed

    src = REPO / "examples" / "claims-template.xlsx"
    batch = read_xlsx(src)
    line = batch["lines"].to_pylist()[1]
    fixed, changes = apply_fixes(batch, pa.table({
        "claim_id": [line["claim_id"]] * 2, "line_number": [line["line_number"]] * 2, "code": ["RC301", "RC201"],
        "fix_action": ["add_modifier", "set_units"], "fix_value": ["JW", "3"]}))
    out = tmp_path / "fixed.xlsx"
    write_fixed(fixed, out)
    before, after = openpyxl.load_workbook(src), openpyxl.load_workbook(out)
    assert before.sheetnames == after.sheetnames
    changed = []
    for name in before.sheetnames:
        a, b = before[name], after[name]
        assert (a.max_row, a.max_column) == (b.max_row, b.max_column)
        for r in range(1, a.max_row + 1):
            for c in range(1, a.max_column + 1):
                if a.cell(r, c).value != b.cell(r, c).value:
                    changed.append((a.cell(r, c).value, b.cell(r, c).value))
    assert sorted(changed, key=str) == sorted([(None, "JW"), (1, 3)], key=str)  # modifier_1 and units of line 2
    again = read_xlsx(out)["lines"].to_pylist()[1]
    assert again["modifier_1"] == "JW" and again["units"] == 3


def test_a_convert_folder_written_before_the_source_columns_still_loads(tmp_path):
    import duckdb
    import pyarrow.parquet as pq

    from reclaim.claims.io import _LATER_COLUMNS, convert, load_into

    _, written = convert([EXAMPLES / "recover-acme.837"], tmp_path / "new")
    old = tmp_path / "old"
    old.mkdir()
    for p in written:  # every column added since (source offsets, billing taxonomy) removed
        t = pq.read_table(p)
        pq.write_table(t.drop_columns([c for c in t.column_names if c in _LATER_COLUMNS]), old / p.name)
    for views in (False, True):
        con = duckdb.connect()
        assert load_into(con, [old], "claims", parquet_views=views)["claims"] == 3
        assert con.execute("select count(*), count(x12_clm_offset) from claims").fetchone() == (3, 0)
        assert con.execute("select count(*) from read_issues").fetchone() == (0,)

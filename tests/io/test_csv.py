"""CSV / XLSX claim exports: happy path on the shipped template, aliases, layouts, and every
error path (each one a read_issues row with file, line, column; the other rows still load)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pytest

from reclaim.claims.csv import COLUMNS, ndc11, normalize_header, read_csv, read_xlsx
from reclaim.claims.model import CLAIMS, LINES

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "examples" / "claims-template.csv"
HEADER = "patient_control_number,service_date,procedure_code,units,charge"


def issues(batch, code=None):
    rows = batch["read_issues"].to_pylist()
    return [r for r in rows if code is None or r["code"] == code]


def write(tmp_path: Path, text: str, name="claims.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_template_reads_into_the_model():
    batch = read_csv(TEMPLATE)
    assert issues(batch) == []
    claims = {c["patient_control_number"]: c for c in batch["claims"].to_pylist()}
    assert set(claims) == {"PCN-2025-0001", "PCN-2025-0002"}
    first = claims["PCN-2025-0001"]
    assert first["claim_type"] == "professional"
    assert first["total_charge"] == Decimal("1807.80")  # sum of the two lines (no total column)
    assert first["place_of_service"] == "11" and first["frequency_code"] == "1"
    assert first["patient_birth_date"] == dt.date(1948, 2, 14) and first["patient_sex"] == "F"
    assert claims["PCN-2025-0002"]["original_claim_number"] == "25123400012300"
    lines = batch["lines"].to_pylist()
    drug = next(line for line in lines if line["claim_id"] == first["claim_id"] and line["line_number"] == 1)
    assert drug["procedure_code"] == "J0897" and drug["modifier_1"] == "JZ"
    assert drug["units"] == Decimal("60") and drug["charge"] == Decimal("1762.80")
    assert (drug["dx_pointer_1"], drug["dx_pointer_2"]) == (1, None)
    assert (drug["ndc"], drug["ndc11"], drug["ndc_quantity"], drug["ndc_unit"]) == (
        "55513-0710-01", "55513071001", Decimal("1"), "UN")
    dx = [(d["position"], d["qualifier"], d["code"]) for d in batch["diagnoses"].to_pylist()
          if d["claim_id"] == first["claim_id"]]
    assert dx == [(1, "ABK", "M810")]
    assert batch["claims"].schema.equals(CLAIMS) and batch["lines"].schema.equals(LINES)
    assert batch["files"]["format"].to_pylist() == ["csv"]


def test_template_codes_are_real(ref_store):
    """The template bills real codes: HCPCS in the CMS file, NDCs in the ASP crosswalk for
    that HCPCS, diagnoses in the ICD-10-CM valid list (its Section 111 edition has no Z codes,
    so the template uses none)."""
    from reclaim.refdata.store import RefStore

    batch = read_csv(TEMPLATE)
    with RefStore.open(ref_store) as store:
        for line in batch["lines"].to_pylist():
            code = line["procedure_code"]
            if code[0].isdigit():  # CPT (AMA): not in the CMS HCPCS Level II file
                assert code.isdigit() and len(code) == 5
                continue
            assert store.hcpcs(code, on=line["service_date"]) is not None, code
            if line["ndc11"]:
                rows = store.crosswalk_by_ndc(line["ndc11"])
                assert line["procedure_code"] in {r.get("hcpcs") or r.get("hcpcs_code") for r in rows}, rows
        for d in batch["diagnoses"].to_pylist():
            assert store.icd10(d["code"]) is not None, d["code"]


@pytest.mark.parametrize("header", [
    "Claim No,Service Date,CPT/HCPCS,Qty,Billed Amount",
    "PCN,DOS,Proc Code,Units,Charges",
    "patient account number,date of service,HCPCS Code,QUANTITY,line_charge",
    "  Account_No ,  dos_from ,cpt hcpcs,Service-Units,Amount",
])
def test_header_aliases(tmp_path, header):
    batch = read_csv(write(tmp_path, f"{header}\nA1,2025-10-06,J0897,60,1762.80\n"))
    assert issues(batch) == []
    line = batch["lines"].to_pylist()[0]
    assert (line["procedure_code"], line["units"], line["charge"]) == ("J0897", Decimal("60"), Decimal("1762.80"))


def test_alias_table_is_unambiguous():
    seen = {}
    for col in COLUMNS:
        for name in (col.name, *col.aliases):
            key = normalize_header(name)
            assert seen.setdefault(key, col.name) == col.name, name
    assert normalize_header("CPT/HCPCS ") == normalize_header("cpt_hcpcs") == "cpthcpcs"


def test_title_rows_tabs_and_cp1252(tmp_path):
    text = "Clinic export\tOctober\n\nClaim No\tDOS\tHCPCS\tUnits\tCharge\tPatient Last Name\nA1\t10/6/2025\tJ0897\t60\t$1,762.80\tMU\u00d1OZ\n"
    batch = read_csv(write(tmp_path, text, encoding="cp1252"))
    assert [i["code"] for i in issues(batch)] == ["CSV-ENCODING"]
    claim = batch["claims"].to_pylist()[0]
    assert claim["patient_last_name"] == "MU\u00d1OZ"
    line = batch["lines"].to_pylist()[0]
    assert line["service_date"] == dt.date(2025, 10, 6) and line["charge"] == Decimal("1762.80")


def test_missing_required_column_names_header_row_and_aliases(tmp_path):
    batch = read_csv(write(tmp_path, "Title\nClaim No,DOS,Units,Charge,NDC\nA1,2025-10-06,60,10,55513-0710-01\n"))
    assert batch["claims"].num_rows == 0
    [issue] = issues(batch, "CSV-MISSING-COLUMN")
    assert issue["column"] == "procedure_code" and issue["line"] == 2 and issue["skipped"] == "file"
    assert "line 2" in issue["message"] and "cpt/hcpcs" in issue["message"] and "proc code" in issue["message"]
    assert issue["path"].endswith("claims.csv")


def test_bad_required_value_skips_the_claim_and_keeps_the_others(tmp_path):
    text = (f"{HEADER},patient_birth_date\n"
            "A1,2025-10-06,J0897,60,1762.80,1948-02-14\n"
            "A1,2025-02-30,96372,1,45.00,1948-02-14\n"   # line 3: no Feb 30
            "B2,2025-10-06,J0897,abc,10,1950-01-01\n"    # line 4: units not a number
            "C3,2025-10-06,J0897,60,1762.80,1960-13-45\n"  # line 5: bad DOB (optional)
            "D4,2025-10-06,J0897,60,17.628,1955-05-05\n")  # line 6: 3 decimals in a charge
    batch = read_csv(write(tmp_path, text))
    bad = {(i["line"], i["column"]): i for i in issues(batch, "CSV-BAD-VALUE")}
    assert set(bad) == {(3, "service_date"), (4, "units"), (5, "patient_birth_date"), (6, "charge")}
    assert bad[(3, "service_date")]["skipped"] == "claim" and bad[(3, "service_date")]["claim_key"] == "A1"
    assert "2025-02-30" in bad[(3, "service_date")]["message"] and "YYYY-MM-DD" in bad[(3, "service_date")]["message"]
    dob = bad[(5, "patient_birth_date")]
    assert dob["severity"] == "warning" and dob["skipped"] == "nothing"
    assert "1960-13-45" not in dob["message"]  # patient data is never quoted back
    loaded = {c["patient_control_number"]: c for c in batch["claims"].to_pylist()}
    assert set(loaded) == {"C3"}  # A1 loses both lines (a claim loads whole or not at all)
    assert loaded["C3"]["patient_birth_date"] is None
    assert {i["claim_key"] for i in issues(batch, "CSV-CLAIM-SKIPPED")} == {"A1", "B2", "D4"}


def test_missing_values_and_optional_bad_values(tmp_path):
    text = (f"{HEADER},modifiers,dx_pointers,patient_sex,ndc\n"
            "A1,2025-10-06,J0897,60,1762.80,JZ KX,AB,F,55513-710-01\n"
            "A1,2025-10-06,96372,1,45,JZZ,1:2:3:4:5,X,5551307101\n"   # line 3
            ",2025-10-06,J0897,60,10,,,,\n"                        # line 4: no claim key
            "B2,,J0897,60,10,,,,\n")                               # line 5: no date
    batch = read_csv(write(tmp_path, text))
    missing = {(i["line"], i["column"], i["skipped"]) for i in issues(batch, "CSV-MISSING-VALUE")}
    assert missing == {(4, "patient_control_number", "line"), (5, "service_date", "claim")}
    warnings = {(i["line"], i["column"]) for i in issues(batch, "CSV-BAD-VALUE")}
    assert warnings == {(3, "modifiers"), (3, "dx_pointers"), (3, "patient_sex")}
    lines = {line["line_number"]: line for line in batch["lines"].to_pylist()}
    assert (lines[1]["modifier_1"], lines[1]["modifier_2"]) == ("JZ", "KX")
    assert (lines[1]["dx_pointer_1"], lines[1]["dx_pointer_2"]) == (1, 2)  # CMS-1500 letters
    assert lines[1]["ndc11"] == "55513071001"  # 5-3-2 padded
    assert lines[2]["modifier_1"] is None and lines[2]["dx_pointer_4"] == 4
    assert lines[2]["ndc"] == "5551307101" and lines[2]["ndc11"] is None  # 10 bare digits: ambiguous
    assert batch["claims"]["patient_control_number"].to_pylist() == ["A1"]


def test_field_count_error_skips_that_claim_and_line_numbers_survive_multiline_values(tmp_path):
    text = (f"{HEADER},claim_note\n"
            'A1,2025-10-06,J0897,60,1762.80,"first line\nsecond line"\n'  # lines 2-3
            "B2,2025-10-06,J0897,60\n"                                     # line 4: 4 fields
            "B2,2025-10-06,96372,1,45,\n"                                  # line 5
            "C3,2025-10-06,J0897,sixty,10,\n")                             # line 6
    batch = read_csv(write(tmp_path, text))
    [count] = issues(batch, "CSV-FIELD-COUNT")
    assert (count["line"], count["claim_key"], count["skipped"]) == (4, "B2", "claim")
    [bad] = issues(batch, "CSV-BAD-VALUE")
    assert (bad["line"], bad["column"]) == (6, "units")
    assert batch["claims"]["patient_control_number"].to_pylist() == ["A1"]


def test_claim_level_conflicts_and_total_mismatch_are_warnings(tmp_path):
    text = (f"{HEADER},diagnosis_1,total_charge\n"
            "A1,2025-10-06,J0897,60,1762.80,M81.0,1900\n"
            "A1,2025-10-06,96372,1,45,M81.8,\n")
    batch = read_csv(write(tmp_path, text))
    [conflict] = issues(batch, "CSV-CLAIM-CONFLICT")
    assert conflict["column"] == "diagnosis_1" and conflict["claim_key"] == "A1"
    [total] = issues(batch, "CSV-TOTAL-MISMATCH")
    assert "1900" in total["message"] and "1807.80" in total["message"]
    claim = batch["claims"].to_pylist()[0]
    assert claim["total_charge"] == Decimal("1900.00")
    assert batch["diagnoses"]["code"].to_pylist() == ["M810"]


def test_institutional_rows(tmp_path):
    text = (f"{HEADER},type_of_bill,revenue_code\n"
            "H1,2025-10-07,J0897,120,3525.60,0137,636\n")
    claim = read_csv(write(tmp_path, text))["claims"].to_pylist()[0]
    assert (claim["claim_type"], claim["type_of_bill"], claim["facility_type_code"], claim["frequency_code"]) == (
        "institutional", "137", "13", "7")


def test_xlsx_twin_of_the_template(tmp_path):
    import csv as pycsv

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Claims for October"])  # a title row above the header
    with TEMPLATE.open() as fh:
        rows = list(pycsv.reader(fh))
    ws.append(rows[0])
    ndc_col = rows[0].index("ndc")
    for row in rows[1:]:
        values = [dt.date.fromisoformat(v) if "date" in h and v else v for h, v in zip(rows[0], row)]
        ws.append(values)
    ws.cell(row=4, column=ndc_col + 1, value=55513071001)  # an NDC typed as a number
    path = tmp_path / "claims.xlsx"
    wb.save(path)
    batch = read_xlsx(path)
    csv_batch = read_csv(TEMPLATE)
    keep = [c for c in CLAIMS.names if c not in ("claim_id", "transaction_id", "file_id")]
    assert batch["claims"].select(keep).equals(csv_batch["claims"].select(keep))
    assert batch["lines"].num_rows == 3
    [warn] = issues(batch, "CSV-XLSX-NUMERIC-NDC")
    assert warn["line"] == 4 and warn["column"] == "ndc"
    assert batch["files"]["format"].to_pylist() == ["xlsx"]


def test_not_a_claim_file(tmp_path):
    batch = read_csv(write(tmp_path, "# Notes\n\nThis folder holds exports.\n", name="README.md"))
    [issue] = issues(batch)
    assert issue["code"] == "CSV-NOT-CLAIMS" and issue["skipped"] == "file"


def test_ndc11_vectorised_matches_the_reference_rules():
    from reclaim.refdata.ndc import normalize_ndc

    import pyarrow as pa

    samples = ["55513-0710-01", "0574-4072-05", "51655-089-52", "58118-1397-3", "55513071001", "5551307101",
               "N4 55513-0730-01", "N455513073001", "1234-56-7", "abc", None]
    got = ndc11(pa.array(samples)).to_pylist()
    want = [normalize_ndc(s) if s is not None else None for s in samples]
    assert got == want


def test_non_utf8_after_the_first_64kb(tmp_path):
    rows = "".join(f"A{i},2025-10-06,J0897,60,1762.80,DOE\n" for i in range(3000))
    text = f"{HEADER},patient_last_name\n{rows}Z9,2025-10-06,J0897,60,1762.80,MU\u00d1OZ\n"
    batch = read_csv(write(tmp_path, text, encoding="cp1252"))
    assert [i["code"] for i in issues(batch)] == ["CSV-ENCODING"]
    assert batch["claims"].num_rows == 3001
    assert batch["claims"]["patient_last_name"].to_pylist()[-1] == "MU\u00d1OZ"


def test_unclosed_quote_is_reported_not_swallowed(tmp_path):
    text = f'{HEADER}\nA0,2025-10-06,J0897,60,1762.80\nA1,2025-10-06,J0897,60,"1762.80\nB1,2025-10-06,J0897,60,1762.80\n'
    batch = read_csv(write(tmp_path, text))
    [issue] = issues(batch)
    assert issue["code"] == "CSV-UNCLOSED-QUOTE" and issue["line"] == 3 and "lines 3-4" in issue["message"]
    assert batch["claims"]["patient_control_number"].to_pylist() == ["A0"]


def test_every_column_is_documented():
    doc = (REPO / "docs" / "claim-files.md").read_text()
    for col in COLUMNS:
        base = col.name.rsplit("_", 1)[0] if col.name[-1].isdigit() else col.name
        assert f"`{base}" in doc, col.name
    header = (REPO / "examples" / "claims-template.csv").read_text().splitlines()[0].split(",")
    assert all(normalize_header(h) in {normalize_header(c.name) for c in COLUMNS} for h in header)


def test_damaged_xlsx_is_a_file_issue(tmp_path):
    import zipfile

    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "<not really a workbook")
    batch = read_xlsx(path)
    [issue] = issues(batch)
    assert issue["code"] == "CSV-XLSX-UNREADABLE" and issue["skipped"] == "file"


def test_shipped_xlsx_template_matches_the_csv_template():
    xlsx, csv_batch = read_xlsx(REPO / "examples" / "claims-template.xlsx"), read_csv(TEMPLATE)
    assert issues(xlsx) == []
    for name in ("claims", "lines", "diagnoses"):
        keep = [c for c in xlsx[name].column_names if c not in ("claim_id", "transaction_id", "file_id")]
        assert xlsx[name].select(keep).equals(csv_batch[name].select(keep)), name

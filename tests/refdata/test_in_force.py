"""The release in force on each date, on the real files: the CDC ICD-10-CM tabular shipped in the
simple-icd-10-cm package, the CMS Section 111 list, the CMS MUE tables of 2026-Q2 (CSV and XLSX),
ASP 2025-Q4; and what the store says when no release held covers a date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reclaim.errors import RefDataError
from reclaim.refdata import icd10, mue
from reclaim.refdata.store import RefStore, recognize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"
MUE_DIR = "cms_ncci_mue/2026-Q2"


@pytest.fixture(scope="module")
def ref(ref_store):
    with RefStore.open(ref_store) as opened:
        yield opened


@pytest.fixture(scope="module")
def tabular():
    """The CDC tabular of the installed package, read once."""
    [loaded] = icd10.load_bundled()
    return loaded


def test_bundled_cdc_tabular(tabular):
    assert icd10.bundled_tabular().name == "icd10c-tabular-April-1-2026.xml"
    assert (tabular.release, tabular.effective_from, tabular.effective_to) == (
        "FY2026-04", dt.date(2026, 4, 1), dt.date(2026, 9, 30))
    rows = tabular.rows
    # the CDC FY2026 order file's counts (98,186 rows, 74,719 billable: shared refdata README)
    assert rows.num_rows == 98186 and sum(rows.column("billable").to_pylist()) == 74719
    by_code = {c: (b, d) for c, b, d in zip(rows.column("code").to_pylist(), rows.column("billable").to_pylist(),
                                             rows.column("long_description").to_pylist())}
    assert by_code["Z5111"] == (True, "Encounter for antineoplastic chemotherapy")
    assert by_code["Z0000"] == (True, "Encounter for general adult medical examination without abnormal findings")
    assert by_code["E11A"] == (True, "Type 2 diabetes mellitus without complications in remission")
    assert by_code["M81"][0] is False and by_code["Z511"][0] is False  # headers: they have children
    # 7th characters from sevenChrDef, the leaf padded with X to six characters
    assert by_code["S72001A"] == (True, "Fracture of unspecified part of neck of right femur, initial encounter "
                                        "for closed fracture")
    assert by_code["S0000XA"][0] is True and by_code["S72001"][0] is False
    # the tabular's one prose restriction: no D/S for S06 codes with 6th character 7 or 8
    assert "S06827A" in by_code and "S06827D" not in by_code and "S06826D" in by_code


def test_expansion_equals_the_package_code_list(tabular):
    """An independent list of the same release (the package's code-list-April-2026.txt, which
    also lists chapters and blocks): the same codes, none more, none fewer."""
    listed = {line.strip() for line in (icd10.bundled_tabular().parent / "code-list-April-2026.txt").read_text().splitlines()
              if line.strip()[:1].isalpha() and "-" not in line}
    assert listed == set(tabular.rows.column("code").to_pylist())


def test_tabular_layout_and_errors(tmp_path):
    assert recognize(icd10.bundled_tabular()) is icd10.load_tabular
    bad = tmp_path / "icd10cm-tabular-2026.xml"
    bad.write_text("<ICD10CM.tabular><version>2026</version><chapter><section><diag><name>M81")
    assert recognize(bad) is icd10.load_tabular
    with pytest.raises(RefDataError, match=r"icd10cm-tabular-2026.xml: line 1, column \d+: not well-formed XML"):
        icd10.load_tabular(bad)
    october = tmp_path / "icd10cm-tabular-2026.xml"
    october.write_text("<ICD10CM.tabular><version>2026</version><chapter><section id='M80-M85'>"
                       "<diag><name>M81</name><desc>Osteoporosis</desc><diag><name>M81.0</name><desc>Age-related"
                       "</desc></diag></diag></section></chapter></ICD10CM.tabular>")
    [loaded] = icd10.load_tabular(october)
    assert (loaded.release, loaded.effective_from, loaded.effective_to) == ("FY2026", dt.date(2025, 10, 1), dt.date(2026, 9, 30))
    assert loaded.rows.column("billable").to_pylist() == [False, True]


def test_cdc_codes_file_layout(tmp_path):
    path = tmp_path / "icd10cm-codes-2026.txt"
    path.write_text("A000    Cholera due to Vibrio cholerae 01, biovar cholerae\nZ5111   Encounter for antineoplastic chemotherapy\n")
    assert recognize(path) is icd10.load_codes_file
    [loaded] = icd10.load_codes_file(path)
    assert loaded.release == "FY2026" and loaded.rows.column("code").to_pylist() == ["A000", "Z5111"]
    path.write_text("A000    Cholera\nnot a code line\n")
    with pytest.raises(RefDataError, match=r"icd10cm-codes-2026.txt: line 2: expected the CDC code-file layout"):
        icd10.load_codes_file(path)


@pytest.mark.parametrize(("on", "release", "source_format"), [
    ("2025-09-30", "FY2025", "cms_valid_list"),   # last day of FY2025: only the CMS list is held
    ("2025-10-01", None, None),                   # FY2026 (October 2025 release) is not held
    ("2026-03-31", None, None),                   # still the October release's period
    ("2026-04-01", "FY2026-04", "cdc_tabular"),   # the April update, from April 1
    ("2026-09-30", "FY2026-04", "cdc_tabular"),
    ("2026-10-01", None, None),                   # FY2027 not held
])
def test_icd10_fiscal_year_boundaries(ref, on, release, source_format):
    found = ref.in_force("icd10", on)
    assert (found["release"], found["source_format"]) == (release, source_format) if release else found is None


def test_icd10_codes_on_their_dates(ref):
    for code in ("Z51.11", "Z00.00", "E11.A"):
        row = ref.icd10(code, on="2026-04-01")
        assert row["billable"] is True and row["release"] == "FY2026-04", code
    assert ref.icd10("M81", on="2026-04-01")["billable"] is False
    # E11.A was added on 2025-10-01: not in the FY2025 list; Z51.11 is absent from the CMS list
    assert ref.icd10("E11.A", on="2025-09-30") is None and ref.icd10("Z51.11", on="2025-09-30") is None
    assert ref.icd10("M81.0", on="2025-09-30")["source_format"] == "cms_valid_list"
    assert ref.icd10("Z51.11", on="2025-10-01") is None  # no release held that day


def test_mue_real_values(ref):
    for setting in ("practitioner", "outpatient_hospital"):
        j0897 = ref.mue("J0897", setting, on="2026-04-01")
        assert (j0897["mue_value"], j0897["mai"], j0897["release"]) == (120, 3, "2026-Q2")
        assert ref.mue("J1745", setting, on="2026-05-15")["mue_value"] == 150
        assert ref.mue("J9271", setting, on="2026-06-30")["mue_value"] == 400
    assert ref.mue("J0897", "dme", on="2026-04-01")["mue_value"] == 0  # "CMS Policy" in the DME table
    assert ref.mue("E0601", "dme", on="2026-04-01")["mue_value"] == 1
    # outside the quarter: no table in force, never 2026-Q2's value
    for day in ("2026-03-31", "2026-07-01", "2025-11-03"):
        assert ref.mue("J0897", "practitioner", on=day) is None
        assert ref.in_force("mue", day, "setting = ?", ["practitioner"]) is None


def test_mue_xlsx_twin_loads_like_the_csv(refdata_dir):
    folder = refdata_dir / MUE_DIR
    xlsx = folder / "MCR_MUE_PractitionerServices_Eff_04-01-2026.xlsx"
    assert recognize(xlsx) is mue.load
    [from_xlsx] = mue.load(xlsx)
    [from_csv] = mue.load(folder / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv")
    assert from_xlsx.rows.num_rows == 15095 and from_xlsx.rows.equals(from_csv.rows)
    assert (from_xlsx.release, from_xlsx.effective_from, from_xlsx.effective_to) == (
        "2026-Q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30))


def test_unknown_xlsx_message_is_one_short_line(tmp_path):
    """An xlsx whose first cell is a page-long notice is named in a short line, not printed whole."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Current Procedural Terminology (CPT) codes ... " + "All rights reserved. " * 50])
    book.active.append(["something else"])
    path = tmp_path / "notice.xlsx"
    book.save(path)
    reason = recognize(path)
    assert isinstance(reason, str) and reason.startswith("xlsx with an unknown header") and len(reason) < 100


def test_asp_never_outside_its_quarter(ref):
    assert ref.asp("J0897", on="2025-12-31")["release"] == "2025-Q4"
    assert ref.asp("J0897", on="2026-01-01") is None and ref.asp("J0897", on="2025-09-30") is None
    # the crosswalk answers past its quarter, saying so (covers_dos False)
    rows = ref.crosswalk_by_hcpcs("J0897", on="2026-02-01")
    assert rows and all(r["covers_dos"] is False and r["release"] == "2025-Q4" for r in rows)


def test_currency_says_whether_today_is_covered(ref):
    rows = {r["dataset"]: r for r in ref.currency(dt.date(2026, 5, 1))}
    assert rows["mue_practitioner"]["covers_today"] is True
    assert rows["icd10"]["covers_today"] is True
    assert rows["asp_pricing"]["covers_today"] is False
    assert rows["asp_pricing"]["message"] == (
        "CMS ASP pricing 2025-Q4 (2025-10-01 to 2025-12-31) is the newest held and ended before today (2026-05-01): "
        "pull the current quarter (reclaim data pull --dataset asp)")
    assert rows["hcpcs"]["effective_to"] == dt.date(2025, 12, 31) and rows["hcpcs"]["covers_today"] is False
    assert rows["carc"]["covers_today"] is None
    later = {r["dataset"]: r for r in ref.currency(dt.date(2026, 7, 1))}
    assert later["mue_practitioner"]["covers_today"] is False

"""The reference store: date-of-service look-ups, versioning, atomic and idempotent imports."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from reclaim.errors import RefDataError, StoreNotBuiltError
from reclaim.refdata import store as refstore
from reclaim.refdata.store import RefStore, import_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"


@pytest.fixture(scope="module")
def ref(ref_store):
    with RefStore.open(ref_store) as opened:
        yield opened


def test_every_official_file_loaded(ref):
    rows = {r["dataset"]: r for r in ref.releases()}
    datasets = ("hcpcs", "asp_pricing", "ndc_crosswalk", "icd10", "icd10_cms", "carc", "rarc", "mue_practitioner",
                "mue_outpatient_hospital", "mue_dme")
    assert {d: rows[d]["rows"] for d in datasets} == {
        "hcpcs": 8846, "asp_pricing": 1012, "ndc_crosswalk": 8245, "icd10": 98186, "icd10_cms": 73427, "carc": 407,
        "rarc": 1113, "mue_practitioner": 15095, "mue_outpatient_hospital": 15045, "mue_dme": 3083}
    assert rows["icd10"]["source"].startswith("PyPI package simple-icd-10-cm 1.5.0")
    assert rows["hcpcs"]["sha256"] == "6fcd04186caa69af047915d16426a05ba20e49c3eba2367f472a94b534f9be52"
    assert rows["hcpcs"]["release_label"].startswith("2025-Q4 (October 2025 quarterly update")
    assert rows["group_codes"]["provenance"] == "handwritten"


def test_record_layout_code_tables_are_stored_as_derived_data(ref, refdata_dir):
    """The code tables (what pricing indicator 51 means...) are data in the store, so the
    guide does not need the folder the release came from; the field-positions summary stays
    documentation."""
    [row] = [r for r in ref.releases() if r["dataset"] == "hcpcs_code_tables"]
    source = refdata_dir / "cms_hcpcs/layout_2026_derived/HCPC2026_recordlayout_codetables_DERIVED.csv"
    import csv

    with open(source, encoding="utf-8", newline="") as fh:
        expected = sum(1 for r in csv.DictReader(fh) if r["field"].strip() and r["code"].strip())
    assert (row["release"], row["provenance"], row["rows"]) == ("2026 layout", "derived", expected)
    meaning = ref.con.execute("SELECT meaning FROM hcpcs_code_tables WHERE field = 'pricing_indicator' "
                              "AND code = '51'").fetchone()[0]
    assert meaning == "Drugs"
    assert not any(r["file_name"].endswith("fields_DERIVED.csv") for r in ref.releases())


def test_hcpcs_by_date_of_service(ref):
    j0897 = ref.hcpcs("J0897", on=dt.date(2025, 11, 3))
    assert (j0897["long_description"], j0897["valid_on"], j0897["release"]) == ("Injection, denosumab, 1 mg", True, "2025-10")
    assert ref.hcpcs("JG", on="2024-12-31")["valid_on"] is True  # TERM DT is inclusive
    jg = ref.hcpcs("JG", on="2025-01-01")
    assert jg["valid_on"] is False and jg["termination_date"] == dt.date(2024, 12, 31)
    assert ref.hcpcs("Q5157", on="2025-09-30")["valid_on"] is False  # added 2025-10-01
    assert ref.hcpcs("Q5157", on="2025-10-01")["valid_on"] is True
    assert ref.hcpcs("JN", on="2025-11-03") is None
    assert ref.hcpcs(" jw ")["kind"] == "modifier"


def test_asp_and_crosswalk(ref):
    price = ref.asp("J0897", on="2025-11-03")
    assert (price["payment_limit"], price["coinsurance_pct"], price["covers_dos"]) == (Decimal("29.38"), Decimal("17.508"), True)
    assert ref.asp("J1327", on="2025-11-03") is None
    assert ref.asp("J1745", on="2025-11-03")["payment_limit"] == Decimal("31.09")
    assert ref.asp("J0897", on="2025-09-30") is None  # no quarter loaded for that date
    assert ref.asp("J0897", on="2026-02-01") is None  # the newest quarter ended before: no price in force
    assert ref.newest("asp_pricing")["effective_to"] == dt.date(2025, 12, 31)
    [prolia] = ref.crosswalk_by_ndc("55513-710-01", on="2025-11-03")  # 10-digit 5-3-2 form
    assert (prolia["hcpcs"], prolia["billing_units"]) == ("J0897", Decimal(60))
    ndcs = {r["ndc_hyphenated"] for r in ref.crosswalk_by_hcpcs("J0897", on="2025-11-03")}
    assert {"55513-0710-01", "55513-0710-21", "55513-0730-01"} <= ndcs


def test_code_lists(ref):
    assert ref.icd10("M81.0", on="2025-03-01")["billable"] is True
    assert ref.icd10("M81.0", on="2025-03-01")["source_format"] == "cms_valid_list"
    assert ref.icd10("M81.0", on="2024-09-30") is None
    assert ref.carc("45")["stop_date"] is None
    assert ref.rarc("N362")["description"].startswith("The number of Days or Units of Service")
    assert ref.group_code("PR")["name"] == "Patient Responsibility"
    assert [r["code"] for r in ref.search_hcpcs("denosumab biosimilar")][:1] == ["Q5136"]


def test_absent_datasets_say_so(ref):
    # the MUE tables held are 2026-Q2's: a 2025 date has no MUE in force (never another quarter's)
    assert ref.mue("J0897", "practitioner", on="2025-11-03") is None and ref.loaded("mue")
    assert ref.in_force("mue", "2025-11-03") is None
    status = {r["dataset"]: r for r in ref.status()}
    assert status["coverage"]["release"] == "not loaded"
    assert status["coverage"]["notes"] == "no coverage data loaded"
    assert len(ref.unparsed_units()) > 0
    assert all(u["code"] for u in ref.unparsed_units())


def test_attach_for_joins(ref):
    con = duckdb.connect()
    ref.attach(con)
    row = con.execute("""
        SELECT h.long_description, p.payment_limit, x.billing_units
        FROM ref.hcpcs h JOIN ref.asp_pricing p ON p.hcpcs = h.code
        JOIN ref.ndc_crosswalk x ON x.hcpcs = h.code AND x.ndc11 = '55513073001'""").fetchone()
    assert row == ("Injection, denosumab, 1 mg", Decimal("29.38"), Decimal(120))


@pytest.fixture()
def small_store(refdata_dir, tmp_path):
    """A store built from the ASP folder of the mirror only (fast)."""
    folder = tmp_path / "asp"
    shutil.copytree(refdata_dir / "cms_asp/2025-Q4", folder)
    path = tmp_path / "home/refdata.duckdb"
    import_dir(folder, path)
    return folder, path


def test_failed_import_leaves_the_store_untouched(small_store, tmp_path):
    folder, path = small_store
    before = path.read_bytes()
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(folder / "asp_pricing.csv", broken / "asp_pricing.csv")
    lines = (folder / "asp_crosswalk.csv").read_bytes().split(b"\r\n")
    (broken / "asp_crosswalk.csv").write_bytes(b"\r\n".join(lines[:9] + [b"J0897,Denosumab,Amgen,55513-0710-01,Prolia,1 MG,1,1,sixty,60"]))
    with pytest.raises(RefDataError) as failure:
        import_dir(broken, path)
    assert "the reference store was not changed" in str(failure.value)
    assert "asp_crosswalk.csv: line 10, column 9 (BILLUNITS): expected a number or N/A, found 'sixty'" in str(failure.value)
    assert path.read_bytes() == before
    assert not path.with_name(path.name + ".new").exists()


def test_reimport_is_idempotent(small_store):
    folder, path = small_store
    import_dir(folder, path)
    with RefStore.open(path) as ref:
        assert ref.con.execute("SELECT count(*) FROM asp_pricing").fetchone()[0] == 1012
        assert ref.con.execute("SELECT count(*) FROM releases WHERE dataset = 'asp_pricing'").fetchone()[0] == 1


def test_two_releases_side_by_side(small_store, tmp_path):
    """A second quarter, DERIVED IN THIS TEST from the real 2025-Q4 file (dates moved to 2026-Q1,
    J0897's price changed): not a CMS release, only a stand-in for the next quarter's file."""
    folder, path = small_store
    nxt = tmp_path / "derived-2026-Q1"
    nxt.mkdir()
    text = (folder / "asp_pricing.csv").read_bytes()
    text = text.replace(b"October 1, 2025 through December 31, 2025", b"January 1, 2026 through March 31, 2026")
    text = text.replace(b"J0897,Denosumab injection,1 MG,29.380", b"J0897,Denosumab injection,1 MG,30.000")
    (nxt / "asp_pricing.csv").write_bytes(text)
    import_dir(nxt, path)
    with RefStore.open(path) as ref:
        assert ref.asp("J0897", on="2025-12-31")["payment_limit"] == Decimal("29.38")
        assert ref.asp("J0897", on="2026-01-01")["payment_limit"] == Decimal("30")
        assert [r["release"] for r in ref.releases() if r["dataset"] == "asp_pricing"] == ["2025-Q4", "2026-Q1"]


def test_hcpcs_release_by_date(tmp_path):
    """The HCPCS fixture (2026-01) next to nothing else: a 2026 DOS uses it, and JG is invalid."""
    path = tmp_path / "refdata.duckdb"
    import_dir(FIXTURES, path)
    with RefStore.open(path) as ref:
        assert ref.hcpcs("J9999", on="2026-02-01")["release"] == "2026-01"
        assert ref.hcpcs("JG", on="2026-02-01")["valid_on"] is False
        assert ref.mue("J0897", "outpatient_hospital", on="2026-08-01")["mue_value"] == 111
        assert ref.mue("J0897", "practitioner", on="2026-06-30") is None
        assert ref.loaded("coverage_icd10") and ref.loaded("place_of_service")


def test_missing_and_outdated_store(tmp_path):
    with pytest.raises(StoreNotBuiltError):
        RefStore.open(tmp_path / "none.duckdb")
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
        con.execute("INSERT INTO meta VALUES ('format_version', '0')")
    with pytest.raises(RefDataError, match="format 0 was built by another reclaim version") as failure:
        RefStore.open(old)
    assert "reclaim data import" in failure.value.hint


def test_unrecognized_files_are_reported(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    with pytest.raises(RefDataError, match="no official reference file recognized"):
        import_dir(tmp_path, tmp_path / "refdata.duckdb")
    assert refstore.recognize(tmp_path / "notes.csv") == "CSV with no recognized header"

"""The X12 Claim Status Category and Claim Status code lists as reference data."""

from __future__ import annotations

import pytest

from reclaim.errors import RefDataError
from reclaim.refdata import claim_status
from reclaim.refdata.store import recognize

from .conftest import STATUS_LISTS


def test_lists_are_recognized_by_name_and_header(refdata_dir):
    categories = STATUS_LISTS / "Claim Status Category Codes(CSCC)_FIXTURE.csv"
    codes = STATUS_LISTS / "Claim Status Codes(CSC)_FIXTURE.csv"
    assert claim_status.kind_of([["Code", "Description"]], categories.name) == "claim_status_categories"
    assert claim_status.kind_of([["Code", "Description"]], codes.name) == "claim_status_codes"
    assert claim_status.kind_of([["Code", "Description"]], "Claim Adjustment Reason Codes(CARC).csv") is None
    [loaded] = recognize(codes)(codes)
    assert (loaded.table, loaded.provenance) == ("claim_status_codes", "handwritten")
    assert loaded.notes.startswith("test fixture")
    # the mirror's CARC list is still a CARC list
    [carc] = recognize(refdata_dir / "x12_carc_rarc/2025-12/Claim Adjustment Reason Codes(CARC).csv")(
        refdata_dir / "x12_carc_rarc/2025-12/Claim Adjustment Reason Codes(CARC).csv")
    assert carc.table == "carc"


def test_store_holds_the_texts(status_store, store):
    assert status_store.claim_status_code("562")["description"] == "Entity's National Provider Identifier (NPI)."
    category = status_store.claim_status_category("a7")
    assert category["description"].startswith("Acknowledgement/Rejected for Invalid Information")
    assert category["start_date"].isoformat() == "2026-01-01"
    assert status_store.claim_status_code("99999") is None
    # the mirror has no release of these lists: `data status` says so
    status = {r["dataset"]: r for r in store.status()}
    assert status["claim_status_codes"]["release"] == "not loaded"
    assert status["claim_status_categories"]["release"] == "not loaded"
    loaded = {r["dataset"]: r for r in status_store.status()}
    assert loaded["claim_status_codes"]["provenance"] == "handwritten"


def test_a_broken_list_names_the_file(tmp_path):
    bad = tmp_path / "Claim Status Codes(CSC).csv"
    bad.write_text("Code,Description\n562\n")
    with pytest.raises(RefDataError, match="Claim Status Codes"):
        recognize(bad)(bad)


def test_data_status_reads_the_lists(status_store):
    """`data status` says what each list is (its codes carry their own dates), without a period."""
    rows = {r["dataset"]: r for r in status_store.currency()}
    assert rows["claim_status_codes"]["covers_today"] is None
    assert "X12 Claim Status Codes" in rows["claim_status_codes"]["message"]

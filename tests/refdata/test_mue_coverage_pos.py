"""MUE, MCD coverage and POS loaders: not in the mirror, tested on fixtures in the official layouts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reclaim.errors import RefDataError
from reclaim.refdata import coverage, mue, pos

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"


def test_mue_three_settings():
    settings = {}
    for path in sorted((FIXTURES / "mue").glob("*.csv")):
        [loaded] = mue.load(path)
        rows = loaded.rows.to_pylist()
        settings[rows[0]["setting"]] = rows
        assert (loaded.release, loaded.effective_from, loaded.effective_to) == (
            "2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30))
        assert loaded.replaces == {"release": "2026-Q3", "setting": rows[0]["setting"]}
    assert sorted(settings) == sorted(mue.SETTINGS)
    j0897 = settings["practitioner"][0]
    assert (j0897["hcpcs"], j0897["mue_value"], j0897["mai"], j0897["mai_text"]) == (
        "J0897", 111, 3, "3 Date of Service Edit: Clinical")


def test_mue_bad_mai(tmp_path):
    source = FIXTURES / "mue/MCR_MUE_PractitionerServices_Eff_07-01-2026_FIXTURE.csv"
    bad = tmp_path / source.name
    bad.write_bytes(source.read_bytes().replace(b"1 Line Edit", b"Line Edit"))
    with pytest.raises(RefDataError, match=r"record 5, column 3: expected an MAI starting with 1, 2 or 3"):
        mue.load(bad)


def test_coverage_files():
    loaded = {p.name: coverage.load(p)[0] for p in (FIXTURES / "coverage").glob("*.csv")}
    icd = loaded["article_x_icd10_covered.csv"]
    assert icd.table == "coverage_icd10" and icd.release == "MCD 2026-07-01"
    assert [(r["article_id"], r["icd10"], r["icd10_group"]) for r in icd.rows.to_pylist()] == [
        ("99990", "M810", "1"), ("99990", "C7951", "2")]
    assert loaded["article.csv"].rows.to_pylist()[0]["effective_date"] == dt.date(2026, 1, 15)
    assert loaded["article_x_hcpc_code.csv"].rows.column("hcpcs").to_pylist() == ["J0897"]


def test_coverage_missing_column(tmp_path):
    bad = tmp_path / "article_x_icd10_covered.csv"
    bad.write_text("article_id,article_version,icd10_code\r\n1,1,M81.0\r\n")
    with pytest.raises(RefDataError, match=r"line 1: header is missing column\(s\) 'icd10_code_id', 'icd10_covered_group'"):
        coverage.load(bad)


def test_place_of_service():
    [loaded] = pos.load(FIXTURES / "pos/place-of-service-2025-10.csv")
    rows = {r["code"]: r["name"] for r in loaded.rows.to_pylist()}
    assert rows["11"] == "Office" and rows["22"] == "On Campus-Outpatient Hospital"
    assert [c for c, n in rows.items() if n == "Unassigned"] == ["27", "28", "29", "30"]
    assert loaded.release == "2025-10"



def test_currency_of_a_release_with_a_start_and_no_end(store, monkeypatch):
    """`data status` must not fail on a dataset whose newest release gives a start date and no
    end (e.g. a list published once): it is in force from its start until a newer one is held."""
    held = store.releases()
    open_ended = {**held[0], "dataset": "opps_addendum_b", "release": "2026-Q2",
                  "effective_from": dt.date(2026, 4, 1), "effective_to": None}
    monkeypatch.setattr(type(store), "releases", lambda self: [*held, open_ended])
    before = {r["dataset"]: r for r in store.currency(dt.date(2026, 3, 1))}["opps_addendum_b"]
    after = {r["dataset"]: r for r in store.currency(dt.date(2026, 5, 1))}["opps_addendum_b"]
    assert before["covers_today"] is False and "starts after today (2026-03-01)" in before["message"]
    assert after["covers_today"] is True and "from 2026-04-01, no end date" in after["message"]

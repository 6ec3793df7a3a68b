"""CARC / RARC lists (multi-line description cells) and the handwritten group codes."""

from __future__ import annotations

import datetime as dt

import pytest

from reclaim.errors import RefDataError
from reclaim.refdata import carc_rarc

FOLDER = "x12_carc_rarc/2025-12"


def test_carc(refdata_dir):
    [loaded] = carc_rarc.load(refdata_dir / FOLDER / "Claim Adjustment Reason Codes(CARC).csv", "carc")
    rows = {r["code"]: r for r in loaded.rows.to_pylist()}
    assert len(rows) == 407 and sum(1 for r in rows.values() if r["stop_date"]) == 109
    assert loaded.release == "2025-11-01"
    assert rows["45"]["description"].startswith("Charge exceeds fee schedule/maximum allowable")
    assert "Start:" not in rows["45"]["description"]
    assert (rows["28"]["stop_date"], rows["28"]["notes"]) == (dt.date(2003, 10, 16), "Redundant to codes 26&27.")
    assert rows["17"]["last_modified"] == dt.date(2008, 9, 21)


def test_rarc(refdata_dir):
    [loaded] = carc_rarc.load(refdata_dir / FOLDER / "Remittance Advice Remark Codes(RARC).csv", "rarc")
    rows = {r["code"]: r for r in loaded.rows.to_pylist()}
    assert len(rows) == 1113 and not any(r["stop_date"] for r in rows.values())
    assert loaded.release == "2025-07-01"
    assert rows["N362"]["description"].startswith("The number of Days or Units of Service exceeds our acceptable maximum")
    assert rows["M4"]["notes"] == "(Modified 4/1/07)"


def test_group_codes_are_labelled_handwritten(refdata_dir):
    [loaded] = carc_rarc.load(refdata_dir / FOLDER / "claim_adjustment_group_codes_HANDWRITTEN.csv", "group_codes")
    assert loaded.provenance == "handwritten"
    assert loaded.rows.column("code").to_pylist() == ["CO", "CR", "OA", "PI", "PR"]


def test_bad_date(refdata_dir, tmp_path):
    text = (refdata_dir / FOLDER / "Claim Adjustment Reason Codes(CARC).csv").read_text(encoding="utf-8")
    bad = tmp_path / "carc.csv"
    bad.write_text(text.replace("Start: 01/01/1995\"", "Start: 1995-01-01\"", 1), encoding="utf-8")
    with pytest.raises(RefDataError, match=r"record 2 \(1\), Start: expected a date as mm/dd/yyyy, found '1995-01-01'"):
        carc_rarc.load(bad, "carc")

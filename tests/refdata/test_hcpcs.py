"""HCPCS loader: the real CMS 2025-10 xlsx, and the fixed-width txt layout (fixture)."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from reclaim.errors import RefDataError
from reclaim.refdata import hcpcs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"


@pytest.fixture(scope="module")
def oct2025(refdata_dir):
    [loaded] = hcpcs.load(refdata_dir / "cms_hcpcs/2025-10/HCPC2025_OCT_ANWEB.xlsx")
    return loaded


def _row(loaded, code):
    rows = [r for r in loaded.rows.to_pylist() if r["code"] == code]
    return rows[0] if rows else None


def test_xlsx_counts_and_release(oct2025):
    kinds = oct2025.rows.column("kind").to_pylist()
    assert (oct2025.rows.num_rows, kinds.count("procedure"), kinds.count("modifier")) == (8846, 8463, 383)
    assert (oct2025.release, oct2025.effective_from) == ("2025-10", dt.date(2025, 10, 1))


def test_xlsx_known_rows(oct2025):
    j0897 = _row(oct2025, "J0897")
    assert j0897["long_description"] == "Injection, denosumab, 1 mg"
    assert (j0897["coverage_code"], j0897["add_date"], j0897["betos"]) == ("C", dt.date(2012, 1, 1), "O1E")
    assert j0897["is_drug"] and (j0897["unit_amount"], j0897["unit_uom"]) == (Decimal("1"), "mg")
    j1327 = _row(oct2025, "J1327")
    assert (j1327["pricing_indicator"], j1327["coverage_code"]) == ("51", "D")
    assert j1327["unit_amount"] == Decimal("5")
    assert _row(oct2025, "J1745")["unit_amount"] == Decimal("10")
    for modifier in ("JW", "JZ", "TB"):
        assert _row(oct2025, modifier)["kind"] == "modifier"
    assert _row(oct2025, "JG")["termination_date"] == dt.date(2024, 12, 31)
    assert _row(oct2025, "JN") is None
    assert _row(oct2025, "Q5157")["add_date"] == dt.date(2025, 10, 1)


def test_is_drug_covers_unclassified_drugs(oct2025):
    # C9027 (pembrolizumab, OPPS pass-through) has pricing indicator 53 but is a drug by its BETOS
    c9027 = _row(oct2025, "C9027")
    assert c9027["pricing_indicator"] == "53" and c9027["betos"] == "O1E" and c9027["is_drug"]
    assert not _row(oct2025, "A4206")["is_drug"]  # a syringe
    assert "unparsable" not in oct2025.notes and "no parsable billing unit" in oct2025.notes


def test_txt_layout_fixture():
    [loaded] = hcpcs.load(FIXTURES / "hcpcs/HCPC2026_JAN_ANWEB_FIXTURE.txt")
    rows = {r["code"]: r for r in loaded.rows.to_pylist()}
    assert sorted(rows) == ["J0897", "J9999", "JG", "JW"]  # the CPT row 99999 is dropped
    assert loaded.release == "2026-01"
    assert rows["J9999"]["long_description"] == (
        "Not otherwise classified, antineoplastic drugs (test fixture: first line, second line, third line)")
    assert rows["JG"]["long_description"].endswith("reported for informational purposes")
    assert rows["JG"]["kind"] == "modifier" and rows["JG"]["termination_date"] == dt.date(2024, 12, 31)
    j0897 = rows["J0897"]
    assert (j0897["pricing_indicators"], j0897["tos"], j0897["mult_pi"]) == (["51"], ["1", "P"], "A")
    assert j0897["unit_amount"] == Decimal("1")


def test_txt_bad_record(tmp_path):
    bad = tmp_path / "HCPC2026_JAN_ANWEB.txt"
    lines = (FIXTURES / "hcpcs/HCPC2026_JAN_ANWEB_FIXTURE.txt").read_bytes().split(b"\r\n")
    lines[2] = lines[2][:10] + b"X" + lines[2][11:]
    bad.write_bytes(b"\r\n".join(lines))
    with pytest.raises(RefDataError, match=r"line 3, column 11: RECID must be 3, 4, 7 or 8"):
        hcpcs.load(bad)


def test_truncated_xlsx(refdata_dir, tmp_path):
    cut = tmp_path / "HCPC2025_OCT_ANWEB.xlsx"
    data = (refdata_dir / "cms_hcpcs/2025-10/HCPC2025_OCT_ANWEB.xlsx").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(RefDataError, match=r"HCPC2025_OCT_ANWEB.xlsx: not a readable xlsx workbook"):
        hcpcs.load(cut)


def test_file_name_must_name_the_release(refdata_dir, tmp_path):
    other = tmp_path / "hcpcs.xlsx"
    shutil.copyfile(refdata_dir / "cms_hcpcs/2025-10/HCPC2025_OCT_ANWEB.xlsx", other)
    with pytest.raises(RefDataError, match="cannot tell the HCPCS release from the file name"):
        hcpcs.load(other)

"""ICD-10-CM: the CMS FY2025 valid-code xlsx (real) and the CDC order-file layout (fixture)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reclaim.errors import RefDataError
from reclaim.refdata import icd10

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"


def test_cms_valid_list(refdata_dir):
    [loaded] = icd10.load_cms_valid_list(refdata_dir / "cms_icd10_valid_list/FY2025/section111validicd10-jan2025_0.xlsx")
    assert loaded.rows.num_rows == 73427
    assert (loaded.release, loaded.effective_from, loaded.effective_to) == ("FY2025", dt.date(2024, 10, 1), dt.date(2025, 9, 30))
    rows = {r["code"]: r for r in loaded.rows.to_pylist()}
    assert rows["M810"]["long_description"] == "Age-related osteoporosis without current pathological fracture"
    assert "C7951" in rows and all(r["billable"] for r in rows.values())
    assert sum(1 for r in rows.values() if r["nf_excl"]) == 4599


def test_cdc_order_file_layout():
    [loaded] = icd10.load_order_file(FIXTURES / "icd10/icd10cm-order-2026.txt")
    assert (loaded.release, loaded.effective_from) == ("FY2026", dt.date(2025, 10, 1))
    rows = {r["code"]: r for r in loaded.rows.to_pylist()}
    assert rows["M81"]["billable"] is False and rows["M810"]["billable"] is True
    assert rows["M810"]["short_description"] == "Age-related osteoporosis w/o current pathological fracture"
    assert rows["C7951"]["long_description"] == "Secondary malignant neoplasm of bone"


def test_order_file_bad_line(tmp_path):
    bad = tmp_path / "icd10cm-order-2026.txt"
    lines = (FIXTURES / "icd10/icd10cm-order-2026.txt").read_text().splitlines()
    bad.write_text("\n".join(lines + ["00004 M810 X broken"]) + "\n")
    with pytest.raises(RefDataError, match=r"icd10cm-order-2026.txt: line 4: expected the CDC order layout"):
        icd10.load_order_file(bad)

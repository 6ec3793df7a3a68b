"""ASP pricing, NDC-HCPCS crosswalk and NOC files: the real CMS 2025-Q4 CSVs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reclaim.errors import RefDataError
from reclaim.refdata import asp


def _load(refdata_dir, name, kind):
    [loaded] = asp.load(refdata_dir / "cms_asp/2025-Q4" / name, kind)
    return loaded


def test_pricing(refdata_dir):
    loaded = _load(refdata_dir, "asp_pricing.csv", "asp_pricing")
    assert loaded.rows.num_rows == 1012
    assert (loaded.release, loaded.effective_from, loaded.effective_to) == (
        "2025-Q4", dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    rows = {r["hcpcs"]: r for r in loaded.rows.to_pylist()}
    assert (rows["J0897"]["payment_limit"], rows["J0897"]["coinsurance_pct"]) == (Decimal("29.380"), Decimal("17.508"))
    assert rows["J0897"]["dosage"] == "1 MG"
    assert rows["J1745"]["payment_limit"] == Decimal("31.090")
    assert "J1327" not in rows
    not_available = [r for r in rows.values() if r["payment_limit"] is None]
    assert not_available, "N/A payment limits become null"


def test_crosswalk(refdata_dir):
    loaded = _load(refdata_dir, "asp_crosswalk.csv", "ndc_crosswalk")
    assert loaded.rows.num_rows == 8245
    rows = [r for r in loaded.rows.to_pylist() if r["ndc11"] == "55513071001"]
    assert [(r["hcpcs"], r["billing_units"], r["drug_name"]) for r in rows] == [("J0897", Decimal(60), "Prolia")]
    xgeva = [r for r in loaded.rows.to_pylist() if r["ndc_hyphenated"] == "55513-0730-01"]
    assert xgeva[0]["billing_units"] == Decimal(120)
    assert set(loaded.rows.column_names) == set(asp.CROSSWALK_SCHEMA.names)


def test_noc_files(refdata_dir):
    pricing = _load(refdata_dir, "noc_pricing.csv", "noc_pricing").rows.to_pylist()
    assert [(r["drug_generic_name"], r["payment_limit"]) for r in pricing] == [("Vasopressin (Long Grove)", Decimal("2.462"))]
    crosswalk = _load(refdata_dir, "noc_crosswalk.csv", "noc_crosswalk").rows.to_pylist()
    assert [r["ndc11"] for r in crosswalk] == ["81298855203", "81298855403"]


def test_header_found_by_scanning_not_by_skip_count(refdata_dir, tmp_path):
    text = (refdata_dir / "cms_asp/2025-Q4/asp_pricing.csv").read_bytes()
    moved = tmp_path / "asp_pricing.csv"
    moved.write_bytes(b",,,,,,,,,,\r\n,,,,,,,,,,\r\n" + text)  # two more preamble lines
    [loaded] = asp.load(moved, "asp_pricing")
    assert loaded.rows.num_rows == 1012


def test_next_years_crosswalk_header(refdata_dir, tmp_path):
    text = (refdata_dir / "cms_asp/2025-Q4/asp_crosswalk.csv").read_bytes().replace(b"_2025_CODE", b"_2026_CODE", 1)
    renamed = tmp_path / "crosswalk.csv"
    renamed.write_bytes(text)
    assert asp.kind_of([r.split(",") for r in text.decode("cp1252").splitlines()[:20]]) == "ndc_crosswalk"
    assert asp.load(renamed, "ndc_crosswalk")[0].rows.num_rows == 8245


def test_missing_header(refdata_dir, tmp_path):
    lines = (refdata_dir / "cms_asp/2025-Q4/asp_pricing.csv").read_bytes().split(b"\r\n")
    broken = tmp_path / "asp_pricing.csv"
    broken.write_bytes(b"\r\n".join(lines[:8] + lines[9:]))
    with pytest.raises(RefDataError, match=r"asp_pricing.csv: no header row found in the first 40 lines: expected a first cell 'HCPCS Code'"):
        asp.load(broken, "asp_pricing")


def test_wrong_layout(refdata_dir, tmp_path):
    lines = (refdata_dir / "cms_asp/2025-Q4/asp_pricing.csv").read_bytes().split(b"\r\n")
    lines[8] = lines[8].replace(b"Payment Limit", b"Allowed Amount")
    broken = tmp_path / "asp_pricing.csv"
    broken.write_bytes(b"\r\n".join(lines))
    with pytest.raises(RefDataError, match=r"line 9: header is missing column\(s\) 'Payment Limit'"):
        asp.load(broken, "asp_pricing")


def test_bad_number_names_line_and_column(refdata_dir, tmp_path):
    lines = (refdata_dir / "cms_asp/2025-Q4/asp_pricing.csv").read_bytes().split(b"\r\n")
    lines[9] = lines[9].replace(b"134.194", b"12x.5")
    broken = tmp_path / "asp_pricing.csv"
    broken.write_bytes(b"\r\n".join(lines))
    with pytest.raises(RefDataError, match=r"line 10, column 4 \(Payment Limit\): expected a number or N/A, found '12x.5'"):
        asp.load(broken, "asp_pricing")


def test_missing_effective_period(refdata_dir, tmp_path):
    lines = (refdata_dir / "cms_asp/2025-Q4/asp_pricing.csv").read_bytes().split(b"\r\n")
    lines[2] = b",,,,,,,,,,"
    broken = tmp_path / "asp_pricing.csv"
    broken.write_bytes(b"\r\n".join(lines))
    with pytest.raises(RefDataError, match="expected the effective period in the preamble"):
        asp.load(broken, "asp_pricing")

"""read_claims / read_remits / read_any: sniffing, dispatch, many files, progress, and files
that cannot be read (each one an issue; the others still load)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reclaim.claims.io import read_any, read_claims, read_remits, sniff_format, summarize
from reclaim.errors import InputFormatError

REPO = Path(__file__).resolve().parents[2]
FHIR = REPO / "tests" / "fixtures" / "fhir"
TEMPLATE = REPO / "examples" / "claims-template.csv"


def test_sniff_by_content_not_extension(x12_samples, tmp_path):
    assert sniff_format(x12_samples / "x12__demo.drug.example10.1.837") == "x12"
    assert sniff_format(x12_samples / "edi-835-parser__blue_cross_nc_sample.txt") == "x12"  # bare ST, no ISA
    assert sniff_format(FHIR / "claims-bundle.json") == "fhir"
    assert sniff_format(FHIR / "claims.ndjson") == "ndjson"
    assert sniff_format(TEMPLATE) == "csv"
    misnamed = tmp_path / "claims.txt"
    shutil.copy(FHIR / "claims-bundle.json", misnamed)
    assert sniff_format(misnamed) == "fhir"
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["patient_control_number"])
    wb.save(tmp_path / "export.csv")  # an xlsx saved under a .csv name
    assert sniff_format(tmp_path / "export.csv") == "xlsx"
    (tmp_path / "empty.csv").write_bytes(b"")
    assert sniff_format(tmp_path / "empty.csv") is None


def test_read_claims_from_every_format_at_once(x12_samples):
    calls = []
    batch = read_claims(
        [x12_samples / "x12__demo.drug.example10.2.837", x12_samples / "x12__institutional-claim.837i",
         TEMPLATE, FHIR / "claims-bundle.json"],
        progress=lambda done, total, path: calls.append((done, total, Path(path).name)))
    assert [c[:2] for c in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    formats = sorted(batch["files"]["format"].to_pylist())
    assert formats == ["csv", "fhir", "x12", "x12"]
    pcns = batch["claims"]["patient_control_number"].to_pylist()
    assert len(pcns) == 1 + 1 + 2 + 2
    assert len(set(batch["claims"]["claim_id"].to_pylist())) == len(pcns)  # ids unique across files
    assert set(batch["lines"]["claim_id"].to_pylist()) <= set(batch["claims"]["claim_id"].to_pylist())


def test_folders_and_unreadable_files_keep_going(x12_samples, tmp_path):
    (tmp_path / "notes.txt").write_text("not a claim file at all\n")
    (tmp_path / "empty.dat").write_bytes(b"")
    shutil.copy(x12_samples / "x12__demo.drug.example10.3.837", tmp_path / "good.837")
    shutil.copy(x12_samples / "x12__managed-care.835", tmp_path / "remit.835")
    batch = read_claims([tmp_path, tmp_path / "missing.837"])
    assert batch["claims"].num_rows == 1
    by_path = {Path(i["path"]).name: i for i in batch["read_issues"].to_pylist() if i["skipped"] == "file"}
    assert by_path["empty.dat"]["code"] == "IO-UNKNOWN-FORMAT"
    assert by_path["missing.837"]["code"] == "IO-NOT-FOUND"
    assert by_path["remit.835"]["code"] == "IO-WRONG-KIND"
    assert by_path["notes.txt"]["code"] == "CSV-NOT-CLAIMS"


def test_read_remits(x12_samples):
    batch = read_remits([x12_samples / "x12__managed-care.835", FHIR / "eob.ndjson", TEMPLATE])
    assert batch["remit_claims"].num_rows == 2 + 2
    [wrong] = [i for i in batch["read_issues"].to_pylist() if i["skipped"] == "file"]
    assert wrong["code"] == "IO-WRONG-KIND" and wrong["path"].endswith("claims-template.csv")


def test_read_any_routes_each_file(x12_samples):
    claims, remits = read_any([x12_samples / "x12__managed-care.835", FHIR / "eob-bundle.json",
                               FHIR / "claims.ndjson", TEMPLATE])
    assert claims["claims"].num_rows == 4 and remits["remit_claims"].num_rows == 4
    s = summarize(claims, remits)
    assert s["files"] == 4 and s["claims"] == 4 and s["remit_claims"] == 4
    assert s["files_by_format"] == {"x12": 1, "fhir": 2, "csv": 1}
    assert s["skipped"] == []


def test_no_input():
    with pytest.raises(InputFormatError):
        read_claims([])

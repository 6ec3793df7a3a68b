"""Hospital outpatient (837I) drug lines follow the OPPS status indicator of CMS OPPS Addendum B
(tests/fixtures/refdata/opps: a 2025-Q4 FIXTURE; J7050 SI N, J0897 SI K, 96365 SI S).

Over real files: the shared 837I samples and an 837I of an outpatient department with a packaged
saline line (tests/fixtures/x12/hospital-outpatient-packaged.837i) give no JW/JZ, NDC or 340B
error on a packaged line; with no Addendum B for the date, the run says the SI was not known."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reclaim.edits import check_files

OPD = Path(__file__).resolve().parents[1] / "fixtures" / "x12" / "hospital-outpatient-packaged.837i"
SI_EDITS = ["RC301", "RC305", "RC401", "RC801", "RC802"]
CHECK_DATE = dt.date(2025, 12, 15)


def _institutional_samples(x12_samples: Path) -> list[Path]:
    found = sorted(p for p in x12_samples.iterdir()
                   if "837I" in p.name or p.suffix.lower() == ".837i"
                   or p.name in ("X12.NET__InstitutionalClaim.txt", "x12-parser__x223-test.txt"))
    assert len(found) == 7, [p.name for p in found]
    return found


def test_packaged_line_has_no_modifier_or_ndc_error(stores_with):
    # RC602 too: 837I lines (SV2) carry no diagnosis pointer, the claim's diagnosis applies
    found = check_files([OPD], store=stores_with(("opps",)), select=[*SI_EDITS, "RC602"], date_of_check=CHECK_DATE)
    rows = found.table.to_pylist()
    # J7050 (line 2) is packaged: only RC802's information; J0897 JZ with its NDC is clean
    assert [(r["line_number"], r["code"], r["severity"]) for r in rows] == [(2, "RC802", "info")]
    assert rows[0]["message"] == ("J7050 on 2025-11-04 is packaged under OPPS (status indicator N, Addendum B 2025-Q4): "
                                  "Medicare makes no separate payment for its $40.00 charge")
    assert not [n for n in found.notes if n.startswith("OPPS status indicator not known")]


def test_si_not_known_keeps_todays_findings_and_says_so(store):
    """The mirror holds no Addendum B: J7050 is judged by its ASP row as before, and said once."""
    found = check_files([OPD], store=store, select=SI_EDITS, date_of_check=CHECK_DATE)
    assert sorted((r["line_number"], r["code"]) for r in found.table.to_pylist()) == [(2, "RC301"), (2, "RC401")]
    [note] = [n for n in found.notes if n.startswith("OPPS status indicator not known")]
    assert note == ("OPPS status indicator not known for 2 institutional drug line(s) on 2025-11-04 (no CMS OPPS "
                    "Addendum B is loaded for those dates or codes): RC301, RC305, RC401, RC801 judged them as "
                    "separately payable — pull the Addendum B of those quarters (reclaim data pull --dataset opps)")


def test_shared_institutional_samples(stores_with, store, x12_samples):
    """The shared 837I samples (1996-2005 dates, lab and ECG lines, no drug line): no SI edit finds
    anything with or without Addendum B, and no note claims an unknown SI (they bill no drug)."""
    samples = _institutional_samples(x12_samples)
    for ref in (stores_with(("opps",)), store):
        found = check_files(samples, store=ref, select=SI_EDITS, date_of_check=CHECK_DATE)
        assert found.lines == 15 and found.table.num_rows == 0
        assert not [n for n in found.notes if n.startswith("OPPS status indicator not known")]

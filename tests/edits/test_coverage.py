"""RC604 on the Medicare Coverage Database export layout (tests/fixtures/refdata/coverage: one
test article A99990 for J0897, its MAC serving TX, and OK until 2024-12-31) and the run note
when no coverage data applies."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from reclaim.edits import check
from reclaim.edits.cases import build_batch
from reclaim.refdata.store import RefStore, import_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refdata"
DOS = dt.date(2026, 2, 2)  # the HCPCS fixture is the 2026-01 release; the article is in force from 2026-01-15


@pytest.fixture(scope="module")
def mcd_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mcd")
    for part in ("hcpcs", "coverage"):
        shutil.copytree(FIXTURES / part, folder / part)
    path = folder / "refdata.duckdb"
    import_dir(folder, path)
    with RefStore.open(path) as store:
        yield store


def _run(store, diagnoses, state, *, filing="MB", dos=DOS, pointers=None):
    line = {"procedure_code": "J0897", "modifiers": ["JZ"], "units": 60, "charge": 1900, **(pointers or {})}
    batch = build_batch([{"claim_filing_indicator": filing, "service_date": dos, "diagnoses": diagnoses,
                          "lines": [line]}], "cov")
    return check(batch, store=store, select=["RC604"], date_of_check=dt.date(2026, 3, 1), billing_state=state)


def test_uncovered_diagnosis_names_the_article(mcd_store):
    found = _run(mcd_store, ["Z0000"], "TX")
    [row] = found.table.to_pylist()
    assert row["message"] == ('J0897 on 2026-02-02: none of its diagnoses (Z00.00) is covered for it by MCD article '
                              'A99990 "TEST FIXTURE Billing and Coding: Denosumab"')
    assert row["severity"] == "error" and row["fix"].startswith("no mechanical fix: check the diagnosis against")
    assert not [n for n in found.notes if n.startswith("diagnosis coverage not checked")]


def test_covered_diagnoses_pass(mcd_store):
    assert _run(mcd_store, ["M810"], "TX").table.num_rows == 0
    # the covered code is the second diagnosis, pointed to by SV107-2
    assert _run(mcd_store, ["Z0000", "C7951"], "tx", pointers={"dx_pointer_2": 2}).table.num_rows == 0
    # not pointed to: the line is still uncovered
    assert _run(mcd_store, ["Z0000", "C7951"], "TX").table.num_rows == 1


def test_jurisdiction_decides(mcd_store):
    # OK left the MAC on 2024-12-31; CA is another MAC's: the article does not apply
    for state in ("OK", "CA"):
        found = _run(mcd_store, ["Z0000"], state)
        assert found.table.num_rows == 0
        [note] = [n for n in found.notes if n.startswith("diagnosis coverage not checked")]
        assert note == (f"diagnosis coverage not checked: no coverage data for J0897 (1 drug line(s)): no MCD article "
                        f"of the MAC serving {state} in force on their dates lists them, and no payer policy lists "
                        "covered diagnoses for them")
    # no state set: said, not guessed
    [note] = [n for n in _run(mcd_store, ["Z0000"], None).notes if n.startswith("diagnosis coverage not checked")]
    assert "set billing_state" in note


def test_article_dates_and_payer(mcd_store):
    assert _run(mcd_store, ["Z0000"], "TX", dos=dt.date(2026, 1, 14)).table.num_rows == 0  # before the article
    assert _run(mcd_store, ["Z0000"], "TX", filing="CI").table.num_rows == 0  # a commercial claim: MCD does not apply


def test_no_coverage_data_said_once(store):
    """The shared mirror holds no MCD export: every run says so once, naming the codes."""
    batch = build_batch([{"service_date": dt.date(2025, 11, 4), "diagnoses": ["M810"],
                          "lines": [{"procedure_code": "J0897", "modifiers": ["JZ"], "units": 60, "charge": 1900},
                                    {"procedure_code": "J9271", "units": 200, "charge": 13000}]},
                         {"service_date": dt.date(2025, 11, 5), "diagnoses": ["M810"],
                          "lines": [{"procedure_code": "J0897", "modifiers": ["JZ"], "units": 60, "charge": 1900}]}],
                        "nocov")
    found = check(batch, store=store, date_of_check=dt.date(2025, 12, 15))
    notes = [n for n in found.notes if n.startswith("diagnosis coverage not checked")]
    assert notes == ["diagnosis coverage not checked: no coverage data for J0897, J9271 (3 drug line(s)): no Medicare "
                     "Coverage Database export is loaded (reclaim data pull --dataset coverage) and no payer policy "
                     "lists covered diagnoses for them (policy YAML coverage:)"]

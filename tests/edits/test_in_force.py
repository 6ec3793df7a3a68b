"""`check` says once per run what it could not check because no release held covers a date
(prices, MUEs, ICD-10-CM), and which list decided a diagnosis; over the real samples, no
diagnosis finding on a valid billable code."""

from __future__ import annotations

import datetime as dt

import pytest

from reclaim.edits import check, check_files
from reclaim.edits.cases import Case, case_batches

CHECK_DATE = dt.date(2026, 12, 4)


def _run(store, claims, select=None):
    claims = [{**c, "service_date": dt.date.fromisoformat(c["service_date"])} for c in claims]
    batch, history = case_batches(Case(edit="RC801", id="in-force", description="", claims=claims, expect=[]))
    return check(batch, store=store, history=history, select=select, date_of_check=CHECK_DATE)


def _line(**extra):
    return {"procedure_code": "J0897", "modifiers": ["JZ"], "units": 60, "charge": 1500, **extra}


def test_no_asp_quarter_in_force_is_said_once(store):
    found = _run(store, [{"service_date": "2026-01-05", "diagnoses": ["M810"], "lines": [_line()]},
                         {"service_date": "2026-02-10", "diagnoses": ["M810"], "lines": [_line()]}])
    assert not [r for r in found.table.to_pylist() if r["code"] == "RC801"]
    asp = [n for n in found.notes if n.startswith("no ASP pricing quarter in force")]
    assert asp == ["no ASP pricing quarter in force on 2026-01-05 to 2026-02-10 (2 line(s)): the newest held is "
                   "2025-Q4 (2025-10-01 to 2025-12-31); RC801 and the expected payments skipped them — pull the "
                   "release of those dates (reclaim data pull --dataset asp)"]
    hcpcs = [n for n in found.notes if n.startswith("HCPCS 2025-10 is the newest held")]
    assert len(hcpcs) == 1 and "its codes' own dates were used" in hcpcs[0]


def test_price_in_force_still_compared(store):
    found = _run(store, [{"service_date": "2025-11-03", "diagnoses": ["M810"], "lines": [_line()]}], select=["RC801"])
    assert [r["message"] for r in found.table.to_pylist()] == [
        "charge $1500.00 for 60 units of J0897 is below the Medicare payment limit $1762.80 ($29.380 per unit, "
        "ASP 2025-Q4)"]
    assert not [n for n in found.notes if "ASP pricing quarter" in n]


def test_mue_outside_its_quarter(store):
    """J0897 x 130 is over the 2026-Q2 MUE (120): found on 2026-05-04, not on 2026-07-01 (no table)."""
    inside = _run(store, [{"service_date": "2026-05-04", "diagnoses": ["M810"], "lines": [_line(units=130)]}],
                  select=["RC204"])
    assert [r["code"] for r in inside.table.to_pylist()] == ["RC204"]
    assert "120" in inside.table.to_pylist()[0]["message"]
    outside = _run(store, [{"service_date": "2026-07-01", "diagnoses": ["M810"], "lines": [_line(units=130)]}],
                   select=["RC204"])
    assert outside.table.num_rows == 0
    [note] = [n for n in outside.notes if n.startswith("no MUE table in force")]
    assert note.startswith("no MUE table in force on 2026-07-01 (1 line(s)): the newest held is 2026-Q2 "
                           "(2026-04-01 to 2026-06-30); no MUE was applied")


def test_icd10_dates_no_list_covers(store):
    found = _run(store, [{"service_date": "2025-11-03", "diagnoses": ["M8100"], "lines": [_line()]}],
                 select=["RC601", "RC603"])
    assert found.table.num_rows == 0  # FY2026 (October 2025 release) not held: nothing checked ...
    [note] = [n for n in found.notes if "ICD-10-CM" in n]  # ... and said once
    assert note == ("no ICD-10-CM release in force on 2025-11-03 (1 claim(s)): the newest held is FY2026-04 "
                    "(2026-04-01 to 2026-09-30); their diagnoses were not checked (RC601, RC603) — pull the CDC "
                    "release of those dates (reclaim data pull --dataset icd10)")
    cms = _run(store, [{"service_date": "2025-09-30", "diagnoses": ["Z5111"], "lines": [_line()]}], select=["RC601"])
    assert cms.table.num_rows == 0
    assert any(n.startswith("ICD-10-CM on 2025-09-30 (1 claim(s)): only the CMS Section 111 list FY2025 is held")
               for n in cms.notes)


@pytest.mark.parametrize(("day", "code", "finding"), [
    ("2026-03-31", "E11A", None),       # no list in force: not checked (said in a note)
    ("2026-04-01", "E11A", None),       # valid from the CDC FY2026 list
    ("2026-04-01", "E11", "RC603"),     # a category header
    ("2026-04-01", "E11Z", "RC601"),    # not a code
    ("2025-09-30", "E11", "RC603"),     # the CMS list's stem
    ("2025-10-01", "E11", None),        # FY2026 October release not held
])
def test_fiscal_year_boundaries_in_check(store, day, code, finding):
    found = _run(store, [{"service_date": day, "diagnoses": [code], "lines": [_line()]}], select=["RC601", "RC603"])
    assert [r["code"] for r in found.table.to_pylist()] == ([finding] if finding else [])


def test_real_samples_no_diagnosis_finding(store, x12_samples):
    """The real 837s (ICD-9 qualifiers BK/BF, dates 1996-2017): no diagnosis finding at all,
    and the dates no MUE or price covers are said once each."""
    paths = sorted(p for p in x12_samples.iterdir() if p.name != "LIST.csv" and p.name != "README.md")
    found = check_files(paths, store=store, date_of_check=CHECK_DATE)
    assert found.claims > 20
    assert not [r for r in found.table.to_pylist() if r["category"] == "diagnosis" and r["code"] != "RC602"]
    assert sum(n.startswith("no MUE table in force") for n in found.notes) == 1
    assert sum(n.startswith("no ASP pricing quarter in force") for n in found.notes) == 1


def test_mue_in_force_with_history_in_memory(store):
    """RC204 sums the day's units over the batch and the history; with the history as in-memory
    Arrow tables and an MUE in force, DuckDB must not push a join's bloom filter into the Arrow
    scan (it cannot: 'Pushdown Filter Type BLOOM_FILTER is not currently supported')."""
    claims = [{"service_date": dt.date(2026, 5, 4), "diagnoses": ["M810"], "lines": [_line(units=70)]}]
    history = [{"service_date": dt.date(2026, 5, 4), "diagnoses": ["M810"], "lines": [_line(units=60)]}]
    batch, hist = case_batches(Case(edit="RC204", id="hist", description="", claims=claims, expect=[], history=history))
    found = check(batch, store=store, history=hist, select=["RC204"], date_of_check=CHECK_DATE)
    [row] = found.table.to_pylist()
    assert "130 units of J0897" in row["message"] and "120" in row["message"]

"""Every YAML case of every edit (edits/cases/RC*.yaml): the claim gives exactly the expected
findings of its edit; where a fixed claim is given, --fix produces it and the edit then passes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reclaim.edits import catalog, check
from reclaim.edits.cases import all_cases, case_batches
from reclaim.edits.fix import apply_fixes

CASES = all_cases()
CHECK_DATE = dt.date(2025, 12, 15)


def _run(case, store, batch, history):
    return check(batch, store=store, policies=case.policies or None, history=history, select=[case.edit], date_of_check=CHECK_DATE)


def _compare(expected: dict, row: dict) -> dict:
    """The fields of ``row`` the case pins down (every key it gives), as comparable text."""
    def norm(v):
        return None if v is None else str(v)
    return {k: norm(row[k]) for k in expected}, {k: norm(v) for k, v in expected.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_case(case, store, stores_with):
    store = stores_with(tuple(case.refdata)) if case.refdata else store
    batch, history = case_batches(case)
    found = _run(case, store, batch, history).table.to_pylist()
    assert all(r["code"] == case.edit for r in found)
    assert len(found) == len(case.expect), f"expected {len(case.expect)} finding(s), got: {[r['message'] for r in found]}"
    for expected, row in zip(sorted(case.expect, key=lambda e: (e.get("line_number") or 0, e["message"])), found):
        got, want = _compare(expected, row)
        assert got == want
    if case.fixed is not None:
        fixed, changes = apply_fixes(batch, _run(case, store, batch, history).table)
        assert changes.num_rows > 0
        lines = {r["line_number"]: r for r in fixed["lines"].to_pylist()}
        for spec in case.fixed:
            line = lines[spec["line_number"]]
            for key, value in spec.items():
                got = line[key]
                if isinstance(got, Decimal):
                    assert got == Decimal(str(value)), key
                else:
                    assert got == value, key
        assert _run(case, store, fixed, history).table.num_rows == 0, "the fixed claim still fails the edit"


def test_every_edit_has_cases_that_fail_and_pass():
    by_edit: dict[str, list] = {}
    for c in CASES:
        by_edit.setdefault(c.edit, []).append(c)
    for code, item in catalog().items():
        cases = by_edit.get(code, [])
        assert any(not c.expect for c in cases), f"{code}: no passing case in {item.cases_path.name}"
        assert any(c.expect for c in cases), f"{code}: no failing case in {item.cases_path.name}"
        if item.fix_action:
            assert any(c.fixed for c in cases), f"{code}: has a machine fix but no case shows the fixed claim"

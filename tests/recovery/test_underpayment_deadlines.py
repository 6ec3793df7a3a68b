"""Underpayment arithmetic (hand-checked against the ASP file), deadlines, priority, root cause."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pyarrow.compute as pc

from reclaim.recovery import recover, terms

from .conftest import AS_OF, POLICIES, TERMS, by_claim, expected_uncaught

CENT = Decimal("0.01")


def _asp(store, code, dos):
    row = store.asp(code, dos)
    assert row and row["covers_dos"], f"no ASP row for {code} on {dos}"
    return Decimal(row["payment_limit"]), Decimal(row["coinsurance_pct"])


def _under(result, clm01):
    rows = [u for u in result.underpayments.to_pylist()
            if u["remit_claim_id"] in {i["remit_claim_id"] for i in result.items.to_pylist()
                                       if i["patient_control_number"] == clm01}]
    assert len(rows) == 1
    return rows[0]


def test_medicare_underpayment_hand_checked(result, store):
    # RC1003: infliximab J1745 x 50 units on 2025-10-20, allowed 1400.00, paid 1097.60
    limit, coins = _asp(store, "J1745", dt.date(2025, 10, 20))
    expected_allowed = (limit * 50).quantize(CENT, ROUND_HALF_UP)
    expected_paid = (expected_allowed * (1 - coins / 100) * Decimal("0.98")).quantize(CENT, ROUND_HALF_UP)
    u = _under(result, "RC1003")
    assert u["expected_allowed"] == expected_allowed          # 31.090 x 50 = 1554.50
    assert u["expected_paid"] == expected_paid                # x 80% (ASP file coinsurance 20.000) x 98%
    assert u["shortfall"] == expected_paid - Decimal("1097.60")
    item = by_claim(result, "RC1003", "underpayment")[0]
    assert item["amount"] == u["shortfall"] and item["action"] == "dispute_underpayment"
    assert "coinsurance 20.000% from ASP 2025-Q4" in item["explanation"]


def test_medicare_paid_at_the_rate_is_not_underpaid(result, store):
    # RC1001: denosumab, official coinsurance 17.508% (inflation-adjusted, not 20%)
    limit, coins = _asp(store, "J0897", dt.date(2025, 10, 15))
    assert coins != 20
    u = _under(result, "RC1001")
    assert u["expected_paid"] == (limit * 60 * (1 - coins / 100) * Decimal("0.98")).quantize(CENT, ROUND_HALF_UP)
    assert u["shortfall"] == 0
    assert by_claim(result, "RC1001", "underpayment") == []


def test_commercial_contract_underpayment(result, store):
    # RC2002: Acme contract 110% of the ASP payment limit, 60 units; copay 50 on the remit
    limit, _ = _asp(store, "J0897", dt.date(2025, 11, 4))
    expected = (limit * 60 * Decimal("1.10")).quantize(CENT, ROUND_HALF_UP) - 50
    assert by_claim(result, "RC2002", "underpayment")[0]["amount"] == expected - Decimal("1650.00")


def test_threshold_hides_small_shortfalls(remits, claims, store):
    r = recover(remits, claims, store=store, terms=terms.load(TERMS), as_of=AS_OF, threshold=200, run_edits=False)
    kinds = {(i["patient_control_number"], i["kind"]) for i in r.items.to_pylist()}
    assert ("RC2002", "underpayment") in kinds and ("RC1003", "underpayment") not in kinds


def test_medicare_deadlines(result):
    remit_date = dt.date(2025, 12, 5)
    reopening = by_claim(result, "RC1002", "denial")[0]
    assert reopening["action"] == "reopening"
    assert reopening["deadline"] == remit_date + dt.timedelta(days=365)       # 1 year [NOR-REOPEN]
    redetermination = by_claim(result, "RC1005", "denial")[0]
    assert redetermination["action"] == "redetermination"
    assert redetermination["deadline"] == remit_date + dt.timedelta(days=120)  # 120 days [NGS-APPEALS]
    corrected = by_claim(result, "RC1004", "denial")[0]
    assert corrected["action"] == "corrected_claim"
    assert corrected["deadline"] == dt.date(2026, 10, 21)                      # DOS 2025-10-21 + 12 months
    assert "NGS-APPEALS" in redetermination["deadline_rule"]


def test_commercial_deadlines_come_from_the_terms(result):
    appeal = by_claim(result, "RC2001", "denial")[0]
    assert appeal["action"] == "appeal" and appeal["deadline"] == dt.date(2025, 12, 10) + dt.timedelta(days=180)


def test_passed_deadlines_zero_the_priority(remits, claims, store):
    late = recover(remits, claims, store=store, terms=terms.load(TERMS), as_of=dt.date(2026, 5, 1), run_edits=False)
    item = by_claim(late, "RC1005", "denial")[0]
    assert item["deadline_passed"] and item["priority"] == 0
    soon = recover(remits, claims, store=store, terms=terms.load(TERMS), as_of=dt.date(2026, 3, 20), run_edits=False)
    early = by_claim(soon, "RC1005", "denial")[0]
    # 15 days left: urgency 1 + 75/90
    assert early["days_left"] == 15
    assert abs(early["priority"] - float(early["amount"]) * early["odds"] * (1 + 75 / 90)) < 0.01


def test_ranking_is_dollars_times_odds(result):
    rows = result.items.to_pylist()
    assert [r["priority"] for r in rows] == sorted((r["priority"] for r in rows), reverse=True)
    top = rows[0]
    assert top["patient_control_number"] == "RC1004"  # 14,000 denied for a missing NDC, odds 0.8
    assert top["priority"] == float(top["amount"]) * top["odds"]


def test_root_cause_names_the_edit_that_prevents_the_carc(result):
    findings = result.findings
    category = dict(zip(findings["code"].to_pylist(), findings["category"].to_pylist()))
    co4 = by_claim(result, "RC1002", "denial")[0]
    assert co4["root_cause_edit"] and category[co4["root_cause_edit"]] == "modifiers" and co4["preventable"]
    ndc = by_claim(result, "RC1004", "denial")[0]
    assert category[ndc["root_cause_edit"]] == "ndc"
    noc = by_claim(result, "RC2003", "denial")[0]
    assert category[noc["root_cause_edit"]] in ("noc", "code")
    medical = by_claim(result, "RC1005", "denial")[0]
    assert medical["root_cause_edit"] is None and medical["root_cause"] == expected_uncaught("50")


def test_reversal_recoupment_plb_and_write_off(result):
    # RC1007 was reversed (1425.09) and re-paid 712.55 with a CO-151 units cut: the dispute is the
    # partial denial of the re-adjudication, not a second (recoupment) item for the same dollars
    assert by_claim(result, "RC1007", "recoupment") == []
    assert [i["reason"] for i in by_claim(result, "RC1007", "partial_denial")] == ["CO-151"]
    plb = [i for i in result.items.to_pylist() if i["reason"] == "PLB-WO"]
    assert len(plb) == 1 and plb[0]["amount"] == Decimal("150.00")
    # CO-29 (timely filing) has no recovery path: a write-off, not a worklist item
    assert by_claim(result, "RC1008") == []
    assert [(w["patient_control_number"], w["reasons"]) for w in result.write_offs.to_pylist()] == [("RC1008", "CO-29")]


def test_official_texts_and_no_patient_data_in_items(result, claims):
    co4 = by_claim(result, "RC1002", "denial")[0]
    assert co4["official_text"].startswith("The procedure code is inconsistent with the modifier")
    names = {c["patient_last_name"] for c in claims["claims"].to_pylist()} | \
            {c["patient_id"] for c in claims["claims"].to_pylist()}
    for row in result.items.to_pylist():
        assert not any(str(v) in names for v in row.values() if v is not None)

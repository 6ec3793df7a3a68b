"""Every dollar of an 835 lands in exactly one category, and the sums are the 835's totals."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pyarrow.compute as pc
import pytest

from reclaim.claims.x12 import read_835
from reclaim.recovery import recover

REAL_835 = [
    "x12__managed-care.835", "x12__medicare-part-a.835", "x12__secondary-payment.835",
    "x12__tertiary-payment.835", "x12__cob-contractural-adjustment.835",
    "edi-835-parser__emedny_sample.txt", "edi-835-parser__united_healthcare_legacy_sample.txt",
    "pyx12__835_mult_loops.txt",
]


def _check_balance(remits, result):
    con = duckdb.connect()
    con.register("dollars", result.dollars)
    con.register("remit_claims", remits["remit_claims"])
    con.register("adjustments", remits["adjustments"])
    con.register("payments", remits["payments"])
    con.register("plb", result.provider_dollars)
    # each CAS amount exactly once
    assert result.dollars.filter(pc.equal(result.dollars["source"], "CAS")).num_rows == remits["adjustments"].num_rows
    # per claim: the categories add up to CLP03
    bad = con.execute("""
        select rc.remit_claim_id, rc.total_charge, sum(d.amount) from remit_claims rc
        left join dollars d using (remit_claim_id) group by all
        having rc.total_charge is distinct from sum(d.amount)""").fetchall()
    assert bad == []
    # paid (and reversed paid) = CLP04
    paid, clp04 = con.execute("""
        select (select sum(amount) from dollars where source in ('SVC03', 'CLP04')),
               (select sum(paid) from remit_claims)""").fetchone()
    assert paid == clp04
    # every category is known and PLB sits apart
    cats = {r[0] for r in con.execute("select distinct category from dollars").fetchall()}
    assert cats <= {"paid", "contractual", "patient_responsibility", "sequestration", "prior_payer", "denial",
                    "partial_denial", "reversal", "unmapped", "unbalanced"}
    return con


def test_demo_remittances_balance_to_the_payment(remits, result):
    con = _check_balance(remits, result)
    # transaction: sum(CLP04) - sum(PLB) = BPR02, per transaction
    rows = con.execute("""
        select p.transaction_id, p.payment_amount,
               (select coalesce(sum(rc.paid), 0) from remit_claims rc where rc.transaction_id = p.transaction_id)
             - (select coalesce(sum(x.amount), 0) from plb x where x.transaction_id = p.transaction_id)
        from payments p""").fetchall()
    assert rows and all(bpr == computed for _, bpr, computed in rows)
    assert {r["category"] for r in result.summary["by_category"].to_pylist()} >= {
        "paid", "contractual", "patient_responsibility", "sequestration", "denial", "partial_denial",
        "reversal", "provider_level"}
    # the summary's categories add up to the charges (plus provider-level)
    total = sum(r["amount"] for r in result.summary["by_category"].to_pylist() if r["category"] != "provider_level")
    assert total == sum(remits["remit_claims"]["total_charge"].to_pylist())


@pytest.mark.parametrize("name", REAL_835)
def test_real_835_samples_balance(x12_samples, store, name):
    remits = read_835(x12_samples / name)
    assert remits["remit_claims"].num_rows > 0
    result = recover(remits, None, store=store, run_edits=False)
    _check_balance(remits, result)
    # nothing matched without claims, and the report says so for every remit claim
    assert result.unmatched.filter(pc.equal(result.unmatched["level"], "claim")).num_rows == remits["remit_claims"].num_rows


def test_categories_of_the_demo(result):
    def cat(clm01, carc):
        ids = {i["remit_claim_id"] for i in result.items.to_pylist() if i["patient_control_number"] == clm01}
        rows = [d for d in result.dollars.to_pylist() if d["reason_code"] == carc and
                (d["remit_claim_id"] in ids or not ids)]
        return {d["category"] for d in rows}

    assert cat("RC1001", "45") == {"contractual"}
    assert cat("RC1001", "253") == {"sequestration"}
    assert cat("RC1001", "2") == {"patient_responsibility"}
    assert cat("RC1002", "4") == {"denial"}
    assert cat("RC1007", "151") == {"partial_denial"}
    reversal = [d for d in result.dollars.to_pylist() if d["category"] == "reversal"]
    assert sum(d["amount"] for d in reversal) == Decimal("-2100.00")


def test_summary_by_payer_code_and_edit(result):
    items = result.items.to_pylist()
    preventable = {}
    for i in items:
        if i["preventable"]:
            preventable[i["payer_name"]] = preventable.get(i["payer_name"], 0) + i["amount"]
    by_payer = {r["payer"]: r for r in result.summary["by_payer"].to_pylist()}
    assert set(by_payer) == {"MEDICARE PART B", "ACME HEALTH PLAN"}
    for payer, amount in preventable.items():
        assert by_payer[payer]["preventable"] == amount
    assert by_payer["ACME HEALTH PLAN"]["underpaid"] > 0
    edits = {r["edit"]: r["denied"] for r in result.summary["by_edit"].to_pylist()}
    denied_items = sum(i["amount"] for i in items if i["kind"] in ("denial", "partial_denial"))
    written_off = sum(w["amount"] for w in result.write_offs.to_pylist())  # CO-29: preventable by RC704
    assert sum(edits.values()) == denied_items + written_off
    codes = {r["procedure_code"] for r in result.summary["by_code"].to_pylist()}
    assert {"J0897", "J1745", "J9271", "J3490"} <= codes

"""Every dollar of a remittance lands in exactly one place, with its reason (issue #13).

Each hand-made remittance reproduces a failure seen on public real 835s: denials carrying only
a capitation adjustment (CO-24) or a prior-payer denial (OA-23 + N36) vanished; two claims with
the same CLP01/CLP07 shared one item id; offsetting PLB pairs were reported as recoupments; the
amount at stake exceeded what the file denied or reduced.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reclaim.claims.x12 import read_835
from reclaim.recovery import recover
from reclaim.store import WorklistStore

from .conftest import expected_uncaught
from .remit835 import Claim, Payment, build, line

AS_OF = dt.date(2025, 12, 15)
D = Decimal


def _run(tmp_path, text, store=None, db_url=None, name="remit.835"):
    path = tmp_path / name
    path.write_text(text)
    return recover([path], None, store=store, as_of=AS_OF, run_edits=False, db_url=db_url)


def _recon(result, section):
    return {r["item"]: r["amount"] for r in result.summary["reconciliation"].to_pylist() if r["section"] == section}


def test_capitation_and_prior_payer_denials_are_all_visible(tmp_path, store):
    """16 denied claims: 13 carry only CO-24 (capitation), one OA-23 with N36 (the primary's
    requirements are not met), two CO-16 + M119. Each one is a worklist item or on the no-action
    list with its reason; none is counted as paid or lost."""
    claims = [Claim(f"CAP{n:02d}", "4", f"ICN{n:02d}", cas=[("CO", "24", D("250.00"))]) for n in range(13)]
    claims.append(Claim("PRIOR01", "4", "ICNP1", cas=[("OA", "23", D("1889.08"))], moa=["N36"]))
    claims += [Claim(f"NDC{n}", "4", f"ICNN{n}", lines=[line("J0897", 1200, 0, ("CO", "16", 1200), rarcs=["M119"])])
               for n in range(2)]
    result = _run(tmp_path, build(Payment(claims)), store=store)
    denied = [d for d in result.denied.to_pylist() if d["level"] == "claim"]
    assert len(denied) == 16
    for d in denied:
        assert d["item_ids"] or d["no_action_reasons"], d["patient_control_number"]
        assert d["worklist"] + d["no_action"] + d["written_off"] + d["patient_share"] + d["paid"] == d["charge"]
    capitation = [d for d in denied if d["patient_control_number"].startswith("CAP")]
    assert {d["no_action_reasons"] for d in capitation} == {"capitation agreement: no separate payment"}
    assert all(d["item_ids"] is None for d in capitation)
    items = {i["patient_control_number"]: i for i in result.items.to_pylist()}
    prior = items["PRIOR01"]
    assert (prior["kind"], prior["reason"], prior["amount"], prior["action"]) == \
        ("denial", "OA-23", D("1889.08"), "bill_other_payer")
    assert items["NDC0"]["action"] == "corrected_claim" and items["NDC1"]["amount"] == D("1200.00")
    assert _recon(result, "disposition") == {
        "no_action: capitation agreement: no separate payment": D("3250.00"),
        "worklist: bill_other_payer": D("1889.08"), "worklist: corrected_claim": D("2400.00")}


def test_two_claims_with_the_same_clp01_and_clp07_keep_their_own_items(tmp_path, store):
    """The TR3's own dental example sends nine patients' claims under one CLP01 and CLP07; a
    payer can also answer one CLM01 in two payments, or two payers one CLM01: every item stays."""
    same = [Claim("PCN1", "4", "ICN1", patient=p, lines=[line("J9035", 900, 0, ("CO", "16", 900), rarcs=["M119"])])
            for p in ("DOE", "ROE")]
    text = build(Payment(same, trace="T1"), Payment([same[0]], trace="T2"),
                 Payment([same[0]], trace="T3", payer="OTHER PLAN", payer_id="OTH01"))
    db = f"sqlite:///{tmp_path / 'wl.sqlite'}"
    result = _run(tmp_path, text, db_url=db)
    ids = result.items["item_id"].to_pylist()
    assert len(ids) == 4 == len(set(ids)) == len(set(result.items["natural_key"].to_pylist()))
    assert result.saved == {"inserted": 4, "unchanged": 0}
    again = _run(tmp_path, text, db_url=db, name="same-file-again.835")
    assert sorted(again.items["item_id"].to_pylist()) == sorted(ids)
    assert again.saved == {"inserted": 0, "unchanged": 4}
    assert sorted(i["id"] for i in WorklistStore(db).list()) == sorted(ids)


def test_offsetting_plb_pairs_and_allowances_are_not_recoupments(tmp_path, store):
    """+181.55 / -181.55 under one reference nets to zero; an early-payment allowance (90) is
    not a recoupment; an overpayment recovery (WO) is; at stake never exceeds what the file
    denied or reduced."""
    claims = [Claim("A1", "1", "I1", lines=[line("J0897", 1000, 800, ("CO", "45", 200))]),
              Claim("A2", "4", "I2", lines=[line("J0897", 500, 0, ("CO", "16", 500), rarcs=["M119"])])]
    plb = [("CS", "REF1", D("-181.55")), ("CS", "REF1", D("181.55")), ("90", "EPA", D("12.00")),
           ("WO", "REF2", D("130.00")), ("L6", "INT", D("-4.10"))]
    result = _run(tmp_path, build(Payment(claims, plb=plb)), store=store)
    recoupments = [i for i in result.items.to_pylist() if i["kind"] == "recoupment"]
    assert [(i["reason"], i["amount"]) for i in recoupments] == [("PLB-WO", D("130.00"))]
    plb_rows = _recon(result, "plb")
    assert plb_rows == {
        "90 early payment allowance: no_action (early payment allowance (discount agreed for early payment))": D("12.00"),
        "CS adjustment: no_action (offsetting entries net to zero)": D("0.00"),
        "L6 interest owed: paid (money to the provider)": D("-4.10"),
        "WO overpayment recovery: worklist (review_recoupment)": D("130.00")}
    at_stake = sum(i["amount"] for i in result.items.to_pylist() if i["kind"] != "patient_responsibility")
    reduced = sum(a["amount"] for a in result.remits["adjustments"].to_pylist() if a["amount"] > 0) + \
        sum(p["amount"] for p in result.plb.to_pylist() if p["amount"] > 0)
    assert at_stake == D("630.00") <= reduced
    totals = _recon(result, "totals")
    assert totals["CLP04 paid"] - totals["PLB provider-level (net)"] == totals["BPR02 payment"]


def test_an_underpayment_is_never_more_than_the_line_was_reduced(tmp_path, store):
    """A Medicare J0897 line paid far below the ASP limit, with a CO-45 reduction smaller than
    the computed shortfall: at stake is the reduction, not the shortfall."""
    claims = [Claim("U1", "1", "IU1", filing="MB",
                    lines=[line("J0897", 300, 10, ("CO", "45", 40), ("PR", "2", 250), units=120)])]
    result = _run(tmp_path, build(Payment(claims)), store=store)
    under = [i for i in result.items.to_pylist() if i["kind"] == "underpayment"]
    assert [i["amount"] for i in under] == [D("40.00")]
    disp = _recon(result, "disposition")
    assert disp["worklist: dispute_underpayment"] == D("40.00")
    assert "no_action: contractual reduction (fee schedule or contract)" not in disp  # all of it at stake


def test_a_difference_in_the_practices_favour_is_never_worth_disputing(tmp_path, store):
    """One claim's CLP04 is $25 below its lines (the payer kept it), another's $50 above them
    (paid more): $25 worth disputing, $50 reported in the practice's favour, never netted."""
    claims = [Claim("LESS", "1", "IL", lines=[line("J0897", 200, 100, ("CO", "45", 100))], clp04=D("75.00")),
              Claim("MORE", "1", "IM", lines=[line("J0897", 200, 100, ("CO", "45", 100))], clp04=D("150.00"))]
    result = _run(tmp_path, build(Payment(claims)), store=store)
    diff = result.adjudication_diff(store)
    (row,) = [r for r in diff.by_payer.to_pylist() if r["kind"] == "claim_adjustments_unbalanced"]
    assert (row["dollars_disputable"], row["dollars_in_favour"]) == (D("25.00"), D("50.00"))
    assert row["summary"].endswith("$25.00 paid less, $25.00 worth disputing, $50.00 in the practice's favour (not disputed)")
    by_kind = diff.summary()["by_kind"]["claim_adjustments_unbalanced"]
    assert (by_kind["dollars_disputable"], by_kind["dollars_in_favour"]) == ("25.00", "50.00")


def test_root_cause_names_the_specific_edit_and_timely_filing_counts_from_as_of(result):
    """Each denial names the catalog edit that flags its line for a CARC that edit says it
    prevents, or says that no edit covers that CARC; the CO-29 write-off's RC704 counts from
    --as-of (2025-12-15), not from the day the tests run."""
    causes = {i["reasons"]: i["root_cause"] for i in result.items.to_pylist() if i["kind"] in ("denial", "partial_denial")}
    assert causes["CO-16"].startswith("RC401: ") and causes["CO-4"].startswith("RC301: ")
    assert causes["CO-189"].startswith("RC103: ") and causes["CO-197"].startswith("RC702: ")
    assert causes["CO-50"] == expected_uncaught("50") and causes["CO-119"] == expected_uncaught("119")
    (late,) = result.write_offs.to_pylist()
    assert late["root_cause_edit"] == "RC704" and "before 2025-12-15" in late["root_cause"]
    by_edit = {r["edit"]: r["denied"] for r in result.summary["by_edit"].to_pylist()}
    assert by_edit["RC704"] == late["amount"] and by_edit["RC401"] == D("14000.00")


def test_a_reversal_not_re_paid_is_a_recoupment_once(tmp_path, store):
    """A reversal with no re-adjudication is a recoupment item; one re-adjudicated with a denial
    is disputed on that denial alone (the same dollars are not listed twice)."""
    orig = Claim("R1", "22", "IR1", lines=[line("J0897", -2100, -1400, ("CO", "45", -700))])
    orig2 = Claim("R2", "22", "IR2", lines=[line("J0897", -2100, -1400, ("CO", "45", -700))])
    again2 = Claim("R2", "1", "IR2B", lines=[line("J0897", 2100, 700, ("CO", "45", 350), ("CO", "151", 1050))])
    result = _run(tmp_path, build(Payment([orig, orig2, again2])), store=store)
    kinds = sorted((i["patient_control_number"], i["kind"], i["amount"]) for i in result.items.to_pylist())
    assert kinds == [("R1", "recoupment", D("1400.00")), ("R2", "partial_denial", D("1050.00"))]

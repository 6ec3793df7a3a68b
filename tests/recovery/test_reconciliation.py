"""The reconciliation table ties to every 835's own totals, per file and payer, to the cent: on
every 835 of ../shared/x12-samples and on the examples (with and without their claims)."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest
from click.testing import CliRunner

from reclaim.cli import cli
from reclaim.recovery import recover

from .conftest import AS_OF, CLAIMS, POLICIES, REMITS, TERMS

ZERO = Decimal(0)


def _835s(x12_samples):
    return sorted(p for p in x12_samples.iterdir() if p.is_file() and b"ST*835" in p.read_bytes()[:4000])


def assert_ties(result, remits):
    """Every section of every (file, payer) sums to that file's own totals."""
    groups = defaultdict(lambda: defaultdict(lambda: ZERO))
    totals = defaultdict(dict)
    for r in result.summary["reconciliation"].to_pylist():
        key = (r["file"], r["payer"])
        if r["section"] == "totals":
            totals[key][r["item"]] = r["amount"]
        else:
            groups[key][r["section"]] += r["amount"]
    assert totals, "no reconciliation rows"
    for key, t in totals.items():
        g = groups[key]
        charges = t.get("CLP03 charges", ZERO)
        assert g["status"] == charges, key
        assert g["disposition"] == charges, key  # every charged dollar in exactly one place
        assert g["cas_group"] == t.get("CAS adjustments", ZERO), key
        assert g["plb"] == t.get("PLB provider-level (net)", ZERO), key
        if "BPR02 payment" in t:
            assert t.get("CLP04 paid", ZERO) - t.get("PLB provider-level (net)", ZERO) == t["BPR02 payment"], key
    # the whole run: the same totals as the 835 tables themselves
    assert sum(t.get("CLP03 charges", ZERO) for t in totals.values()) == \
        sum(remits["remit_claims"]["total_charge"].to_pylist(), ZERO)
    assert sum(t.get("PLB provider-level (net)", ZERO) for t in totals.values()) == \
        sum(remits["provider_adjustments"]["amount"].to_pylist(), ZERO)
    # at stake from payers is what the worklist's dispositions hold, never more than was denied or reduced
    items = result.items.to_pylist()
    claim_items = sum((i["amount"] for i in items if i["kind"] not in ("patient_responsibility", "recoupment")), ZERO)
    worklist = sum((d["amount"] for d in result.dispositions.to_pylist() if d["disposition"] == "worklist"), ZERO)
    assert claim_items == worklist
    reduced = sum((a["amount"] for a in remits["adjustments"].to_pylist() if a["amount"] > 0), ZERO)
    taken = sum((-c["paid"] for c in remits["remit_claims"].to_pylist() if c["claim_status"] == "22"), ZERO)
    plb = sum((p["amount"] for p in result.plb.to_pylist() if p["amount"] > 0), ZERO)
    at_stake = sum((i["amount"] for i in items if i["kind"] != "patient_responsibility"), ZERO)
    assert at_stake <= reduced + taken + plb
    # every denied claim is somewhere, with its reason
    for d in result.denied.to_pylist():
        assert d["item_ids"] or d["no_action_reasons"] or d["patient_share"], d["remit_claim_id"]


@pytest.mark.parametrize("with_claims", [False, True], ids=["remits-alone", "with-example-claims"])
def test_every_real_835_ties_to_the_cent(x12_samples, store, with_claims):
    paths = _835s(x12_samples)
    assert len(paths) >= 15
    for path in paths:
        result = recover([path], list(CLAIMS) if with_claims else None, store=store, as_of=AS_OF, run_edits=False)
        assert_ties(result, result.remits)
        result.close()


def test_the_examples_tie_to_the_cent(result, remits):
    assert_ties(result, remits)
    by_status = {r["item"]: r["claims"] for r in result.summary["reconciliation"].to_pylist() if r["section"] == "status"}
    assert any(k.startswith("22 ") for k in by_status) and any(k.startswith("4 ") for k in by_status)


def test_cli_writes_the_reconciliation_in_every_format(ref_store, tmp_path):
    out = tmp_path / "out"
    args = ["--home", str(ref_store.home), "recover", *map(str, REMITS), "--claims", str(CLAIMS[0]), "--claims",
            str(CLAIMS[1]), "--terms", str(TERMS), "--no-save", "--no-letters", "--as-of", AS_OF.isoformat(),
            "-o", str(out)]
    for p in POLICIES:
        args += ["--policy", p]
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "Reconciliation" in res.output and "ties" in res.output and "does not tie" not in res.output
    csv_text = (out / "summary-reconciliation.csv").read_text()
    assert csv_text.startswith("file,payer,section,item,claims,amount")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reconciliation"] and {"file", "payer", "section", "item", "claims", "amount"} <= set(summary["reconciliation"][0])
    from openpyxl import load_workbook

    assert "reconciliation" in load_workbook(out / "summary.xlsx").sheetnames
    denied = (out / "denied.csv").read_text().splitlines()
    assert denied[0].startswith("level,patient_control_number") and len(denied) > 1

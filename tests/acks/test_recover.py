"""Front-end rejections and claim status in ``recover``: matching acknowledgments back to the
submitted claims, the claim_status table, worklist items with deadline and root cause, the 276."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from click.testing import CliRunner

from reclaim.claims.x12 import read_277, read_837
from reclaim.recovery import acks, recover

from .conftest import FIXTURES, REPO

CLAIMS = FIXTURES / "drug-claims.837p"
DEMO_837 = REPO / "examples" / "claims" / "check-medicare.837"
DEMO_ACKS = [REPO / "examples" / "acks" / "check-medicare.999", REPO / "examples" / "acks" / "check-medicare.277ca"]
AS_OF = dt.date(2025, 12, 15)


def by_pcn(table):
    return {r["patient_control_number"]: r for r in table.to_pylist()}


def test_277ca_accepts_one_and_rejects_one(status_store):
    result = recover([FIXTURES / "drug-claims.277ca"], [CLAIMS], store=status_store, as_of=AS_OF, run_edits=False)
    claims = read_837(CLAIMS)["claims"].to_pylist()
    status = by_pcn(result.claim_status)
    assert status["PCN-0001"]["state"] == "accepted" and status["PCN-0001"]["reason"] == "A2:20"
    assert status["PCN-0002"]["state"] == "rejected" and status["PCN-0002"]["source"] == "277CA"
    assert {status[c["patient_control_number"]]["claim_id"] for c in claims} == {c["claim_id"] for c in claims}
    [item] = result.items.to_pylist()
    assert (item["kind"], item["reason"], item["claim_status"], item["action"]) == (
        "rejection", "A7:562", "A7", "new_claim")
    assert item["claim_id"] == claims[1]["claim_id"] and item["amount"] == Decimal("2550.50")
    # the code texts come from the loaded X12 lists, the entity and loop from STC01-3
    assert "Rejected for Invalid Information" in item["explanation"]
    assert "Entity's National Provider Identifier (NPI)" in item["explanation"]
    assert "rendering provider, loop 2310B" in item["explanation"]
    # PCN-0002 is billed to a commercial plan with no contract on file: no deadline is invented
    assert item["payer_id"] == "CP001" and item["deadline"] is None
    assert item["service_date"] == dt.date(2025, 11, 1) and item["procedure_code"] == "J9035"


def test_999_rejection_places_each_error_on_its_claim(status_store):
    result = recover([FIXTURES / "drug-claims-rejected.999"], [CLAIMS], store=status_store, as_of=AS_OF,
                     run_edits=False)
    items = by_pcn(result.items)
    assert set(items) == {"PCN-0001", "PCN-0002"}  # IK5*R rejects the whole transaction set: both claims
    first, second = items["PCN-0001"], items["PCN-0002"]
    assert first["reason"] == second["reason"] == "IK5-R"
    assert "SV104 (segment 26, loop 2400): required data element missing" in first["explanation"]
    assert "HI01-2" not in first["explanation"]  # the HI error's CTX names PCN-0002
    assert "HI01-2 (segment 47, loop 2300): invalid code value" in second["explanation"]
    assert (first["edit_category"], second["edit_category"]) == ("units", "diagnosis")
    # Medicare (payer 00952): 12 months from the date of service (terms new_claim)
    assert first["deadline"] == dt.date(2026, 11, 3) and "timely filing" in first["deadline_rule"]
    assert {r["state"] for r in result.claim_status.to_pylist()} == {"rejected"}


def test_real_999_without_its_837_loses_no_rejection(x12_samples, status_store):
    result = recover([x12_samples / "stupidedi__999-response-to-3-837s.edi"], None, store=status_store, as_of=AS_OF,
                     run_edits=False)
    items = by_pcn(result.items)
    assert set(items) == {"123456789", "987654321"}  # the CLM01 its CTX segments name
    assert all(i["claim_id"] is None and i["amount"] == 0 for i in items.values())
    assert "CLM02 (segment 22): required data element missing" in items["123456789"]["explanation"]
    assert "REF (segment 57): required segment missing" in items["987654321"]["explanation"]
    states = sorted(r["state"] for r in result.claim_status.to_pylist())
    assert states == ["accepted", "rejected", "rejected"]  # the accepted set (no claim named) is listed too


def test_demo_rejection_links_the_check_edit(status_store):
    result = recover(DEMO_ACKS, [DEMO_837], store=status_store, as_of=AS_OF, policies=["medicare"])
    [item] = result.items.to_pylist()
    assert (item["patient_control_number"], item["reason"], item["procedure_code"]) == ("CK1009", "A7:454", "Q5157")
    assert item["root_cause_edit"] == "RC101" and item["preventable"]
    assert "Procedure code for services rendered" in item["explanation"]
    assert item["deadline"] == dt.date(2026, 9, 22)  # Medicare: 12 months from the 2025-09-22 service
    states = [r["state"] for r in result.claim_status.to_pylist()]
    assert states.count("accepted") == 9 and states.count("rejected") == 1
    again = recover(DEMO_ACKS, [DEMO_837], store=status_store, as_of=AS_OF, policies=["medicare"])
    assert again.items["item_id"].to_pylist() == [item["item_id"]]  # the same problem, the same item


def test_an_835_answers_the_claim(status_store, tmp_path):
    """A claim that a 277CA rejected and an 835 later adjudicated is not a front-end item."""
    remit = REPO / "examples" / "remits" / "recover-medicare.835"
    claims = REPO / "examples" / "claims" / "recover-medicare.837"
    ack = (FIXTURES / "drug-claims.277ca").read_text().replace("PCN-0002", "RC1001").replace("2550.5", "2100")
    ack = ack.replace("RD8*20251101-20251102", "D8*20251015")
    path = tmp_path / "rejects-rc1001.277ca"
    path.write_text(ack)
    result = recover([remit, path], [claims], store=status_store, as_of=AS_OF, run_edits=False)
    assert "rejection" not in result.items["kind"].to_pylist()
    assert by_pcn(result.claim_status)["RC1001"]["state"] == "adjudicated (835)"
    assert result.counts["remit_claims"] > 0 and result.counts["status_claims"] == 2


def test_no_match_when_charge_or_dates_disagree(status_store, tmp_path):
    text = (FIXTURES / "drug-claims.277ca").read_text().replace("STC*A7:562:82*20251116*U*2550.5",
                                                               "STC*A7:562:82*20251116*U*99")
    path = tmp_path / "other-charge.277ca"
    path.write_text(text)
    result = recover([path], [CLAIMS], store=status_store, as_of=AS_OF, run_edits=False)
    [item] = result.items.to_pylist()
    assert item["claim_id"] is None and item["amount"] == Decimal("99.00")  # listed, not pinned on the wrong claim
    assert by_pcn(result.claim_status)["PCN-0002"]["state"] == "rejected"  # the unmatched row (no claim id)
    assert [r["state"] for r in result.claim_status.to_pylist() if r["claim_id"]] == ["accepted",
                                                                                       "submitted, awaiting acknowledgment"]


def test_without_code_lists_the_item_says_so(store):
    result = recover([FIXTURES / "drug-claims.277ca"], [CLAIMS], store=store, as_of=AS_OF, run_edits=False)
    [item] = result.items.to_pylist()
    assert "status code text not loaded" in item["explanation"]


def test_276_for_claims_with_no_answer(status_store, tmp_path, pyx12_findings, x12_samples):
    result = recover([FIXTURES / "drug-claims.999"], [CLAIMS, DEMO_837], store=status_store,
                     as_of=dt.date(2026, 1, 15), run_edits=False)
    written = acks.write_status_requests(result, tmp_path / "status.276", days=30, usage="T")
    assert written.claims == 12 and not written.skipped
    back = read_277(written.path)
    assert back["read_issues"].num_rows == 0
    assert back["transactions"].num_rows == 2  # one interchange per receiver (PAYERTEST, MEDICAREB)
    asked = by_pcn(back["status_claims"])
    sent = {c["patient_control_number"]: c for c in read_837(CLAIMS)["claims"].to_pylist()
            + read_837(DEMO_837)["claims"].to_pylist()}
    assert set(asked) == set(sent)
    for pcn, claim in sent.items():
        assert asked[pcn]["total_charge"] == claim["total_charge"]
        assert asked[pcn]["payer_id"] == claim["payer_id"]
        assert asked[pcn]["provider_npi"] == claim["billing_npi"]
        assert asked[pcn]["subscriber_id"] == claim["subscriber_id"]
    assert (asked["PCN-0002"]["service_from"], asked["PCN-0002"]["service_to"]) == (dt.date(2025, 11, 1),
                                                                                   dt.date(2025, 11, 2))
    # pyx12 4.0 has no 005010X212 276 map: checked against its 276 map (X093A1, the draft the
    # X212 TR3 came from), our file gets no finding the TR3's own example does not get
    maps = {("005010X212", "HR", "276"): "276.4010.X093.A1.xml"}

    def kinds(path):
        return {(code, message.split("  Started at")[0]) for _, code, message in pyx12_findings(path, maps)}

    assert kinds(written.path) <= kinds(x12_samples / "stupidedi__276-claim-status-request.edi")
    # within 30 days of the 837 nothing is asked
    early = acks.write_status_requests(result, tmp_path / "none.276", days=400)
    assert early.path is None and early.claims == 0


def test_cli_recover_reads_acknowledgments(status_store, tmp_path, monkeypatch):
    from reclaim.cli import cli

    monkeypatch.setenv("RECLAIM_HOME", str(status_store.path.parent))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["recover", *map(str, DEMO_ACKS), "--claims", str(DEMO_837), "--policy", "medicare",
                                   "--as-of", "2026-01-15", "-o", str(out), "--no-save", "--no-letters",
                                   "--request-status-after", "30"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "rejection" in res.output and "CK1009" in res.output
    assert "Claim status: 9 accepted, 1 rejected" in res.output
    assert "Claim status requests: 9 claim(s)" in res.output  # accepted, no 835 after 30 days
    assert (out / "claim-status.csv").read_text().count("\n") == 11
    assert (out / "status-requests.276").is_file()


def test_ta1_rejecting_the_interchange_rejects_its_claims(status_store):
    result = recover([FIXTURES / "drug-claims-rejected.ta1"], [CLAIMS], store=status_store, as_of=AS_OF,
                     run_edits=False)
    items = by_pcn(result.items)
    assert set(items) == {"PCN-0001", "PCN-0002"}
    assert items["PCN-0001"]["reason"] == "TA1-R"
    assert "TA1 interchange 000000101 rejected (TA104 R, TA105 006 invalid interchange sender ID)" \
        in items["PCN-0001"]["explanation"]
    accepted = recover([FIXTURES / "drug-claims.ta1"], [CLAIMS], store=status_store, as_of=AS_OF, run_edits=False)
    assert accepted.items.num_rows == 0
    assert {r["state"] for r in accepted.claim_status.to_pylist()} == {"submitted, awaiting acknowledgment"}


def test_real_277_pended_claim_is_an_item(x12_samples, status_store):
    """P3:317 (pended, waiting for information asked of the provider) is followed up; F0 and F2
    (finalized) come with an 835 and are not front-end items."""
    result = recover([x12_samples / "stupidedi__277-claim-status-response.edi"], None, store=status_store,
                     as_of=AS_OF, run_edits=False)
    [item] = result.items.to_pylist()
    assert (item["kind"], item["reason"], item["patient_control_number"], item["action"]) == (
        "pended", "P3:317", "SM123456", "review")
    assert item["amount"] == Decimal("8513.88") and item["payer_claim_control_number"] == "05347006051"
    assert "Pending/Provider Requested Information" in item["explanation"]
    assert "status code text not loaded" in item["explanation"]  # 317 is not in the fixture list
    states = by_pcn(result.claim_status)
    assert (states["JO234567"]["state"], states["MA345678"]["state"]) == ("finalized", "finalized")


def test_acknowledgments_in_the_claims_folder(status_store, tmp_path):
    """A clearinghouse folder holds the 837s and their 999/277CA together: recover sorts them."""
    import shutil

    folder = tmp_path / "outbox"
    folder.mkdir()
    for path in (CLAIMS, FIXTURES / "drug-claims.277ca"):
        shutil.copy(path, folder / path.name)
    result = recover(None, [folder], store=status_store, as_of=AS_OF, run_edits=False)
    assert [i["patient_control_number"] for i in result.items.to_pylist()] == ["PCN-0002"]
    assert not [r for r in result.read_issues.to_pylist() if r["code"] == "IO-ACKNOWLEDGMENT"]

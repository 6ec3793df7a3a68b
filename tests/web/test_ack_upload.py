"""Uploading acknowledgments (999, 277CA) beside 835s: the rejected claim reaches the worklist."""

from __future__ import annotations

from pathlib import Path

from .test_api import token_for, upload

REPO = Path(__file__).resolve().parents[2]
CLAIMS = REPO / "examples" / "claims" / "check-medicare.837"
ACK_999 = REPO / "examples" / "acks" / "check-medicare.999"
ACK_277CA = REPO / "examples" / "acks" / "check-medicare.277ca"


def test_277ca_upload_puts_the_rejection_on_the_worklist(full_app, x12_samples):
    biller = token_for(full_app, "ben", "biller")
    assert upload(biller, "claims", CLAIMS).status_code == 201
    accepted = upload(biller, "remits", ACK_999)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["claims"] == 1  # one acknowledged transaction set
    assert accepted.json()["summary"]["recovery"]["items"] == 0
    response = upload(biller, "remits", ACK_277CA)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["claims"] == 10 and body["errors"] == 0  # ten claims acknowledged
    assert body["summary"]["recovery"]["items"] == 1
    rows = biller.get("/api/worklist", params={"limit": 100}).json()["rows"]
    [item] = [r for r in rows if r["kind"] == "rejection"]
    assert (item["patient_control_number"], item["reason"], item["action"]) == ("CK1009", "A7:454", "new_claim")
    # the real 999 (no 837 of it uploaded) is read, not refused
    real = upload(biller, "remits", x12_samples / "stupidedi__999-response-to-3-837s.edi")
    assert real.status_code == 201, real.text
    assert real.json()["summary"]["recovery"]["items"] == 2

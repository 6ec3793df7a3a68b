"""Our own small files in tests/fixtures/x12, written to the TR3 layouts, covering every
segment the readers load: drug lines with JZ/JW, NDC LIN/CTP, REF*6R/G1/F8/9F, SV101-7 NOC
description, COB loops 2320/2330/2430 that must not leak into the claim, 837I SV2 and HI
occurrence/value/condition codes, 835 MOA/MIA, multi-triplet CAS, SVC06/SVC07, LQ HE/RX,
PLB pairs, a reversal (CLP02=22) and its correction, and two interchanges with different
delimiters (one with '|' and '>'), CRLF, and no newlines at all."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from reclaim.claims.x12 import read_835, read_837, sniff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"


def _by(table, key):
    return {r[key]: r for r in table.to_pylist()}


def test_837p_drug_claims():
    batch = read_837(FIXTURES / "drug-claims.837p")
    assert sniff(FIXTURES / "drug-claims.837p") == "837P"
    assert batch["read_issues"].num_rows == 0
    claims = _by(batch["claims"], "patient_control_number")
    c1, c2 = claims["PCN-0001"], claims["PCN-0002"]
    assert c1["claim_id"].endswith(":000000101:1:0001:1") and c2["claim_id"].endswith(":0001:2")
    assert (c1["total_charge"], c1["place_of_service"], c1["frequency_code"]) == (Decimal("1800.00"), "11", "1")
    assert c1["prior_auth_number"] == "PA12345" and c1["note"] == "DENOSUMAB INJECTION"
    assert (c1["billing_npi"], c1["billing_tax_id"], c1["rendering_npi"]) == ("1234567893", "123456789", "1326046412")
    assert c1["billing_address"] == "100 MAIN ST, SPRINGFIELD, IL, 627010001"
    assert (c1["payer_id"], c1["claim_filing_indicator"], c1["payer_responsibility"]) == ("00952", "MB", "P")
    # subscriber is the patient (SBR02 = 18)
    assert (c1["relationship_code"], c1["patient_id"], c1["patient_birth_date"]) == ("18", "1EG4TE5MK73", date(1950, 1, 1))
    # replacement claim with a 2000C patient and a 2320/2330 other payer (whose CAS 99.99 is not ours)
    assert (c2["frequency_code"], c2["original_claim_number"], c2["referral_number"]) == ("7", "ICN20251001", "REF777")
    assert (c2["payer_id"], c2["subscriber_id"], c2["patient_first_name"], c2["relationship_code"]) == (
        "CP001", "W123456789", "RITA", "19")
    assert c2["patient_birth_date"] == date(2010, 6, 15) and c2["referring_npi"] == "1003000126"
    assert c2["total_charge"] == Decimal("2550.50") and c2["rendering_npi"] is None

    dx = batch["diagnoses"].to_pylist()
    assert [(d["qualifier"], d["code"], d["position"]) for d in dx] == [
        ("ABK", "M8100", 1), ("ABF", "Z7983", 2), ("ABK", "C50911", 1)]

    lines = batch["lines"].to_pylist()
    assert len(lines) == 4
    l1 = lines[0]
    assert (l1["procedure_code"], l1["modifier_1"], l1["units"], l1["charge"]) == ("J0897", "JZ", Decimal("60.000"),
                                                                                  Decimal("1800.00"))
    assert (l1["ndc"], l1["ndc11"], l1["ndc_quantity"], l1["ndc_unit"]) == ("55513071001", "55513071001",
                                                                          Decimal("1.000"), "UN")
    assert (l1["line_control_number"], l1["prior_auth_number"], l1["note"]) == ("LINE0001", "PA12345-L", "60 MG SC")
    assert (l1["dx_pointer_1"], l1["dx_pointer_2"], l1["service_date"]) == (1, 2, date(2025, 11, 3))
    administered, wasted, noc = lines[1:]
    assert (administered["service_date"], administered["service_date_to"]) == (date(2025, 11, 1), date(2025, 11, 2))
    assert administered["rendering_npi"] == "1093817465"  # 2420A, not the 2430 SVD payer
    assert (wasted["modifier_1"], wasted["units"], wasted["ndc_quantity"]) == ("JW", Decimal("10.000"), Decimal("1.000"))
    assert (noc["procedure_code"], noc["description"], noc["ndc_unit"]) == ("J3490", "RITUXIMAB-ABBS 10MG", "ML")
    assert noc["modifier_1"] is None and noc["note"] == "NOC DRUG"
    txn = batch["transactions"].to_pylist()[0]
    assert (txn["transaction_type"], txn["implementation"], txn["segment_count"]) == ("837P", "005010X222A1", 75)
    assert (txn["submitter_name"], txn["receiver_name"], txn["created"]) == ("RECLAIM TEST BILLING", "TEST PAYER",
                                                                             date(2025, 11, 15))


def test_837i_other_delimiters_and_crlf():
    raw = (FIXTURES / "hospital-claim.837i").read_bytes()
    assert raw[3:4] == b"|" and b"~\r\n" in raw
    batch = read_837(FIXTURES / "hospital-claim.837i")
    assert batch["read_issues"].num_rows == 0
    c = batch["claims"].to_pylist()[0]
    assert (c["claim_type"], c["facility_type_code"], c["type_of_bill"]) == ("institutional", "13", "131")
    assert (c["statement_from"], c["statement_to"], c["admission_date"]) == (date(2025, 11, 3),) * 3
    assert c["attending_npi"] == "1518920406" and c["place_of_service"] is None
    dx = [(d["category"], d["qualifier"], d["code"], d["position"], d["date"], d["amount"])
          for d in batch["diagnoses"].to_pylist()]
    assert dx == [
        ("diagnosis", "ABK", "M8100", 1, None, None), ("diagnosis", "ABF", "Z7983", 2, None, None),
        ("diagnosis", "ABF", "E559", 3, None, None), ("occurrence", "BH", "11", 1, date(2025, 11, 3), None),
        ("value", "BE", "A2", 1, None, Decimal("1800.50")), ("condition", "BG", "09", 1, None, None)]
    line = batch["lines"].to_pylist()[0]
    assert (line["revenue_code"], line["procedure_code"], line["modifier_1"], line["units"]) == (
        "0636", "J0897", "JZ", Decimal("120.000"))
    assert (line["ndc11"], line["line_control_number"]) == ("55513071001", "I-LINE-1")


def test_835_two_interchanges_no_newlines():
    path = FIXTURES / "payments.835"
    raw = path.read_bytes()
    assert b"\n" not in raw and raw.count(b"ISA") == 2
    batch = read_835(path)
    assert batch["read_issues"].num_rows == 0  # everything balances
    pays = batch["payments"].to_pylist()
    assert [(p["payment_amount"], p["payment_method"], p["trace_number"]) for p in pays] == [
        (Decimal("1295.25"), "ACH", "EFT0001"), (Decimal("30.00"), "CHK", "CHK0002")]
    assert (pays[0]["payer_id"], pays[0]["payee_id"], pays[0]["production_date"]) == ("00952", "1234567893",
                                                                                      date(2025, 11, 18))
    assert pays[1]["payer_id"] == "CP001"  # from N104 when there is no REF*2U
    claims = batch["remit_claims"].to_pylist()
    assert [(c["patient_control_number"], c["claim_status"], c["paid"]) for c in claims] == [
        ("PCN-0001", "1", Decimal("1400.00")), ("PCN-0003", "4", Decimal("0.00")),
        ("PCN-0004", "22", Decimal("-250.00")), ("PCN-0004", "1", Decimal("240.00")),
        ("PCN-0002", "2", Decimal("30.00"))]
    c1 = claims[0]
    assert (c1["rendering_npi"], c1["statement_from"], c1["received_date"], c1["coverage_amount"]) == (
        "1326046412", date(2025, 11, 3), date(2025, 11, 10), Decimal("1780.00"))
    lines = batch["remit_lines"].to_pylist()
    l1 = lines[0]
    assert (l1["procedure_code"], l1["modifier_1"], l1["units_paid"], l1["allowed_amount"]) == (
        "J0897", "JZ", Decimal("60.000"), Decimal("1420.00"))
    assert (l1["line_control_number"], l1["location_number"]) == ("LINE0001", "11")
    corrected = lines[2]
    assert (corrected["original_procedure_code"], corrected["original_units"]) == ("J1110", Decimal("20.000"))
    assert (corrected["service_date"], corrected["service_date_to"]) == (date(2025, 10, 1), date(2025, 10, 2))
    assert lines[3]["units_paid"] == Decimal("1.000")  # SVC05 blank = 1 unit (TR3)
    adj = [(a["group_code"], a["reason_code"], a["amount"], a["line_index"]) for a in batch["adjustments"].to_pylist()]
    assert adj[:4] == [("CO", "45", Decimal("300.00"), 1), ("CO", "253", Decimal("80.00"), 1),
                       ("PR", "2", Decimal("20.00"), 1), ("CO", "16", Decimal("500.00"), None)]
    rem = [(r["source"], r["code"], r["qualifier"], r["line_index"]) for r in batch["remarks"].to_pylist()]
    assert rem == [("MOA", "MA130", None, None), ("MOA", "N382", None, None), ("MIA", "MA01", None, None),
                   ("LQ", "N130", "HE", 1), ("LQ", "70", "RX", 1)]
    plb = [(p["reason_code"], p["reference"], p["amount"]) for p in batch["provider_adjustments"].to_pylist()]
    assert plb == [("WO", "ICN-OLD-1", Decimal("100.00")), ("L6", None, Decimal("-5.25"))]


def test_835_unbalanced_is_reported_not_raised():
    raw = (FIXTURES / "payments.835").read_bytes().replace(b"SVC*HC:J0897:JZ*1800*1400", b"SVC*HC:J0897:JZ*1800*1300")
    batch = read_835(raw)
    codes = sorted(batch["read_issues"]["code"].to_pylist())
    assert codes == ["X12-BALANCE-LINE"]  # the line no longer balances; CLP04 still does
    issue = batch["read_issues"].to_pylist()[0]
    assert (issue["segment_id"], issue["claim_key"], issue["severity"]) == ("SVC", "PCN-0001", "warning")
    assert "100.00" in issue["message"]
    raw2 = (FIXTURES / "payments.835").read_bytes().replace(b"BPR*I*1295.25", b"BPR*I*1295.00")
    assert read_835(raw2)["read_issues"]["code"].to_pylist() == ["X12-BALANCE-TRANSACTION"]

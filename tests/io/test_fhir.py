"""FHIR R4 Claim / ExplanationOfBenefit (Bundle and NDJSON) into the claim and remittance model."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from reclaim.claims.fhir import read_fhir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir"
KEEP_OUT = {"claim_id", "transaction_id", "file_id", "remit_claim_id"}


def rows(table, drop=KEEP_OUT):
    return [{k: v for k, v in r.items() if k not in drop} for r in table.to_pylist()]


@pytest.mark.parametrize("name", ["claims-bundle.json", "claims.ndjson"])
def test_claims(name):
    claims, remits = read_fhir(FIXTURES / name)
    assert claims["read_issues"].num_rows == 0
    by_pcn = {c["patient_control_number"]: c for c in claims["claims"].to_pylist()}
    prof, inst = by_pcn["PCN-2025-0001"], by_pcn["PCN-2025-0107"]
    assert (prof["claim_type"], prof["total_charge"], prof["place_of_service"]) == ("professional", Decimal("1807.80"), "11")
    assert (prof["billing_npi"], prof["billing_tax_id"], prof["rendering_npi"]) == ("1234567893", "123456789", "1122334455")
    assert (prof["payer_id"], prof["payer_name"], prof["payer_responsibility"]) == ("00882", "MEDICARE PART B", "P")
    assert (prof["patient_id"], prof["patient_birth_date"], prof["patient_sex"]) == ("1EG4TE5MK73", dt.date(1948, 2, 14), "F")
    assert (prof["subscriber_id"], prof["relationship_code"], prof["group_number"]) == ("1EG4TE5MK73", "18", "GRP-0042")
    assert prof["prior_auth_number"] == "PA-77120"
    assert (inst["claim_type"], inst["type_of_bill"], inst["facility_type_code"], inst["frequency_code"]) == (
        "institutional", "137", "13", "7")
    assert inst["original_claim_number"] == "25123400012300"
    lines = {(c["patient_control_number"], l["line_number"]): l
             for l in claims["lines"].to_pylist() for c in [next(c for c in by_pcn.values() if c["claim_id"] == l["claim_id"])]}
    drug = lines[("PCN-2025-0001", 1)]
    assert (drug["procedure_qualifier"], drug["procedure_code"], drug["modifier_1"]) == ("HC", "J0897", "JZ")
    assert (drug["units"], drug["charge"], drug["service_date"]) == (Decimal("60"), Decimal("1762.80"), dt.date(2025, 10, 6))
    assert (drug["ndc_qualifier"], drug["ndc"], drug["ndc11"], drug["ndc_quantity"], drug["ndc_unit"]) == (
        "N4", "55513071001", "55513071001", Decimal("1"), "UN")
    assert drug["dx_pointer_1"] == 1 and drug["place_of_service"] == "11"
    assert lines[("PCN-2025-0001", 2)]["procedure_code"] == "96372"
    xgeva = lines[("PCN-2025-0107", 1)]
    assert (xgeva["revenue_code"], xgeva["ndc11"], xgeva["ndc_quantity"], xgeva["ndc_unit"]) == (
        "0636", "55513073001", Decimal("1.7"), "ML")
    dx = {(d["position"], d["qualifier"], d["code"]) for d in claims["diagnoses"].to_pylist()}
    assert dx == {(1, "ABK", "M810"), (1, "ABK", "C7951")}
    assert remits["remit_claims"].num_rows == 0
    assert [i["code"] for i in remits["read_issues"].to_pylist()] == ["FHIR-NO-RESOURCES"]


def test_bundle_and_ndjson_agree():
    a, _ = read_fhir(FIXTURES / "claims-bundle.json")
    b, _ = read_fhir(FIXTURES / "claims.ndjson")
    for name in ("claims", "lines", "diagnoses"):
        assert rows(a[name]) == rows(b[name])


@pytest.mark.parametrize("name", ["eob-bundle.json", "eob.ndjson"])
def test_explanation_of_benefit(name):
    claims, remits = read_fhir(FIXTURES / name)
    assert remits["read_issues"].num_rows == 0 and claims["claims"].num_rows == 0
    rc = {r["patient_control_number"]: r for r in remits["remit_claims"].to_pylist()}
    paid, denied = rc["PCN-2025-0001"], rc["PCN-2025-0002"]
    assert (paid["claim_status"], paid["total_charge"], paid["paid"]) == ("1", Decimal("1807.80"), Decimal("1470.17"))
    assert paid["patient_responsibility"] == Decimal("312.63")  # coinsurance 308.63 + 4.00
    assert paid["payer_claim_control_number"] == "25280100045600"
    assert paid["received_date"] == dt.date(2025, 10, 8) and paid["rendering_npi"] == "1122334455"
    assert (denied["claim_status"], denied["paid"]) == ("4", Decimal("0"))
    lines = {(r["remit_claim_id"], r["line_index"]): r for r in remits["remit_lines"].to_pylist()}
    j0897 = lines[(paid["remit_claim_id"], 1)]
    assert (j0897["procedure_code"], j0897["modifier_1"], j0897["charge"], j0897["paid"], j0897["allowed_amount"]) == (
        "J0897", "JZ", Decimal("1762.80"), Decimal("1454.17"), Decimal("1762.80"))
    adjustments = {(a["remit_claim_id"] == paid["remit_claim_id"], a["line_index"], a["group_code"], a["reason_code"], a["amount"])
                   for a in remits["adjustments"].to_pylist()}
    assert adjustments == {
        (True, 1, "PR", "2", Decimal("308.63")),   # coinsurance -> PR-2
        (True, 2, None, "45", Decimal("25.00")),   # discount explained by CARC 45
        (True, 2, "PR", "2", Decimal("4.00")),
        (False, 1, None, "16", Decimal("1762.80")),  # denial reason CARC 16: the whole charge
    }
    # every line balances: charge - adjustments = paid
    for (rcid, idx), line in lines.items():
        adj = sum(a["amount"] for a in remits["adjustments"].to_pylist()
                  if a["remit_claim_id"] == rcid and a["line_index"] == idx)
        assert line["charge"] - adj == line["paid"]
    assert [(r["code"], r["line_index"]) for r in remits["remarks"].to_pylist()] == [("M119", 1)]
    [payment] = remits["payments"].to_pylist()
    assert (payment["payment_amount"], payment["trace_number"], payment["payment_date"]) == (
        Decimal("1470.17"), "EFT0000912", dt.date(2025, 10, 28))


def test_fixture_codes_are_real(ref_store):
    """HCPCS, NDC->HCPCS pairs, ICD-10, CARC and RARC of the fixtures exist in the official files."""
    from reclaim.refdata.store import RefStore

    claims, _ = read_fhir(FIXTURES / "claims-bundle.json")
    _, remits = read_fhir(FIXTURES / "eob-bundle.json")
    with RefStore.open(ref_store) as store:
        for line in claims["lines"].to_pylist():
            if line["procedure_code"][0].isalpha():
                assert store.hcpcs(line["procedure_code"], on=line["service_date"]) is not None
            if line["ndc11"]:
                assert line["procedure_code"] in {r["hcpcs"] for r in store.crosswalk_by_ndc(line["ndc11"])}
        for d in claims["diagnoses"].to_pylist():
            assert store.icd10(d["code"]) is not None, d["code"]
        for a in remits["adjustments"].to_pylist():
            assert store.carc(a["reason_code"]) is not None, a["reason_code"]
        for r in remits["remarks"].to_pylist():
            assert store.rarc(r["code"]) is not None, r["code"]


def test_malformed_resources_become_issues_with_json_paths():
    claims, _ = read_fhir(FIXTURES / "claims-malformed.ndjson")
    issues = {(i["code"], i["line"], i["column"]) for i in claims["read_issues"].to_pylist()}
    assert issues == {
        ("FHIR-INVALID", 2, "Claim.item[0].sequence"),
        ("FHIR-INVALID", 2, "Claim.patient"),
        ("FHIR-JSON", 3, None),
    }
    assert {i["claim_key"] for i in claims["read_issues"].to_pylist() if i["code"] == "FHIR-INVALID"} == {"PCN-BAD-1"}
    assert claims["claims"]["patient_control_number"].to_pylist() == ["PCN-2025-0001"]


def test_bundle_entry_path_and_unknown_system(tmp_path):
    bundle = json.loads((FIXTURES / "claims-bundle.json").read_text())
    claim = bundle["entry"][0]["resource"]
    claim["item"][1]["productOrService"]["coding"][0]["system"] = "http://example.org/local-codes"
    bundle["entry"][1]["resource"]["status"] = 42  # not a code
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    claims, _ = read_fhir(path)
    issues = {(i["code"], i["column"]) for i in claims["read_issues"].to_pylist()}
    assert ("FHIR-PROCEDURE", "entry[0].resource.item[1].productOrService") in issues
    assert any(code == "FHIR-INVALID" and col.startswith("entry[1].resource.status") for code, col in issues)
    assert claims["claims"].num_rows == 1


def test_not_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"resourceType": "Bundle", "entry": [')
    claims, remits = read_fhir(path)
    [issue] = claims["read_issues"].to_pylist()
    assert issue["code"] == "FHIR-JSON" and issue["skipped"] == "file" and issue["line"] == 1

"""Payer policy files: the shipped ones validate, bad ones fail with file, key path and what was
expected, and a claim gets the policy matching its payer id, else its filing indicator."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reclaim.edits import catalog, check
from reclaim.edits.cases import build_batch
from reclaim.policy import builtin_policies, load_policies, load_policy, policy_tables
from reclaim.policy.loader import PolicyError

REPO = Path(__file__).resolve().parents[2]
COMMERCIAL = REPO / "examples" / "policies" / "commercial-example.yaml"


def test_shipped_policies_validate():
    medicare, medicaid = builtin_policies()
    assert medicare.jw_jz.required_from == dt.date(2023, 7, 1)
    assert medicaid.ndc.required == "always" and medicaid.timely_filing_months == 12
    neutral = load_policy("commercial")
    assert neutral.timely_filing_days is None and neutral.not_checked
    commercial = load_policy(COMMERCIAL)
    assert commercial.frequency[0].ndcs == ["55513071001", "55513071021"]
    tables = policy_tables([medicare, medicaid, commercial], list(catalog()))
    assert tables["policy_match"].num_rows == 6  # MB, MA, MC, ACME01, CI, BL
    assert tables["policy_prior_auth"].num_rows > 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("id: x\nname: X\njw_jz: {required_from: someday}\n", r"jw_jz\.required_from: Input should be a valid date"),
        ("id: x\nname: X\nfrequency:\n  - {id: f, hcpcs: [J0897], max_units: 60, source: s}\n", r"frequency\[0\]\.period_days: Field required"),
        ("id: x\nname: X\nndc: {requird: always}\n", r"ndc\.requird: Extra inputs are not permitted"),
        ("id: x\nname: X\nfrequency:\n  - {id: f, hcpcs: [J0897], ndcs: ['5551307101'], max_units: 60, period_days: 1, source: s}\n", r"11 digits"),
        ("id: x\nname: [unclosed\n", r"line \d+, column \d+: not valid YAML"),
        ("- just a list\n", r"expected a mapping"),
    ],
)
def test_bad_policy_names_file_key_and_expectation(tmp_path, text, expected):
    path = tmp_path / "payer.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=expected) as info:
        load_policy(path)
    assert str(path) in str(info.value)


def test_unknown_edit_in_policy_is_an_error():
    policy = load_policy(COMMERCIAL).model_copy(update={"edits": load_policy(COMMERCIAL).edits.model_copy(update={"ignore": ["RC999"]})})
    with pytest.raises(PolicyError, match="matches no edit"):
        policy_tables([policy], list(catalog()))


def test_policy_chosen_per_claim_and_overrides_severity(store):
    """Medicare (MB), Medicaid (MC), the commercial example (payer id ACME01) in one run; the
    commercial policy turns RC801 into info, the others keep it a warning."""
    lines = [{"procedure_code": "J0897", "modifiers": ["JZ"], "units": 60, "charge": 1500, "ndc": "55513071001", "ndc_unit": "UN", "ndc_quantity": 1}]
    batch = build_batch([
        {"claim_filing_indicator": "MB", "service_date": dt.date(2025, 11, 3), "lines": lines},
        {"claim_filing_indicator": "MC", "service_date": dt.date(2025, 11, 3), "lines": lines},
        {"claim_filing_indicator": "CI", "payer_id": "ACME01", "prior_auth_number": "PA1", "service_date": dt.date(2025, 11, 3), "lines": lines},
        {"claim_filing_indicator": "ZZ", "service_date": dt.date(2025, 11, 3), "lines": lines},
    ], "policy")
    policies = load_policies(["medicare", "medicaid", str(COMMERCIAL)])
    found = check(batch, store=store, policies=policies, select=["RC801"]).table.to_pylist()
    got = {(r["claim_id"], r["policy_id"], r["severity"]) for r in found}
    # ZZ matches no policy given: the payer-neutral default, which does not compare charges with
    # Medicare's ASP limit (RC801 is off under it)
    assert got == {
        ("policy:1", "medicare", "warning"),
        ("policy:2", "medicaid", "warning"),
        ("policy:3", "acme-commercial", "info"),
    }


def test_default_policy_follows_the_filing_indicator(store):
    """No policy given matches: Medicare (MA/MB) and Medicaid (MC) claims get the built-in
    policy of their program, any other (CI, HM, BL, none) the payer-neutral default, which says
    what it does not check; a given catch-all (a policy naming no payer) comes before defaults."""
    lines = [{"procedure_code": "J0897", "modifiers": ["JZ"], "units": 60, "charge": 1500}]
    batch = build_batch([
        {"claim_filing_indicator": fi, "payer_id": f"P{fi}", "service_date": dt.date(2025, 11, 3), "lines": lines}
        for fi in ("MB", "MA", "MC", "CI", "HM", "BL", None)
    ], "defaults")
    found = check(batch, store=store, policies=[str(COMMERCIAL)], select=["RC704"], date_of_check=dt.date(2025, 12, 15))
    applied = {r["policy_id"]: r for r in found.summary()["policies_applied"]}
    assert {k: v["claims"] for k, v in applied.items()} == {"medicare": 2, "medicaid": 1, "commercial": 2, "acme-commercial": 2}  # acme: CI, BL
    assert applied["commercial"]["is_default"] and not applied["acme-commercial"]["is_default"]
    assert "timely filing limit" in applied["commercial"]["not_checked"]
    catch_all = load_policy(COMMERCIAL).model_copy(update={"id": "mine", "applies_to": load_policy(COMMERCIAL).applies_to.model_copy(
        update={"payer_ids": [], "claim_filing_indicators": []})})
    found = check(batch, store=store, policies=[catch_all], select=["RC704"], date_of_check=dt.date(2025, 12, 15))
    assert {r["policy_id"]: r["claims"] for r in found.summary()["policies_applied"]} == {"mine": 7}


def test_duplicate_policy_ids_rejected():
    with pytest.raises(PolicyError, match="unique"):
        load_policies(["medicare", "medicare"])

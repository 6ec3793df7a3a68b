"""`check --fix` runs to a fixpoint: a code swap (RC103/RC104) carries the units of the dose
given, the drug's own edits (JW/JZ, units) are found in the same run, and a second `check` of
what --fix wrote finds nothing a mechanical fix should have handled."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from reclaim.claims.io import read_claims
from reclaim.cli import cli
from reclaim.edits import check
from reclaim.edits.cases import build_batch
from reclaim.edits.fix import MAX_ROUNDS, fix_until_clean

REPO = Path(__file__).resolve().parents[2]
CHECK_DATE = dt.date(2025, 12, 15)
PROLIA = "55513071001"  # CMS crosswalk 2025-Q4: 60 billing units of J0897 per syringe

# the defects of issue #12 as a biller writes them
CLAIMS = [
    # Prolia billed as J1327 (eptifibatide, 5 mg) x 12 without JW/JZ: 60 mg given
    {"service_date": dt.date(2025, 11, 3), "diagnoses": ["M810"],
     "lines": [{"procedure_code": "J1327", "units": 12, "charge": 1900, "ndc": PROLIA, "ndc_unit": "UN", "ndc_quantity": 1}]},
    # NOC J3490 "PROLIA 60 MG" x 1 without JW/JZ
    {"service_date": dt.date(2025, 11, 3), "diagnoses": ["M810"],
     "lines": [{"procedure_code": "J3490", "units": 1, "charge": 1900, "description": "PROLIA 60 MG", "ndc": PROLIA,
                "ndc_unit": "UN", "ndc_quantity": 1}]},
    # infliximab in milligrams, hyphenated NDC, no JZ
    {"service_date": dt.date(2025, 11, 5), "diagnoses": ["K5000"],
     "lines": [{"procedure_code": "J1745", "units": 500, "charge": 15000, "ndc": "57894-0030-01", "ndc_unit": "UN",
                "ndc_quantity": 5}]},
]


def _lines(batch):
    return {r["claim_id"]: r for r in batch["lines"].to_pylist()}


def test_fixes_run_until_nothing_mechanical_is_left(store):
    batch = build_batch(CLAIMS, "fx")
    run = lambda b: check(b, store=store, date_of_check=CHECK_DATE)  # noqa: E731
    fixed, changes, first, remaining, rounds = fix_until_clean(batch, run)
    # found in the first run: the code and the drug's own findings together
    codes = {(r["claim_id"], r["code"]) for r in first.table.to_pylist()}
    assert {("fx:1", "RC104"), ("fx:1", "RC301"), ("fx:2", "RC103"), ("fx:2", "RC301"), ("fx:3", "RC203"), ("fx:3", "RC301")} <= codes
    assert 1 <= rounds <= MAX_ROUNDS
    lines = _lines(fixed)
    assert (lines["fx:1"]["procedure_code"], lines["fx:1"]["units"], lines["fx:1"]["modifier_1"]) == ("J0897", Decimal("60.000"), "JZ")
    assert (lines["fx:2"]["procedure_code"], lines["fx:2"]["units"], lines["fx:2"]["modifier_1"]) == ("J0897", Decimal("60.000"), "JZ")
    assert (lines["fx:3"]["procedure_code"], lines["fx:3"]["units"], lines["fx:3"]["modifier_1"]) == ("J1745", Decimal("50.000"), "JZ")
    # what remains carries no mechanical fix, and checking the fixed claims again finds the same
    assert not [r for r in remaining.table.to_pylist() if r["fix_action"]]
    again = run(fixed).table.to_pylist()
    assert sorted((r["claim_id"], r["code"], r["message"]) for r in again) == sorted(
        (r["claim_id"], r["code"], r["message"]) for r in remaining.table.to_pylist())
    assert not {r["code"] for r in again} & {"RC103", "RC104", "RC201", "RC203", "RC301"}
    # every change names the edits that made it
    assert changes.num_rows >= 7 and all(changes.column("codes").to_pylist())


def test_second_check_of_the_fixed_837_finds_nothing_fixable(ref_store, tmp_path):
    src = REPO / "examples" / "claims" / "check-medicare.837"
    out = tmp_path / "fixed.837"
    base = ["--home", ref_store.home, "check"]
    result = CliRunner().invoke(cli, [*base, str(src), "--date-of-check", "2025-12-15", "--fix", "-o", str(out), "--format", "json"],
                                standalone_mode=False, catch_exceptions=False)
    payload = json.loads(result.stdout)
    assert payload["fixes"]
    recheck = CliRunner().invoke(cli, [*base, str(out), "--date-of-check", "2025-12-15", "--format", "json"],
                                 standalone_mode=False, catch_exceptions=False)
    findings = json.loads(recheck.stdout)["findings"]
    assert [f for f in findings if f["fix_action"]] == []
    assert sorted((f["patient_control_number"], f["code"]) for f in findings) == sorted(
        (f["patient_control_number"], f["code"]) for f in payload["remaining_findings"])
    # the NOC line (J3490 "Prolia 60 mg") is billed as J0897 x 60 in the file written
    lines = {(r["procedure_code"], str(r["units"])) for r in read_claims([out])["lines"].to_pylist()}
    assert ("J0897", "60.000") in lines and not any(code == "J3490" for code, _ in lines)

"""`reclaim check` and `reclaim rules` on the demo claims in examples/claims (real codes and NDCs)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reclaim.claims.io import read_claims
from reclaim.cli import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "claims"
POLICIES = ["--policy", "medicare", "--policy", "medicaid", "--policy", str(REPO / "examples/policies/commercial-example.yaml")]


def _run(ref_store, *args):
    result = CliRunner().invoke(cli, ["--home", ref_store.home, *args], standalone_mode=False, catch_exceptions=False)
    return result


def test_demo_json_findings_and_exit_status(ref_store):
    files = sorted(str(p) for p in EXAMPLES.glob("check-*"))
    result = _run(ref_store, "check", *files, *POLICIES, "--date-of-check", "2025-12-15", "--format", "json")
    assert result.return_value == 1  # errors remain
    payload = json.loads(result.stdout)
    by_claim = {(f["patient_control_number"], f["code"]) for f in payload["findings"]}
    # one mistake a biller recognises per demo claim (see the claim files)
    for expected in [("CK1002", "RC104"), ("CK1003", "RC203"), ("CK1004", "RC102"), ("CK1005", "RC302"),
                     ("CK1006", "RC202"), ("CK1007", "RC304"), ("CK1008", "RC801"), ("CK1009", "RC101"),
                     ("CK1010", "RC103"), ("MCD-2001", "RC401"), ("MCD-2003", "RC201"), ("ACM-3002", "RC701"),
                     ("ACM-3003", "RC702"), ("ACM-3004", "RC702"), ("ACM-3006", "RC703"), ("ACM-3007", "RC502")]:
        assert expected in by_claim
    assert not any(code for pcn, code in by_claim if pcn == "CK1001")  # the clean claim stays clean
    assert payload["summary"]["by_severity"]["error"] > 0
    assert float(payload["summary"]["dollars_at_risk"]) > 0


def test_fix_writes_corrected_csv(ref_store, tmp_path):
    out = tmp_path / "fixed.csv"
    src = EXAMPLES / "check-medicaid.csv"
    result = _run(ref_store, "check", str(src), "--date-of-check", "2025-12-15", "--fix", "-o", str(out))
    assert "--fix:" in result.stdout and "units: - 35.500 + 36.000" in result.stdout
    fixed = read_claims([out])
    assert fixed["read_issues"].num_rows == 0
    units = {r["claim_id"].rsplit(":", 1)[-1]: r["units"] for r in fixed["lines"].to_pylist()}
    assert str(max(units.values())) != "35.500"
    assert "35.500" not in [str(r["units"]) for r in fixed["lines"].to_pylist()]


def test_select_and_csv_output(ref_store):
    result = _run(ref_store, "check", str(EXAMPLES / "check-medicare.837"), "--select", "RC1", "--format", "csv",
                  "--date-of-check", "2025-12-15")
    lines = result.stdout_bytes.decode().splitlines() if hasattr(result, "stdout_bytes") else result.stdout.splitlines()
    assert lines[0].startswith('"code"')
    assert {line.split(",")[0].strip('"') for line in lines[1:]} == {"RC101", "RC102", "RC103", "RC104"}


def test_rules_lists_and_explains(ref_store):
    listing = _run(ref_store, "rules").stdout
    assert "RC104  ndc-billed-under-other-code" in listing
    page = _run(ref_store, "rules", "RC301").stdout
    for heading in ("What it checks", "Why it matters", "Example", "Fix", "Source"):
        assert f"## {heading}" in page


def test_check_streams_parquet_from_convert_and_reports_unreadable_input(ref_store, tmp_path, x12_samples):
    """`reclaim convert` output (Parquet tables) checks exactly like the files it came from; an
    835 given as a claim file is a read issue naming the file, and the other files are checked."""
    files = sorted(str(p) for p in EXAMPLES.glob("check-*"))
    converted = tmp_path / "converted"
    assert _run(ref_store, "convert", *files, "-o", str(converted)).exit_code == 0
    args = [*POLICIES, "--date-of-check", "2025-12-15", "--format", "json"]
    direct = json.loads(_run(ref_store, "check", *files, *args).stdout)
    remit = str(x12_samples / "x12__managed-care.835")
    from_parquet = json.loads(_run(ref_store, "check", str(converted), remit, *args).stdout)
    key = lambda f: (f["claim_id"], f["line_number"] or 0, f["code"], f["message"])
    assert sorted(map(key, from_parquet["findings"])) == sorted(map(key, direct["findings"]))
    assert len(direct["findings"]) > 15
    assert from_parquet["summary"]["lines"] == direct["summary"]["lines"] > 0
    wrong_kind = [i for i in from_parquet["read_issues"] if i["code"] == "IO-WRONG-KIND"]
    assert [(i["path"], i["skipped"]) for i in wrong_kind] == [(remit, "file")]


def test_text_output_names_each_file(ref_store):
    files = sorted(str(p) for p in EXAMPLES.glob("check-*"))
    result = _run(ref_store, "check", *files, *POLICIES, "--date-of-check", "2025-12-15")
    out = result.stdout
    # findings grouped under their file, in the order the files were given
    positions = [out.index(f + "\n") for f in files]
    assert positions == sorted(positions)
    assert "claim CK1002" in out[positions[-1]:] and "claim MCD-2001" in out[positions[1]:positions[2]]

"""Options and settings do what they say (#19.4): `check --format markdown`, the `format` setting
honoured where a command prints it and reported where it does not."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CLAIMS = EXAMPLES / "claims" / "check-medicare.837"
AS_OF = ["--date-of-check", "2025-12-15"]


def test_check_format_markdown(work, reclaim):
    status, out, _ = reclaim("check", CLAIMS, *AS_OF, "--format", "markdown")
    assert status == 1
    assert out.startswith("# reclaim check\n")
    assert f"## {CLAIMS}" in out and "| claim | policy | line | code | edit | severity | message | fix |" in out
    # a finding with a mechanical fix says so; one without names what a person checks
    row = next(line for line in out.splitlines() if line.startswith("| CK1008 |") and "| RC402 |" in line)
    assert "| RC402 | error |" in row and "(--fix)" in row
    row = next(line for line in out.splitlines() if line.startswith("| CK1002 |") and "| RC104 |" in line)
    assert "(--fix)" not in row and "more than the 60 units the NDC quantity holds" in row
    assert "## By edit" in out and "| RC104 | ndc-billed-under-other-code | error | 1 |" in out


def test_check_fix_in_markdown_lists_the_changes(work, reclaim):
    status, out, _ = reclaim("check", EXAMPLES / "claims" / "check-medicaid.csv", *AS_OF, "--format", "markdown",
                             "--fix", "-o", work / "fixed.csv")
    assert status == 1 and "## --fix changes" in out and "| MCD-2003 | 1 | units | 35.500 | 36.000 | RC201 |" in out
    assert (work / "fixed.csv").is_file()


def test_the_format_setting_is_used_where_supported_and_reported_where_not(work, reclaim, monkeypatch):
    monkeypatch.setenv("RECLAIM_FORMAT", "markdown")
    status, out, err = reclaim("check", CLAIMS, *AS_OF)
    assert status == 1 and out.startswith("# reclaim check") and "note:" not in err
    status, out, err = reclaim("code", "J0897", "--date", "2025-12-15")
    assert status == 0 and out.startswith("# J0897")
    status, out, err = reclaim("data", "status")  # text or json only
    assert status == 0 and "reference store" in out
    assert "the format setting ('markdown', from RECLAIM_FORMAT or reclaim.toml) is not an output of " \
           "`reclaim data status` (text, json): printing text" in err
    monkeypatch.setenv("RECLAIM_FORMAT", "csv")
    status, out, err = reclaim("code", "J0897", "--date", "2025-12-15")
    assert status == 0 and "is not an output of `reclaim code` (text, json, markdown)" in err
    status, out, err = reclaim("ndc", "55513-0710-01", "--date", "2025-12-15")
    assert status == 0 and "is not an output of `reclaim ndc`" in err
    monkeypatch.setenv("RECLAIM_FORMAT", "json")
    status, out, err = reclaim("data", "status")
    assert status == 0 and json.loads(out)["releases"] and not err
    # a flag wins over the setting, silently
    status, out, err = reclaim("code", "J0897", "--date", "2025-12-15", "--format", "text")
    assert status == 0 and not err and not out.startswith("{")

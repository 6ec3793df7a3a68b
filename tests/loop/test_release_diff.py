"""Release diff: the mirror's CMS 2025-10 / 2025-Q4 files against the hand-made FIXTURE successor
(tests/fixtures/releases/successor.py): every change the fixture makes is found, nothing else,
and the practice impact is joined from real claim files and a real worklist."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import pytest
from click.testing import CliRunner

from reclaim.loop.release_diff import CHANGES, ReleaseDiffError, diff_releases, release_for, render


def _key(row):
    def norm(v):
        if v is None:
            return None
        try:
            return D(v).normalize()
        except Exception:
            return v
    return (row["dataset"], row["change"], row["code"], row["ndc11"], norm(row["old_value"]), norm(row["new_value"]))


def test_release_names_map_between_quarters_and_months():
    assert release_for("hcpcs", "2026-Q1") == "2026-01" and release_for("asp_pricing", "2026-01") == "2026-Q1"
    assert release_for("mue", "2025-Q4") == "2025-Q4" and release_for("hcpcs", "2025-10") == "2025-10"


def test_every_fixture_change_is_found_and_nothing_else(release_store, successor):
    import duckdb

    report = diff_releases(release_store, "all", "2025-Q4", "2026-Q1")
    found = {_key(r) for r in report.changes.to_pylist() if r["change"] != "new_biosimilar"}
    declared = set()
    for dataset, change, code, ndc, old, new in successor.CHANGES:
        if dataset == "hcpcs" and change != "terminated":
            old = None if change == "added" else "Injection, pembrolizumab, 1 mg"
        declared.add(_key({"dataset": dataset, "change": change, "code": code, "ndc11": ndc, "old_value": old,
                           "new_value": new}))
    with duckdb.connect(str(release_store), read_only=True) as con:  # J2506's NDCs leave with the code
        for ndc, units in con.execute("select ndc11, max(billing_units) from ndc_crosswalk where release = '2025-Q4' "
                                      "and hcpcs = ? group by ndc11", [successor.REMOVED_WITH_CODE]).fetchall():
            declared.add(_key({"dataset": "ndc_crosswalk", "change": "ndc_removed", "code": "J2506", "ndc11": ndc,
                               "old_value": str(units), "new_value": None}))
    assert found == declared
    pct = {r["code"]: r["pct_change"] for r in report.changes.to_pylist() if r["change"].startswith("price_")}
    assert pct["J0897"] == pytest.approx(2.5) and pct["J9271"] == pytest.approx(-3.0)
    effective = {r["effective"] for r in report.changes.to_pylist() if r["dataset"] != "hcpcs" or r["change"] != "terminated"}
    assert effective == {dt.date(2026, 1, 1)}
    term = next(r for r in report.changes.to_pylist() if r["change"] == "terminated")
    assert term["effective"] == dt.date(2026, 1, 1) and "2025-12-31" in term["detail"]


def test_new_biosimilar_for_a_molecule_already_coded(release_store):
    report = diff_releases(release_store, "hcpcs", "2025-10", "2026-01")
    (bio,) = [r for r in report.changes.to_pylist() if r["change"] == "new_biosimilar"]
    assert bio["code"] == "Q5199" and "J0897" in bio["old_value"].split() and "denosumab" in bio["detail"]


def test_fixture_releases_are_labelled_not_official(release_store):
    report = diff_releases(release_store, "asp", "2025-Q4", "2026-Q1")
    assert report.releases["asp_pricing"]["old"]["provenance"] == "official"
    assert report.releases["asp_pricing"]["new"]["provenance"] == "handwritten"
    assert any("FIXTURE: not an official release" in n for n in report.notes)


def test_missing_release_is_a_clear_error(release_store):
    with pytest.raises(ReleaseDiffError, match="2027-Q1 not in the reference store .*2025-Q4, 2026-Q1"):
        diff_releases(release_store, "asp", "2025-Q4", "2027-Q1")


def _practice(gen, tmp_path):
    """Claims that touch the changes: J0897 2 x 60 units (one on a removed NDC), J2506 after its
    termination, J1745 120 units (over the new MUE of 100), J9035 (NDC whose units change)."""
    day = dt.date(2026, 1, 5)
    ln = lambda code, units, ndc, qty, lcn, mods=("JZ",): gen.Line(code, list(mods), D(units), D(units) * 50, day, ndc, D(qty), lcn)  # noqa: E731
    claims = [
        gen.Claim("P1", "MB", "1AA0AA0AA00", "ANN", "M810", [ln("J0897", 60, "55513-0710-01", 1, "P1-1")]),
        gen.Claim("P2", "MB", "1AA0AA0AA00", "ANN", "M810", [ln("J0897", 60, "55513-0710-21", 1, "P2-1")]),
        gen.Claim("P3", "MB", "2BB0BB0BB00", "BEA", "D701", [ln("J2506", 12, "55513-0190-01", 1, "P3-1")]),
        gen.Claim("P4", "MB", "3CC0CC0CC00", "CAL", "K5090", [ln("J1745", 120, "57894-0030-01", 12, "P4-1")]),
        gen.Claim("P5", "MB", "4DD0DD0DD00", "DON", "C187", [ln("J9035", 40, "50242-0061-01", 1, "P5-1")]),
    ]
    path = tmp_path / "practice.837"
    path.write_text(gen.write_837(claims, "MB", day, 7), newline="")
    return claims, path


def test_impact_on_the_practice_claims(release_store, gen, tmp_path):
    _, path = _practice(gen, tmp_path)
    report = diff_releases(release_store, "all", "2025-Q4", "2026-Q1", claims=[path])
    impact = {(r["change"], r["code"], r["ndc11"]): r for r in report.impact.to_pylist()}
    up = impact[("price_up", "J0897", None)]
    assert up["lines"] == 2 and up["units"] == D("120.000")
    assert up["dollar_effect"] == D("88.20")  # 120 units x (30.115 - 29.380)
    assert "+2.5%" in up["action"] and "from 2026-01-01" in up["action"]
    assert impact[("ndc_removed", "J0897", "55513071021")]["lines"] == 1
    assert impact[("terminated", "J2506", None)]["lines"] == 1  # billed on 2026-01-05, after 2025-12-31
    assert impact[("mue_changed", "J1745", None)]["lines"] == 1  # 120 units > new MUE 100
    assert impact[("ndc_units_changed", "J9035", "50242006101")]["lines"] == 1
    assert ("new_biosimilar", "Q5199", None) in impact  # the practice bills J0897
    assert ("price_added", "Q5199", None) not in impact  # nobody bills Q5199 yet
    assert report.practice == {"claims": 5, "lines": 5, "open_items": 0}


def test_open_worklist_items_are_repriced(release_store, gen, tmp_path):
    """A real worklist: recover() on a 2026 remittance that underpays J0897 (priced by the
    fixture's 2026-Q1 limit), saved in SQLite; the diff counts its open underpayment items."""
    from reclaim.recovery import recover
    from reclaim.refdata.store import RefStore
    from reclaim.store import WorklistStore

    claims, path = _practice(gen, tmp_path)
    svcs = [gen.Svc(ln.code, list(ln.mods), ln.charge, D("100.00"), ln.units, ln.dos, ln.lcn,
                    [("CO", "45", ln.charge - D("100.00"), None)]) for ln in claims[0].lines]
    remit_path = tmp_path / "practice.835"
    remit_path.write_text(gen.write_835([gen.Remit(claims[0], "1", "ICN1", svcs)], "MB", dt.date(2026, 2, 1), 8), newline="")
    db = f"sqlite:///{tmp_path / 'worklist.sqlite'}"
    with RefStore.open(release_store) as store:
        recover([remit_path], [path], store=store, db_url=db, as_of=dt.date(2026, 2, 2))
    items = WorklistStore(db).list()
    under = [i for i in items if i["kind"] == "underpayment" and i["procedure_code"] == "J0897"]
    assert under, "recover() should list the underpaid J0897 line"
    report = diff_releases(release_store, "asp", "2025-Q4", "2026-Q1", claims=[path], worklist=db)
    row = next(r for r in report.impact.to_pylist() if r["change"] == "price_up" and r["code"] == "J0897")
    assert row["open_items"] == len([i for i in items if i["procedure_code"] == "J0897"])
    assert row["items_repriced"] == len(under) and f"{len(under)} open underpayment item(s)" in row["action"]


def test_cli_data_diff_three_formats(release_store, gen, tmp_path, monkeypatch):
    from reclaim.cli import cli

    _, path = _practice(gen, tmp_path)
    home = release_store.parent
    runner = CliRunner()
    text = runner.invoke(cli, ["--home", str(home), "data", "diff", "2025-Q4", "2026-Q1", "--claims", str(path)])
    assert text.exit_code == 0, text.output
    assert "J0897: payment limit +2.5% from 2026-01-01" in text.output and "FIXTURE" in text.output
    md = runner.invoke(cli, ["--home", str(home), "data", "diff", "2025-Q4", "2026-Q1", "--format", "markdown"])
    assert md.exit_code == 0 and md.output.startswith("# Release diff 2025-Q4 -> 2026-Q1")
    js = runner.invoke(cli, ["--home", str(home), "data", "diff", "2025-Q4", "2026-Q1", "--dataset", "mue",
                             "--format", "json"])
    payload = json.loads(js.output)
    assert payload["counts"] == {"mue.mue_added": 1, "mue.mue_changed": 2, "mue.mue_removed": 1}
    bad = runner.invoke(cli, ["--home", str(home), "data", "diff", "2025-Q4", "2031-Q1", "--dataset", "asp"])
    assert bad.exit_code != 0 and "2031-Q1 not in the reference store" in str(bad.exception or bad.output)


def test_render_lists_every_change(release_store):
    report = diff_releases(release_store, "all", "2025-Q4", "2026-Q1")
    text = render(report, "text")
    assert text.count("\n") > report.changes.num_rows
    assert report.changes.schema == CHANGES


def test_policy_rules_naming_changed_codes(release_store):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "policies" / "commercial-example.yaml"
    report = diff_releases(release_store, "all", "2025-Q4", "2026-Q1", policies=["medicare", "medicaid", str(example)])
    rows = {(r["change"], r["code"]): r for r in report.impact.to_pylist()}
    bio = rows[("new_biosimilar", "Q5199")]
    # the example policy's prior-authorization rule lists J0897 and Q5136/Q5157-Q5159, not the new Q5199
    assert "acme-commercial prior_auth:denosumab-pa" in bio["policies"]
    assert "but not Q5199" in bio["action"]
    assert "acme-commercial prior_auth:infliximab-site-of-care" in rows[("mue_changed", "J1745")]["policies"]
    without = diff_releases(release_store, "all", "2025-Q4", "2026-Q1")
    assert all(r["policies"] is None for r in without.impact.to_pylist())

"""Edit effectiveness: the precision/recall arithmetic on a small hand-checked set (findings
given, so the numbers depend only on the scoring), then the real catalog replayed on the
committed history, observed odds for the worklist, and `reclaim rules --effectiveness`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from decimal import Decimal as D

import pyarrow as pa
from click.testing import CliRunner

from reclaim.edits import catalog
from reclaim.loop.effectiveness import BY_EDIT, OBSERVED, edit_effectiveness, observed_odds, render

DOS = dt.date(2025, 11, 3)
HISTORY = Path(__file__).resolve().parents[2] / "examples" / "history"


def _case(gen, x12):
    """Eight lines, seven claims; outcomes and findings as in the table below.

    claim line flagged        835                          RC301        RC401      RC201
    A     1    RC301          CO-4 N822 3000 (denied)       prevented    -          -
    B     1    RC301          paid in full                  paid anyway  -          -
    C     1    -              CO-16 M119 1000               -            relevant   -
    D     1    RC401          CO-16 M119 2000               -            prevented  -
    E     1    RC201          CO-50 N386 500                -            -          flagged, denied
    F     1    -              CO-50 N386 800                (no edit declares CARC 50)
    G     1,2  RC301 (claim)  line 1 CO-16 MA130 1500, 2 paid  prevented, paid anyway
    """
    def ln(lcn):
        return gen.Line("J0897", ["JZ"], D(60), D(3000), DOS, "55513-0710-01", D(1), lcn)

    def paid(lcn):
        return gen.Svc("J0897", ["JZ"], D(3000), D(1400), D(60), DOS, lcn, [("CO", "45", D(1600), None)])

    def denied(lcn, carc, rarc, amount):
        return gen.Svc("J0897", ["JZ"], D(3000), D(3000) - D(amount), D(60), DOS, lcn,
                       [("CO", carc, D(amount), None)] + ([("CO", "45", D(3000) - D(amount), None)] if amount != 3000 else []),
                       [rarc])

    spec = {"A": [denied("A-1", "4", "N822", 3000)], "B": [paid("B-1")], "C": [denied("C-1", "16", "M119", 1000)],
            "D": [denied("D-1", "16", "M119", 2000)], "E": [denied("E-1", "50", "N386", 500)],
            "F": [denied("F-1", "50", "N386", 800)], "G": [denied("G-1", "16", "MA130", 1500), paid("G-2")]}
    claims = [gen.Claim(k, "MB", "1AA0AA0AA00", "ANN", "M810", [ln(s.lcn) for s in v]) for k, v in spec.items()]
    remits = [gen.Remit(c, "1", f"ICN{c.clm01}", spec[c.clm01]) for c in claims]
    batch, remit_batch = x12(claims, remits)
    ids = dict(zip(batch["claims"]["patient_control_number"].to_pylist(), batch["claims"]["claim_id"].to_pylist()))
    findings = pa.table({
        "code": ["RC301", "RC301", "RC401", "RC201", "RC301"],
        "claim_id": [ids["A"], ids["B"], ids["D"], ids["E"], ids["G"]],
        "line_number": pa.array([1, 1, 1, 1, None], pa.int32()),
        "severity": ["error"] * 5,
    })
    return batch, remit_batch, findings


def test_precision_recall_and_dollars_by_hand(gen, x12):
    batch, remits, findings = _case(gen, x12)
    edits = [catalog()[c] for c in ("RC201", "RC301", "RC401")]
    result = edit_effectiveness(batch, remits, findings=findings, edits=edits)
    assert result.by_edit.schema == BY_EDIT
    by = {r["edit"]: r for r in result.by_edit.to_pylist()}
    got = {k: (v["flagged"], v["flagged_answered"], v["flagged_adverse"], v["prevented"], v["relevant"],
               v["precision"], v["recall"], v["dollars_protected"], v["flagged_paid_in_full"]) for k, v in by.items()}
    assert got == {
        "RC301": (4, 4, 2, 2, 2, 0.5, 1.0, D("4500.00"), 2),
        "RC401": (1, 1, 1, 1, 2, 1.0, 0.5, D("2000.00"), 0),
        "RC201": (1, 1, 1, 0, 0, 0.0, None, D("0.00"), 0),
    }
    assert result.totals == {"lines": 8, "answered": 8, "adverse": 6, "denied_dollars": D("8800.00"),
                             "adverse_flagged": 4, "dollars_protected": D("6500.00"), "lines_flagged": 6,
                             "adverse_unflagged": 2}
    uncovered = {r["reason"]: r for r in result.uncovered.to_pylist()}
    assert set(uncovered) == {"CO-50", "CO-16"}
    assert (uncovered["CO-50"]["lines"], uncovered["CO-50"]["dollars"], uncovered["CO-50"]["coverage"]) == \
        (1, D("800.00"), "no edit declares it")
    assert (uncovered["CO-16"]["lines"], uncovered["CO-16"]["rarcs"], uncovered["CO-16"]["declared_by"]) == \
        (1, "M119", "RC201 RC301 RC401")


def test_history_replay_with_the_catalog(history, ref_store):
    from reclaim.refdata.store import RefStore

    claims, remits = history
    with RefStore.open(ref_store) as store:
        result = edit_effectiveness(claims, remits, store=store)
    by = {r["edit"]: r for r in result.by_edit.to_pylist()}
    for r in by.values():
        assert r["prevented"] <= r["flagged_adverse"] <= r["flagged_answered"] <= r["flagged"]
        assert r["prevented"] <= r["relevant"]
    # every line the payers denied with RARC M119 (NDC) had no NDC, and the NDC edit flagged them all
    m119 = sum(1 for code, idx in zip(remits["remarks"]["code"].to_pylist(), remits["remarks"]["line_index"].to_pylist())
               if code == "M119" and idx is not None)
    assert m119 > 0 and by["RC401"]["prevented"] == by["RC401"]["relevant"] == m119
    assert by["RC401"]["precision"] == 1.0
    # medical-necessity denials (CO-50): RC604 (diagnosis coverage) declares them, and missed them
    # all: the mirror holds no coverage data, so it checked nothing (each run says so)
    co50 = sum(1 for g, c, i in zip(remits["adjustments"]["group_code"].to_pylist(),
                                    remits["adjustments"]["reason_code"].to_pylist(),
                                    remits["adjustments"]["line_index"].to_pylist()) if (g, c) == ("CO", "50") and i is not None)
    row = next(r for r in result.uncovered.to_pylist() if r["reason"] == "CO-50")
    assert row["lines"] == co50 and row["coverage"] == "declared, missed"
    text = render(result)
    assert "RC401" in text and "CO-50" in text
    assert render(result, "markdown").startswith("# Edit effectiveness")


def test_observed_odds_for_the_worklist(history):
    from reclaim.store import WorklistStore

    claims, remits = history
    table = observed_odds(claims, remits)
    assert table.schema == OBSERVED
    assert table.schema.names == WorklistStore("sqlite://").observed_outcomes().schema.names
    # recovered = replacement claims (frequency 7) the payer paid: count them from the files
    corrected = {c for c, f in zip(claims["claims"]["patient_control_number"].to_pylist(),
                                   claims["claims"]["frequency_code"].to_pylist()) if f == "7"}
    paid_again = {c for c, f, p in zip(remits["remit_claims"]["patient_control_number"].to_pylist(),
                                       remits["remit_claims"]["frequency_code"].to_pylist(),
                                       remits["remit_claims"]["paid"].to_pylist()) if f == "7" and p > 0}
    assert corrected and sum(table["recovered"].to_pylist()) >= len(corrected & paid_again)
    assert all(r["recovered"] <= r["resolved"] for r in table.to_pylist())
    # with a later as_of, old unanswered denials count as resolved without recovery
    later = observed_odds(claims, remits, as_of=dt.date(2026, 12, 31))
    assert sum(later["resolved"].to_pylist()) > sum(table["resolved"].to_pylist())
    assert sum(later["recovered"].to_pylist()) == sum(table["recovered"].to_pylist())


def test_cli_rules_effectiveness(ref_store):
    from reclaim.cli import cli

    runner = CliRunner()
    out = runner.invoke(cli, ["--home", ref_store.home, "rules", "--effectiveness", "--claims", str(HISTORY / "claims"),
                              "--remits", str(HISTORY / "remits")])
    assert out.exit_code == 0, out.output
    assert "Edit effectiveness on your history" in out.output and "Denials no edit flagged" in out.output
    bad = runner.invoke(cli, ["--home", ref_store.home, "rules", "--effectiveness", "--claims", str(HISTORY / "claims")])
    assert bad.exit_code != 0 and "--remits" in str(bad.exception)

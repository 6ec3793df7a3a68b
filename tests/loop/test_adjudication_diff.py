"""Submitted vs adjudicated: one hand-checked 837/835 pair per difference type, priced with the
mirror's ASP 2025-Q4 file (J1745 31.090, Q5103 19.990, J9035 73.201, Q5107 27.862, J7050 0.649 per
unit; J9271 crosswalk 00006-3026-02 = 100 units per vial; J1745 57894-0030-01 = 10 per vial)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pyarrow.compute as pc
import pytest

from reclaim.loop.adjudication_diff import FINDINGS, adjudication_diff

DOS = dt.date(2025, 11, 3)


def line(gen, code, units, charge, mods=("JZ",), ndc="55513-0710-01", qty=1, lcn="T1-1"):
    return gen.Line(code, list(mods), D(units), D(charge), DOS, ndc, D(qty) if ndc else None, lcn)


def claim(gen, lines, clm01="T1", payer="MB"):
    return gen.Claim(clm01, payer, "1AA0AA0AA00", "ANN", "M810", lines)


def svc(gen, code, charge, paid, units, cas, mods=("JZ",), rarcs=(), orig=None, lcn="T1-1", qualifier="HC",
        orig_units=None):
    return gen.Svc(code, list(mods), D(charge), D(paid), D(units), DOS, lcn,
                   [(g, r, D(a), None) for g, r, a in cas], list(rarcs), orig, qualifier, orig_units=orig_units)


def run(x12, gen, store, claims, svcs_by_claim, payer="MB", override=None):
    remits = [gen.Remit(c, "4" if all(v.paid == 0 for v in s) else "1", f"ICN{i}", s, override)
              for i, (c, s) in enumerate(zip(claims, svcs_by_claim))]
    batch, remit_batch = x12(claims, remits, payer)
    result = adjudication_diff(batch, remit_batch, store=store)
    assert result.findings.schema == FINDINGS
    return result


def rows(result, kind):
    return result.findings.filter(pc.equal(result.findings["kind"], kind)).to_pylist()


def test_code_changed_to_the_code_the_ndc_crosswalks_to_is_expected(x12, gen, store):
    c = claim(gen, [line(gen, "J1745", 50, 2500, ndc="00069-0809-01", qty=5)])
    s = svc(gen, "Q5103", 2500, 800, 50, [("CO", "45", 1700)], orig=("J1745", ["JZ"]))
    (f,) = rows(run(x12, gen, store, [c], [[s]]), "code_changed")
    assert (f["procedure_code"], f["adjudicated"]) == ("J1745", "Q5103 50.0 units")
    assert f["dollar_effect"] == D("555.00")  # (31.090 - 19.990) x 50
    assert f["expected"] and "crosswalks to Q5103" in f["basis"] and "2025-Q4" in f["basis"]


def test_code_changed_against_the_ndc_is_worth_disputing(x12, gen, store):
    c = claim(gen, [line(gen, "J9035", 40, 4000, ndc="50242-0060-01", qty=4)], payer="CI")
    s = svc(gen, "Q5107", 4000, 1200, 40, [("CO", "45", 2800)], orig=("J9035", ["JZ"]))
    (f,) = rows(run(x12, gen, store, [c], [[s]], payer="CI"), "code_changed")
    assert f["dollar_effect"] == D("1813.56")  # (73.201 - 27.862) x 40
    assert not f["expected"] and "dispute" in f["basis"]


def test_modifiers_dropped_and_added(x12, gen, store):
    lines = [line(gen, "J0897", 60, 3000, lcn="T1-1"), line(gen, "J0897", 60, 3000, mods=("JG", "JZ"), lcn="T2-1"),
             line(gen, "J0897", 60, 3000, lcn="T3-1"), line(gen, "J0897", 60, 3000, lcn="T4-1")]
    claims = [claim(gen, [ln], clm01=f"T{i}") for i, ln in enumerate(lines, 1)]
    svcs = [
        [svc(gen, "J0897", 3000, 1400, 60, [("CO", "45", 1600)], mods=(), orig=("J0897", ["JZ"]), lcn="T1-1")],
        [svc(gen, "J0897", 3000, 1400, 60, [("CO", "45", 1600)], mods=("JZ",), lcn="T2-1")],
        [svc(gen, "J0897", 3000, 0, 60, [("CO", "4", 3000)], mods=(), rarcs=["N822"], lcn="T3-1")],
        [svc(gen, "J0897", 3000, 1400, 60, [("CO", "45", 1600)], mods=("JZ", "JW"), lcn="T4-1")],
    ]
    result = run(x12, gen, store, claims, svcs)
    dropped = {r["patient_control_number"]: r for r in rows(result, "modifier_dropped")}
    assert dropped["T1"]["expected"] and dropped["T1"]["dollar_effect"] == 0 and dropped["T1"]["basis"] == "no payment effect"
    assert dropped["T2"]["expected"] and "JG was terminated on 2024-12-31" in dropped["T2"]["basis"]
    assert not dropped["T3"]["expected"] and dropped["T3"]["dollar_effect"] == D("3000.00")
    (added,) = rows(result, "modifier_added")
    assert added["patient_control_number"] == "T4" and added["adjudicated"] == "J0897:JZ:JW" and added["expected"]


def test_units_cut_that_the_ndc_supports_is_disputed_and_priced_at_the_paid_rate(x12, gen, store):
    c = claim(gen, [line(gen, "J9271", 200, 19294, ndc="00006-3026-02", qty=2)], payer="CI")
    s = svc(gen, "J9271", 19294, 4800, 100, [("CO", "151", 9647), ("CO", "45", 4847)], rarcs=["N362"], orig_units=200)
    (f,) = rows(run(x12, gen, store, [c], [[s]], payer="CI"), "units_cut")
    assert (f["units_billed"], f["units_paid"]) == (D("200.000"), D("100.000"))
    assert f["dollar_effect"] == D("4800.00")  # 100 units cut x 48.00 paid per unit
    assert not f["expected"] and "supports the billed units" in f["basis"]


def test_units_beyond_what_the_ndc_quantity_supports_are_an_expected_cut_worth_nothing(x12, gen, store):
    c = claim(gen, [line(gen, "J1745", 500, 25000, ndc="57894-0030-01", qty=5)], payer="CI")
    s = svc(gen, "J1745", 25000, 1500, 50, [("CO", "151", 22500), ("CO", "45", 1000)])
    (f,) = rows(run(x12, gen, store, [c], [[s]], payer="CI"), "units_cut")
    assert f["expected"] and f["dollar_effect"] == 0
    assert "supports 50.0" in f["basis"]


def test_ndc_changed_within_the_same_code_is_expected(x12, gen, store):
    c = claim(gen, [line(gen, "J0897", 60, 3000)], payer="MC")
    s = svc(gen, "55513071021", 3000, 1762.80, 60, [("CO", "45", 1237.20)], mods=(), qualifier="N4",
            orig=("J0897", ["JZ"]))
    result = run(x12, gen, store, [c], [[s]], payer="MC")
    (f,) = rows(result, "ndc_changed")
    assert (f["submitted"], f["adjudicated"]) == ("NDC 55513071001", "NDC 55513071021")
    assert f["expected"] and f["dollar_effect"] == 0 and "both NDCs crosswalk to J0897" in f["basis"]
    assert rows(result, "code_changed") == [] and rows(result, "modifier_dropped") == []


@pytest.mark.parametrize("lcn", ["T1-1", None])
def test_line_split_is_one_finding_and_no_unit_cut(x12, gen, store, lcn):
    c = claim(gen, [line(gen, "J9271", 200, 19294, ndc="00006-3026-02", qty=2, lcn=lcn)], payer="CI")
    parts = [svc(gen, "J9271", 9647, 6000, 100, [("CO", "45", 3647)], lcn=lcn, orig=("J9271", ["JZ"])) for _ in range(2)]
    result = run(x12, gen, store, [c], [parts], payer="CI")
    (f,) = rows(result, "line_split")
    assert f["adjudicated"].startswith("2 SVC lines, 200.0 units")
    assert rows(result, "units_cut") == [] and result.unmatched.num_rows == (0 if lcn else 1)


def test_bundled_saline_is_expected_and_priced_at_its_asp_limit(x12, gen, store):
    c = claim(gen, [line(gen, "J0897", 60, 3000), line(gen, "J7050", 2, 20, ndc="00264-5802-10", qty=1, lcn="T1-2")],
              payer="CI")
    s = [svc(gen, "J0897", 3000, 1800, 60, [("CO", "45", 1200)]),
         svc(gen, "J7050", 20, 0, 2, [("CO", "97", 20)], lcn="T1-2")]
    (f,) = rows(run(x12, gen, store, [c], [s], payer="CI"), "line_bundled")
    assert f["procedure_code"] == "J7050" and f["expected"]
    assert f["dollar_effect"] == D("1.30")  # 0.649 x 2


def test_line_not_adjudicated_and_unbalanced_amounts(x12, gen, store):
    c = claim(gen, [line(gen, "J0897", 60, 3000), line(gen, "J0897", 60, 3000, lcn="T1-2")], payer="CI")
    # line 1: 3000 - 900 = 2100 but SVC03 says 2000; line 2 never reported; CLP04 25.00 short of the lines
    s = [svc(gen, "J0897", 3000, 2000, 60, [("CO", "45", 900)])]
    result = run(x12, gen, store, [c], [s], payer="CI", override=D("1975.00"))
    (missing,) = rows(result, "line_not_adjudicated")
    assert missing["line_number"] == 2 and missing["dollar_effect"] == D("3000.00") and not missing["expected"]
    (line_u,) = rows(result, "line_adjustments_unbalanced")
    assert line_u["dollar_effect"] == D("100.00")
    (claim_u,) = rows(result, "claim_adjustments_unbalanced")
    assert claim_u["dollar_effect"] == D("25.00") and not claim_u["expected"]


def test_reversals_are_not_compared(x12, gen, store):
    c = claim(gen, [line(gen, "J0897", 60, 3000)])
    s = [svc(gen, "J0897", -3000, -1400, 50, [("CO", "45", -1600)], mods=())]
    remit = gen.Remit(c, "22", "ICN9", s)
    batch, remits = x12([c], [remit])
    assert adjudication_diff(batch, remits, store=store).findings.num_rows == 0


def test_history_every_payer_behaviour_is_found_and_summarized(history, store):
    claims, remits = history
    result = adjudication_diff(claims, remits, store=store)
    kinds = set(result.findings["kind"].to_pylist())
    assert {"code_changed", "modifier_dropped", "modifier_added", "units_cut", "ndc_changed", "line_split",
            "line_bundled", "claim_adjustments_unbalanced"} <= kinds
    cuts = [r for r in result.by_payer.to_pylist() if r["kind"] == "units_cut" and r["procedure_code"] == "J9271"]
    (acme,) = cuts
    assert acme["payer_name"] == "ACME HEALTH PLAN"
    # the share is the payer's own count: J9271 lines ACME answered vs those it cut
    cut_lines = [r for r in rows(result, "units_cut") if r["procedure_code"] == "J9271"]
    assert acme["lines_affected"] == len(cut_lines) and acme["share"] == pytest.approx(len(cut_lines) / acme["lines_compared"])
    assert acme["summary"].startswith(f"ACME HEALTH PLAN cuts units on {acme['share']:.0%} of J9271 lines")
    assert acme["dollars_disputable"] == sum(r["dollar_effect"] for r in cut_lines if not r["expected"]) > 0
    # no patient data in what the web page or worklist would show
    text = " ".join(str(v) for r in result.findings.to_pylist() for v in r.values())
    assert "TESTPATIENT" not in text and not any(m in text for m in claims["claims"]["patient_id"].to_pylist())


def test_for_claim_and_without_a_store(history):
    claims, remits = history
    result = adjudication_diff(claims, remits)
    assert result.notes and "no reference store" in result.notes[0]
    some = result.findings["claim_id"][0].as_py()
    assert set(result.for_claim(some)["claim_id"].to_pylist()) == {some}
    # without prices the code changes are still found, with an unknown dollar effect
    changed = rows(result, "code_changed")
    assert changed and all(r["dollar_effect"] is None for r in changed)

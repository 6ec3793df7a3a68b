"""Matching remittance claims and lines to the submitted claims, and reporting what is left."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from reclaim.claims.model import ClaimBatch
from reclaim.recovery import recover


def _methods(result, remits):
    rc = {r["remit_claim_id"]: r["patient_control_number"] for r in remits["remit_claims"].to_pylist()}
    return rc, {(rc[m["remit_claim_id"]], m["claim_method"]) for m in result.claim_match.to_pylist()}


def test_claims_match_by_clm01_and_by_fallback(result, remits, claims):
    rc, methods = _methods(result, remits)
    assert ("RC1001", "clm01+charge+frequency") in methods
    # the payer mistyped CLP01 (letter O): matched on member id + DOS + code + charge
    assert ("RC1O09", "patient+dos+code+charge") in methods
    matched = {m["remit_claim_id"]: m["claim_id"] for m in result.claim_match.to_pylist()}
    clm01 = {c["claim_id"]: c["patient_control_number"] for c in claims["claims"].to_pylist()}
    assert clm01[matched[next(k for k, v in rc.items() if v == "RC1O09")]] == "RC1009"
    # the reversal and the re-adjudication of RC1007 both point at the one submitted claim
    ids = [k for k, v in rc.items() if v == "RC1007"]
    assert len(ids) == 2 and len({matched[i] for i in ids}) == 1


def test_unmatched_remit_claim_is_reported(result):
    rows = result.unmatched.to_pylist()
    assert [(r["patient_control_number"], r["level"]) for r in rows] == [("RC9999", "claim")]
    assert "CLM01" in rows[0]["reason"]


def test_lines_match_by_ref_6r_then_code_dos_charge(result, remits):
    rc = {r["remit_claim_id"]: r["patient_control_number"] for r in remits["remit_claims"].to_pylist()}
    methods = {(rc[m["remit_claim_id"]], m["line_method"]) for m in result.line_match.to_pylist()}
    assert ("RC1001", "line_control_number") in methods
    assert ("RC1O09", "code+dos+charge") in methods  # that remit line has no REF*6R
    # every remit line of a matched claim found its submitted line
    matched_claims = set(result.claim_match["remit_claim_id"].to_pylist())
    lines = [r for r in remits["remit_lines"].to_pylist() if r["remit_claim_id"] in matched_claims]
    assert result.line_match.num_rows == len(lines)


def test_a_missing_submitted_line_is_reported(remits, claims, store):
    # drop RC1002's line from the submitted claims: the claim still matches, its line does not
    rc1002 = [c["claim_id"] for c in claims["claims"].to_pylist() if c["patient_control_number"] == "RC1002"][0]
    tables = dict(claims.tables)
    tables["lines"] = claims["lines"].filter(pc.not_equal(claims["lines"]["claim_id"], rc1002))
    result = recover(remits, ClaimBatch(tables=tables), store=store, run_edits=False)
    lines = [r for r in result.unmatched.to_pylist() if r["level"] == "line"]
    assert [(r["patient_control_number"], r["procedure_code"]) for r in lines] == [("RC1002", "J0897")]


def test_duplicate_lines_pair_up_one_to_one(remits, claims, store):
    # the same claim submitted with its line twice and paid twice: each remit line gets its own line
    rc1001 = [c["claim_id"] for c in claims["claims"].to_pylist() if c["patient_control_number"] == "RC1001"][0]
    lines = claims["lines"].filter(pc.equal(claims["lines"]["claim_id"], rc1001))
    second = lines.set_column(lines.schema.get_field_index("line_number"), "line_number",
                              pa.array([2], pa.int32())).set_column(
        lines.schema.get_field_index("line_control_number"), "line_control_number", pa.array([None], pa.string()))
    tables = dict(claims.tables)
    tables["lines"] = pa.concat_tables([claims["lines"], second])
    r_lines = remits["remit_lines"]
    rid = [r["remit_claim_id"] for r in remits["remit_claims"].to_pylist() if r["patient_control_number"] == "RC1001"][0]
    extra = r_lines.filter(pc.equal(r_lines["remit_claim_id"], rid))
    extra = extra.set_column(extra.schema.get_field_index("line_index"), "line_index", pa.array([2], pa.int32())) \
                 .set_column(extra.schema.get_field_index("line_control_number"), "line_control_number", pa.array([None], pa.string()))
    rtables = dict(remits.tables)
    rtables["remit_lines"] = pa.concat_tables([r_lines, extra])
    from reclaim.claims.model import RemitBatch

    result = recover(RemitBatch(tables=rtables), ClaimBatch(tables=tables), store=store, run_edits=False)
    pairs = {(m["line_index"], m["line_number"]) for m in result.line_match.to_pylist() if m["remit_claim_id"] == rid}
    assert pairs == {(1, 1), (2, 2)}

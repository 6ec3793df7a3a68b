"""Every real sample in ../shared/x12-samples, against what LIST.csv says it holds.

LIST.csv was written from the files by hand (by whoever collected them), independently of this
reader: claim counts, CLP statuses and denials, CAS group-reason pairs, RARCs, drug HCPCS codes,
NDC LIN/CTP counts and segment counts."""

from __future__ import annotations

import csv
import re
from decimal import Decimal

import pyarrow.compute as pc
import pytest

from reclaim.claims.x12 import read_835, read_837, sniff
from reclaim.claims.x12.tokenizer import SEGMENT_CODE, X12Tokenizer
from reclaim.errors import InputFormatError


def _samples():
    from tests.conftest import _shared  # noqa: F401  (fails, never skips, without ../shared)

    path = _shared() / "x12-samples" / "LIST.csv"
    with path.open() as fh:
        return list(csv.DictReader(fh))


SAMPLES = _samples()


def _kind(row: dict) -> str:
    """The reader's kind of a sample: LIST.csv says 837P/837I, or "837" with the TR3 version
    (X222 professional, X223 institutional); 835, 999, 276, 277 as they are."""
    kind, _, version = row["type"].partition(" ")
    if kind == "837":
        return "837I" if "X223" in version else "837P"
    return kind


def _expect(notes: str) -> dict:
    """What a sample holds, from its LIST.csv notes (two hand-written styles: "1 CLM claims; drug
    HCPCS J1550; 35 segments" and "segs=35; CLM=1; J-codes=J1550; CAS=CO-131 PR-3")."""
    out: dict = {}
    if m := re.search(r"\b(?:CLM|CLP)=(\d+)", notes):
        out["claims"] = int(m.group(1))
    if m := re.search(r"\bsegs=(\d+)", notes):
        out["segments"] = int(m.group(1))
    if m := re.search(r"\bCAS=((?:[A-Z]{2}-[A-Z0-9]+ ?)+)", notes):
        out["cas"] = set(m.group(1).split())
    if m := re.search(r"\bRARC=((?:[A-Z]+\d+ ?)+)", notes):
        out["rarc"] = set(m.group(1).split())
    if m := re.search(r"\bJ-codes=((?:[A-Z]\d{4} ?)+)", notes):
        out["drugs"] = set(m.group(1).split())
    if m := re.search(r"LIN\*N4=(\d+) CTP=(\d+)", notes):
        out["lin"], out["ctp"] = int(m.group(1)), int(m.group(2))
    if m := re.search(r"CLP02=4 count=(\d+)", notes):
        out["denied"] = int(m.group(1))
    if m := re.search(r"CLP02=\{([^}]*)\}", notes):
        out["statuses"] = set(re.findall(r"'(\w+)'", m.group(1)))
    if m := re.search(r"(\d+) (CLM|CLP) claims", notes):
        out["claims"] = int(m.group(1))
    if m := re.search(r"\((\d+) CLP02=4 denied; statuses ([\d ]+)\)", notes):
        out["denied"] = int(m.group(1))
        out["statuses"] = set(m.group(2).split())
    if m := re.search(r"CAS ((?:[A-Z]{2}-[A-Z0-9]+ ?)+)", notes):
        out["cas"] = set(m.group(1).split())
    if m := re.search(r"RARC ((?:[A-Z]+\d+ ?)+)", notes):
        out["rarc"] = set(m.group(1).split())
    if m := re.search(r"drug HCPCS ((?:[A-Z]\d{4} ?)+)", notes):
        out["drugs"] = set(m.group(1).split())
    if m := re.search(r"NDC LIN\*N4 x(\d+) CTP x(\d+)", notes):
        out["lin"], out["ctp"] = int(m.group(1)), int(m.group(2))
    if m := re.search(r"(\d+) segments", notes):
        out["segments"] = int(m.group(1))
    return out


def _raw_cas(path) -> set[str]:
    """Group-reason pairs of every CAS segment, straight from the tokenizer (837 COB loops)."""
    found = set()
    for block in X12Tokenizer(path).blocks():
        rows = block.rows("CAS")
        groups = block.element(rows, 1).to_pylist()
        for t in range(6):
            for g, r in zip(groups, block.element(rows, 2 + 3 * t).to_pylist()):
                if r:
                    found.add(f"{g}-{r}")
    return found


#: the claim and remittance samples; the acknowledgments and claim status files (999, 276, 277)
#: are read by their own readers and checked against the same list in tests/acks
CLAIM_SAMPLES = [r for r in SAMPLES if _kind(r) in ("835", "837P", "837I")]


@pytest.mark.parametrize("row", CLAIM_SAMPLES, ids=[r["file"] for r in CLAIM_SAMPLES])
def test_sample_matches_list(row, x12_samples):
    path = x12_samples / row["file"]
    kind = _kind(row)
    expect = _expect(row["notes"])
    assert sniff(path) == kind
    if kind == "835":
        batch = read_835(path)
        claims = batch["remit_claims"]
        statuses = claims["claim_status"].to_pylist()
        if "denied" in expect:
            assert statuses.count("4") == expect["denied"]
        if "statuses" in expect:
            assert set(statuses) == expect["statuses"]
        if "cas" in expect:
            adj = batch["adjustments"]
            pairs = {f"{g}-{r}" for g, r in zip(adj["group_code"].to_pylist(), adj["reason_code"].to_pylist())}
            assert pairs == expect["cas"]
        if "rarc" in expect:
            assert set(batch["remarks"]["code"].to_pylist()) == expect["rarc"]
    else:
        batch = read_837(path)
        claims = batch["claims"]
        lines = batch["lines"]
        assert set(claims["claim_type"].to_pylist()) == {"professional" if kind == "837P" else "institutional"}
        if "drugs" in expect:
            codes = set(lines["procedure_code"].to_pylist())
            assert expect["drugs"] <= codes
        if "lin" in expect:
            assert pc.sum(pc.equal(lines["ndc_qualifier"], "N4")).as_py() == expect["lin"]
            assert lines["ndc_quantity"].drop_null().__len__() == expect["ctp"]
        if "cas" in expect:  # 837 CAS live in COB loops 2320/2430: present in the file, never read as ours
            assert _raw_cas(path) == expect["cas"]
    if "claims" in expect:
        assert len(claims) == expect["claims"]
    if "segments" in expect:
        tk = X12Tokenizer(path)
        assert sum(len(b) for b in tk.blocks()) == expect["segments"]
    # every row carries its file; no claim without an id
    assert claims["claim_id" if kind != "835" else "remit_claim_id"].null_count == 0
    assert len(batch["files"]) == 1


def test_blue_cross_without_envelope_is_read_with_a_warning(x12_samples):
    """No ISA/GS: the documented fallback reads the bare ST..SE with delimiters taken from ST."""
    batch = read_835(x12_samples / "edi-835-parser__blue_cross_nc_sample.txt")
    issues = batch["read_issues"]
    codes = issues["code"].to_pylist()
    assert "X12-NO-ENVELOPE" in codes
    assert "X12-SE-COUNT" in codes  # SE01 says 33, the transaction has 32 segments
    assert batch["remit_claims"]["patient_control_number"].to_pylist() == ["200200964A52"]
    assert batch["transactions"]["interchange_control"].to_pylist() == [None]
    assert batch["payments"]["payment_amount"].to_pylist() == [Decimal("1922.86")]
    assert len(batch["remit_lines"]) == 3
    # claim balances: 2100 - (34.60 + 117.54 + 25) = 1922.86
    assert not any(c.startswith("X12-BALANCE") for c in codes)


def test_segment_errors_sample(x12_samples):
    """x12_segment_errors: SE01 says 25 (the transaction has 23), and the claim has no HI."""
    batch = read_837(x12_samples / "x12-parser__x12_segment_errors.txt")
    issues = batch["read_issues"].to_pylist()
    se = [i for i in issues if i["code"] == "X12-SE-COUNT"]
    assert len(se) == 1 and se[0]["segment_index"] == 25 and "23" in se[0]["message"]
    hi = [i for i in issues if i["code"] == "X12-MISSING-SEGMENT" and i["column"] == "HI"]
    assert [i["claim_key"] for i in hi] == ["A37YH556"]
    # the billing address has no N3 in this file: the address is what N4 gives, nothing invented
    assert batch["claims"]["billing_address"].to_pylist() == ["CALVERTON, MD, 20705"]


def test_missing_elements_sample(x12_samples):
    """x12_missing_elements: NM1*40 lacks NM102 (not used by us) and the second CLM has no CLM05."""
    batch = read_837(x12_samples / "x12-parser__x12_missing_elements.txt")
    claims = batch["claims"].to_pylist()
    assert [c["place_of_service"] for c in claims] == ["11", None]
    assert [c["frequency_code"] for c in claims] == ["1", None]
    codes = batch["read_issues"]["code"].to_pylist()
    assert "X12-SE-COUNT" in codes
    hi = [i for i in batch["read_issues"].to_pylist() if i["segment_id"] == "HI" and i["code"] == "X12-BAD-VALUE"]
    assert len(hi) == 2  # HI*BK*8901*BF*87200*...: BK and 8901 are not qualifier:code composites


def test_bad_valid_code_sample(x12_samples):
    """x12_bad_valid_code: billing provider NM1*117 (not 85) and a 6-character procedure code."""
    batch = read_837(x12_samples / "x12-parser__x12_bad_valid_code.txt")
    assert batch["claims"]["billing_npi"].to_pylist() == [None, None]
    issues = batch["read_issues"].to_pylist()
    assert sum(1 for i in issues if i["loop"] == "2010AA") == 2
    # codes are passed through as given: validity is the edit catalog's job, not the reader's
    assert "478331" in batch["lines"]["procedure_code"].to_pylist()


def test_wrong_kind_raises_clear_error(x12_samples):
    with pytest.raises(InputFormatError, match="not 837"):
        read_837(x12_samples / "x12__managed-care.835")
    with pytest.raises(InputFormatError, match="not 835"):
        read_835(x12_samples / "x12__demo.example1.837")


def test_segment_vocabulary_covers_samples(x12_samples):
    """Every segment id in the samples is known (no UNLISTED warnings on real files)."""
    for row in SAMPLES:
        for block in X12Tokenizer(x12_samples / row["file"]).blocks():
            assert (block.sid >= 0).all(), row["file"]
    assert "CLM" in SEGMENT_CODE

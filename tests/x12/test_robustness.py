"""Bad input: every problem is a read_issues row naming the place, the reader goes on, and only
a file that cannot be read at all raises InputFormatError. Property-based tests (hypothesis)
feed arbitrary bytes, truncations and mutations of the real samples."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reclaim.claims.model import CLAIM_TABLES, REMIT_TABLES
from reclaim.claims.x12 import read_835, read_837, sniff
from reclaim.claims.x12.tokenizer import X12Tokenizer
from reclaim.errors import InputFormatError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"
DRUG = (FIXTURES / "drug-claims.837p").read_bytes()
PAYMENTS = (FIXTURES / "payments.835").read_bytes()


def _codes(batch) -> list[str]:
    return batch["read_issues"]["code"].to_pylist()


# ----------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("name", ["x12-parser__x12_many_claims.txt", "x12-parser__x12_multiple_transactions.txt",
                                  "x12-parser__x12_complex.txt"])
def test_small_blocks_give_identical_tables(name, x12_samples):
    """Loops straddling block boundaries are carried over: 1 KB blocks == one big block."""
    path = x12_samples / name
    big = read_837(path)
    small = read_837(path, block_size=1024)
    for table in CLAIM_TABLES:
        if table == "read_issues":  # streamed: an issue comes in the batch of its claim, not file order
            assert _sorted(small[table]).equals(_sorted(big[table])), table
        else:
            assert small[table].equals(big[table]), table


def _sorted(t):
    return t.sort_by([(c, "ascending") for c in t.column_names])


def test_small_blocks_835(x12_samples):
    data = PAYMENTS * 3
    assert read_835(data, block_size=1024)["remit_lines"].equals(read_835(data)["remit_lines"])


def test_byte_offsets_point_at_segments(x12_samples):
    path = x12_samples / "x12-parser__x12_complex.txt"
    raw = path.read_bytes()
    for issue in read_837(path)["read_issues"].to_pylist():
        if issue["byte_offset"] is not None and issue["segment_id"] in ("SE", "HI", "GE"):
            assert raw[issue["byte_offset"]:issue["byte_offset"] + 2] == issue["segment_id"][:2].encode()


def test_segment_numbers_and_offsets_across_blocks(x12_samples):
    raw = (x12_samples / "x12-parser__x12_many_claims.txt").read_bytes()
    tk = X12Tokenizer(raw, block_size=4096)
    seen = 0
    for block in tk.blocks():
        assert block.index[0] == seen + 1
        seen = int(block.index[-1])
        ids = block.element(block.rows("CLM"), 0).to_pylist()
        for off, sid in zip(block.offset[block.rows("CLM")], ids):
            assert raw[off:off + 3] == sid.encode() == b"CLM"
    assert seen == 11490  # LIST.csv


# ----------------------------------------------------------------------------- broken files


def test_truncated_file_keeps_complete_claims():
    cut = DRUG[: DRUG.index(b"LX*2~")]  # inside the second claim
    batch = read_837(cut)
    assert batch["claims"]["patient_control_number"].to_pylist() == ["PCN-0001"]
    issues = {i["code"]: i for i in batch["read_issues"].to_pylist()}
    assert issues["X12-SE-MISSING"]["skipped"] == "claim"
    assert issues["X12-CLAIM-INCOMPLETE"]["claim_key"] == "PCN-0002"
    assert issues["X12-CLAIM-INCOMPLETE"]["skipped"] == "claim"
    assert batch["lines"].num_rows == 1  # the lines of the dropped claim go with it


def test_truncated_mid_segment_is_flagged():
    batch = read_837(DRUG[: DRUG.index(b"IEA") + 6])
    assert "X12-NO-TERMINATOR" in _codes(batch)
    assert batch["claims"].num_rows == 2


def test_bad_values_are_nulls_with_issues():
    raw = DRUG.replace(b"CLM*PCN-0001*1800", b"CLM*PCN-0001*18O0").replace(b"DTP*472*D8*20251103",
                                                                            b"DTP*472*D8*20251332")
    raw = raw.replace(b"DMG*D8*19500101", b"DMG*D8*19501301")
    batch = read_837(raw)
    claim = batch["claims"].to_pylist()[0]
    assert claim["total_charge"] is None and claim["patient_birth_date"] is None
    issues = batch["read_issues"].to_pylist()
    by_col = {i["column"]: i for i in issues}
    assert by_col["CLM02"]["message"] == "CLM02: expected a decimal number, got '18O0'"
    assert by_col["DTP03"]["segment_id"] == "DTP" and by_col["DTP03"]["loop"] == "2400"
    # dates may be birth dates: never echoed
    assert "19501301" not in by_col["DMG02"]["message"]
    assert all("DOE" not in i["message"] and "JANE" not in i["message"] for i in issues)


def test_binary_junk_between_segments():
    raw = DRUG.replace(b"LX*1~", b"\x00\xff\xfe\x80junk!!~LX*1~", 1)
    batch = read_837(raw)
    codes = _codes(batch)
    assert "X12-NOT-TEXT" in codes and "X12-BAD-SEGMENT" in codes
    assert batch["claims"].num_rows == 2 and batch["lines"].num_rows == 4


def test_se_count_and_control_mismatch():
    raw = DRUG.replace(b"SE*75*0001", b"SE*70*0009")
    codes = _codes(read_837(raw))
    assert "X12-SE-COUNT" in codes and "X12-SE-CONTROL" in codes


def test_duplicate_control_numbers_get_unique_keys(x12_samples):
    batch = read_837(x12_samples / "x12-parser__x12_multiple_transactions.txt")
    ids = batch["transactions"]["transaction_id"].to_pylist()
    assert len(ids) == len(set(ids)) > 1
    assert "X12-DUPLICATE-CONTROL" in _codes(batch)
    claim_ids = batch["claims"]["claim_id"].to_pylist()
    assert len(claim_ids) == len(set(claim_ids)) == 624


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"hello,world\n1,2\n", "not an X12 file"),
    (b"ISA*00*", "cut short|not a complete"),
    (b"ISAA00A" + b"x" * 200, "not three distinct|not a complete"),
])
def test_unreadable_files_raise_input_format_error(data, message):
    with pytest.raises(InputFormatError, match=message):
        read_837(data)


@pytest.mark.parametrize("block_size", [1024, 1 << 23])
def test_interchanges_with_other_delimiters_in_one_file(block_size):
    """A file that concatenates interchanges written with other delimiters ('*:~' then '|>~'
    with CRLF): each is read with its own, the segment numbers run on, nothing is reported."""
    other = (FIXTURES / "hospital-claim.837i").read_bytes()
    assert other[3:4] == b"|" and DRUG[3:4] == b"*"
    alone = [read_837(raw) for raw in (DRUG, other)]
    both = read_837(DRUG + other, block_size=block_size)
    assert _codes(both) == []
    assert both["claims"]["patient_control_number"].to_pylist() == sum(
        (b["claims"]["patient_control_number"].to_pylist() for b in alone), [])
    assert both["lines"].num_rows == sum(b["lines"].num_rows for b in alone)
    segments = [t["segment_count"] for b in alone for t in b["transactions"].to_pylist()]
    assert [t["segment_count"] for t in both["transactions"].to_pylist()] == segments


def test_garbled_isa_delimiters():
    raw = DRUG.replace(b"*:~", b"*A~", 1)  # ISA16 component separator becomes a letter
    with pytest.raises(InputFormatError, match="not three distinct non-alphanumeric"):
        read_837(raw)


def test_on_issue_callback_sees_every_issue():
    seen = []
    batch = read_837(DRUG.replace(b"SE*75*0001", b"SE*70*0001"), on_issue=seen.append)
    assert [s["code"] for s in seen] == _codes(batch) == ["X12-SE-COUNT"]


def test_skip_report_is_complete():
    """The caller can tell how many claims were read and skipped, with reasons."""
    cut = DRUG[: DRUG.index(b"LX*2~")]
    batch = read_837(cut)
    skipped = [i for i in batch["read_issues"].to_pylist() if i["skipped"] == "claim" and i["claim_key"]]
    assert (batch["claims"].num_rows, len(skipped)) == (1, 1)


# ----------------------------------------------------------------------------- properties


def _check(data: bytes) -> None:
    sniff(data)
    for reader, tables in ((read_837, CLAIM_TABLES), (read_835, REMIT_TABLES)):
        try:
            batch = reader(data, block_size=1024)
        except InputFormatError as exc:
            assert str(exc)
            continue
        for name, schema in tables.items():
            assert batch[name].schema.equals(schema, check_metadata=False), name
        assert isinstance(batch["read_issues"], pa.Table)


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(data):
    _check(data)


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_after_an_isa(data):
    _check(DRUG[:106] + data)


@SETTINGS
@given(st.sampled_from([DRUG, PAYMENTS, (FIXTURES / "hospital-claim.837i").read_bytes()]), st.data())
def test_truncations(raw, data):
    cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
    _check(raw[:cut])


@SETTINGS
@given(st.sampled_from([DRUG, PAYMENTS, (FIXTURES / "hospital-claim.837i").read_bytes()]),
       st.lists(st.tuples(st.integers(min_value=0, max_value=5000), st.binary(min_size=0, max_size=4)),
                min_size=1, max_size=8))
def test_mutations(raw, edits):
    data = bytearray(raw)
    for pos, replacement in edits:
        pos = pos % (len(data) + 1)
        data[pos:pos + 1] = replacement
    _check(bytes(data))


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.binary(min_size=1, max_size=3))
def test_mutations_of_real_samples(seed, replacement):
    from tests.conftest import _shared

    files = sorted((_shared() / "x12-samples").glob("*"))
    files = [f for f in files if f.suffix not in (".csv", ".md")]
    raw = files[seed % len(files)].read_bytes()
    pos = seed % len(raw)
    _check(raw[:pos] + replacement + raw[pos + 1:])

"""Streaming readers: iter_837 / iter_835 yield one batch per block; concatenated they are
read_837 / read_835 (same keys), a claim is never split across batches, and the pieces of
a claim (lines, diagnoses, adjustments) come in the batch of the claim."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from reclaim.claims.model import CLAIM_TABLES, REMIT_TABLES, ClaimBatch, RemitBatch
from reclaim.claims.x12 import iter_835, iter_837, read_835, read_837, sniff

SMALL_BLOCK = 1024


def _sorted(t: pa.Table) -> pa.Table:
    return t.sort_by([(c, "ascending") for c in t.column_names])


def _assert_same(streamed, whole, names) -> None:
    for name in names:
        a, b = streamed[name], whole[name]
        if name == "read_issues":  # an issue comes with its claim's batch, so not in file order
            a, b = _sorted(a), _sorted(b)
        assert a.equals(b), name


def _assert_claims_whole(batches, claim_table: str, key: str, children: list[str]) -> None:
    seen: set[str] = set()
    for batch in batches:
        ids = set(batch[claim_table][key].to_pylist())
        assert not ids & seen, "a claim came in two batches"
        seen |= ids
        for child in children:
            assert set(batch[child][key].to_pylist()) <= ids, f"{child} rows outside their claim's batch"
    assert len(seen) == sum(len(b[claim_table]) for b in batches)


def _samples(x12_samples, kinds):
    paths = sorted(p for p in x12_samples.iterdir() if p.suffix not in (".csv", ".md"))
    return [p for p in paths if sniff(p) in kinds]


def test_iter_837_equals_read_837_on_every_sample(x12_samples):
    paths = _samples(x12_samples, ("837P", "837I"))
    assert len(paths) >= 10
    for path in paths:
        batches = list(iter_837(path, block_size=SMALL_BLOCK))
        _assert_same(ClaimBatch.concat(batches), read_837(path), CLAIM_TABLES)
        _assert_claims_whole(batches, "claims", "claim_id", ["lines", "diagnoses"])


def test_iter_835_equals_read_835_on_every_sample(x12_samples):
    paths = _samples(x12_samples, ("835",))
    assert len(paths) >= 5
    for path in paths:
        batches = list(iter_835(path, block_size=SMALL_BLOCK))
        _assert_same(RemitBatch.concat(batches), read_835(path), REMIT_TABLES)
        _assert_claims_whole(batches, "remit_claims", "remit_claim_id", ["remit_lines", "adjustments", "remarks"])


@pytest.fixture(scope="module")
def large_837(x12_samples) -> bytes:
    """Two real multi-transaction samples, replicated (control numbers repeat: keys get #n)."""
    one = (x12_samples / "x12-parser__x12_many_claims.txt").read_bytes()
    two = (x12_samples / "x12-parser__x12_multiple_transactions.txt").read_bytes()
    return (one + two) * 4


def test_iter_837_large_input_small_blocks(large_837):
    whole = read_837(large_837)
    batches = list(iter_837(large_837, block_size=64 * 1024))
    assert len(batches) > 20
    assert sum(len(b["claims"]) > 0 for b in batches) > 20  # really streamed, not held to the end
    _assert_same(ClaimBatch.concat(batches), whole, CLAIM_TABLES)
    _assert_claims_whole(batches, "claims", "claim_id", ["lines", "diagnoses"])
    assert pc.count_distinct(whole["claims"]["claim_id"]).as_py() == len(whole["claims"]) > 5000
    assert len(whole["files"]) == 1


def test_iter_835_large_input_small_blocks(x12_samples):
    parts = [(x12_samples / p.name).read_bytes() for p in _samples(x12_samples, ("835",))]
    data = b"".join(parts) * 40
    whole = read_835(data)
    batches = list(iter_835(data, block_size=4096))
    assert len(batches) > 10
    _assert_same(RemitBatch.concat(batches), whole, REMIT_TABLES)
    _assert_claims_whole(batches, "remit_claims", "remit_claim_id", ["remit_lines", "adjustments", "remarks"])
    assert len(whole["payments"]) == len(whole["transactions"]) > 100


def test_on_issue_sees_every_issue_once(large_837):
    rows: list[dict] = []
    batch = read_837(large_837, on_issue=rows.append, block_size=64 * 1024)
    assert len(rows) == len(batch["read_issues"]) > 0


def test_convert_streams_parquet_equal_to_in_memory_read(large_837, x12_samples, tmp_path):
    """claims.io.convert (``reclaim convert``) appends each batch to Parquet: with small blocks
    the files hold exactly what the in-memory read gives."""
    import pyarrow.parquet as pq

    from reclaim.claims.io import convert, read_any, summarize, tables_for_output

    claims_file = tmp_path / "big.837"
    claims_file.write_bytes(large_837)
    remits_file = tmp_path / "big.835"
    remits_file.write_bytes(b"".join(p.read_bytes() for p in _samples(x12_samples, ("835",))) * 20)
    inputs = [claims_file, remits_file, x12_samples / "x12__demo.drug.example10.2.837"]

    summary, written = convert(inputs, tmp_path / "out", "parquet", block_size=32 * 1024)
    claims, remits = read_any(inputs)
    expected = tables_for_output(claims, remits)
    assert {p.stem for p in written} == set(expected)
    for path in written:
        got, want = pq.read_table(path), expected[path.stem]
        if path.stem in ("files", "transactions", "read_issues"):
            # shared tables come in input order when streamed (claims first, then remittances, in memory)
            got, want = _sorted(got), _sorted(want)
        assert got.equals(want), path.stem
    assert summary == summarize(claims, remits)
    assert summary["claims"] > 5000 and summary["remit_claims"] > 100

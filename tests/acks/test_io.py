"""Acknowledgment files through the generic file layer: `convert` writes their tables, readers of
claims or remittances say where they go instead of "unknown type"."""

from __future__ import annotations

import pyarrow.parquet as pq

from reclaim.claims import io as claims_io
from reclaim.claims.x12 import read_ack

from .conftest import FIXTURES


def test_convert_writes_acknowledgment_tables_beside_claims(tmp_path, x12_samples):
    sample = x12_samples / "stupidedi__999-response-to-3-837s.edi"
    files = [FIXTURES / "drug-claims.837p", FIXTURES / "drug-claims.277ca", sample]
    summary, written = claims_io.convert(files, tmp_path, block_size=1024)
    names = {p.name for p in written}
    assert {"claims.parquet", "ack_sets.parquet", "ack_errors.parquet", "status_claims.parquet",
            "claim_statuses.parquet"} <= names
    assert summary["files"] == 3 and summary["claims"] == 2 and summary["errors"] == 0
    assert pq.read_table(tmp_path / "ack_sets.parquet").to_pylist() == read_ack(sample)["ack_sets"].to_pylist()
    assert pq.read_table(tmp_path / "status_claims.parquet").num_rows == 2
    assert pq.read_table(tmp_path / "files.parquet").num_rows == 3
    assert pq.read_table(tmp_path / "transactions.parquet").num_rows == 3  # the 837, the 277CA, the 999


def test_claim_readers_point_acknowledgments_to_recover(x12_samples):
    batch = claims_io.read_claims([x12_samples / "stupidedi__277-claim-status-response.edi"])
    [issue] = batch["read_issues"].to_pylist()
    assert issue["code"] == "IO-ACKNOWLEDGMENT" and issue["skipped"] == "file"
    assert "reclaim recover" in issue["message"]

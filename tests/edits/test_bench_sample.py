"""The speed work keeps every finding: 40,000 synthetic lines of bench/check.py (real codes,
NDCs and prices from the CMS crosswalk and ASP files, one line in eight with an injected
error) give exactly the findings the engine gave before it was optimised.

``bench_sample_findings.json`` holds the count per edit and a sha256 over every finding row
(sorted), recorded with the engine at commit 4b2bcf5 (re-recorded for issue #12: the new `denials` column and fix texts; see the JSON). If an edit's meaning changes on purpose,
record it again and say why in the commit; if only the SQL got faster, it must not move.
Both ways into the engine are checked: files streamed (``check_files`` over the Parquet tables
``reclaim convert`` writes) and Arrow tables in memory (``check``)."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import importlib.util
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from reclaim.claims.model import CLAIM_TABLES, ClaimBatch
from reclaim.edits import check, check_files
from reclaim.policy import load_policies

REPO = Path(__file__).resolve().parents[2]
EXPECTED = json.loads((Path(__file__).parent / "bench_sample_findings.json").read_text())


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_check", REPO / "bench" / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample(ref_store, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bench-sample")
    _bench_module().generate(ref_store.store_path, folder, EXPECTED["lines"])
    return folder


@pytest.fixture(scope="module")
def policies():
    return load_policies(["medicare", "medicaid", str(REPO / "examples/policies/commercial-example.yaml")])


def _digest(table) -> dict:
    rows = table.to_pylist()
    text = "\n".join(sorted(json.dumps(r, default=str, sort_keys=True) for r in rows))
    return {"findings": len(rows), "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "by_code": dict(sorted(collections.Counter(r["code"] for r in rows).items()))}


def _expected() -> dict:
    return {k: EXPECTED[k] for k in ("findings", "sha256", "by_code")}


def test_streamed_parquet_findings_unchanged(sample, store, policies):
    found = check_files([sample], store=store, policies=policies, date_of_check=dt.date.fromisoformat(EXPECTED["date_of_check"]))
    assert found.lines == EXPECTED["lines"] and found.read_issues.num_rows == 0
    assert _digest(found.table) == _expected()
    assert set(found.timings) >= {"input", "line_facts", "edits", "findings"}


def test_in_memory_batch_findings_unchanged(sample, store, policies):
    tables = {name: pq.read_table(sample / f"{name}.parquet").cast(CLAIM_TABLES[name]) for name in ("claims", "lines", "diagnoses", "files")}
    found = check(ClaimBatch(tables=tables), store=store, policies=policies,
                  date_of_check=dt.date.fromisoformat(EXPECTED["date_of_check"]))
    assert _digest(found.table) == _expected()

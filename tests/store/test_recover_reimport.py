"""recover() into the worklist store (SQLite and PostgreSQL): idempotent re-import, and odds
that follow observed outcomes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reclaim.claims.model import ClaimBatch, RemitBatch
from reclaim.claims.x12 import read_835, read_837
from reclaim.recovery import recover
from reclaim.refdata.store import RefStore
from reclaim.store import WorklistStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = dt.date(2025, 12, 15)


@pytest.fixture(scope="module")
def inputs(ref_store):
    remits = RemitBatch.concat([read_835(EXAMPLES / "remits" / "recover-medicare.835")])
    claims = ClaimBatch.concat([read_837(EXAMPLES / "claims" / "recover-medicare.837")])
    with RefStore.open(ref_store) as store:
        yield remits, claims, store


def test_reimporting_the_same_835_changes_nothing(db_url, inputs):
    remits, claims, store = inputs
    first = recover(remits, claims, store=store, db_url=db_url, as_of=AS_OF, run_edits=False)
    assert first.saved == {"inserted": first.items.num_rows, "unchanged": 0}
    before = WorklistStore(db_url).list(status=["new"])
    second = recover(remits, claims, store=store, db_url=db_url, as_of=AS_OF, run_edits=False)
    assert second.saved == {"inserted": 0, "unchanged": first.items.num_rows}
    after = WorklistStore(db_url).list(status=["new"])
    assert before == after
    # the same remittance read from a copy of the file (another file name) is still the same items
    copy = Path(str(db_url).split("///")[-1]).parent / "copy.835" if db_url.startswith("sqlite") else None
    if copy is not None:
        copy.write_bytes((EXAMPLES / "remits" / "recover-medicare.835").read_bytes())
        third = recover(read_835(copy), claims, store=store, db_url=db_url, as_of=AS_OF, run_edits=False)
        assert third.saved["inserted"] == 0


def test_observed_outcomes_change_the_odds(db_url, inputs):
    remits, claims, store = inputs
    first = recover(remits, claims, store=store, db_url=db_url, as_of=AS_OF, run_edits=False)
    wl = WorklistStore(db_url)
    co4 = next(i for i in first.items.to_pylist() if i["reason"] == "CO-4")
    wl.set_status(co4["item_id"], "in_progress")
    wl.set_status(co4["item_id"], "written_off")
    again = recover(remits, claims, store=store, db_url=db_url, as_of=AS_OF, run_edits=False)
    odds = next(i for i in again.items.to_pylist() if i["reason"] == "CO-4")["odds"]
    # (0 recovered + 5 x default) / (1 resolved + 5)
    assert odds == pytest.approx(5 * co4["odds"] / 6)


def test_recovered_dollars_reach_the_summary(db_url, inputs):
    remits, claims, store = inputs
    first = recover(remits, claims, store=store, db_url=db_url, as_of=AS_OF, run_edits=False)
    wl = WorklistStore(db_url)
    item = next(i for i in first.items.to_pylist() if i["kind"] == "underpayment")
    for status in ("in_progress", "submitted"):
        wl.set_status(item["item_id"], status)
    wl.set_status(item["item_id"], "recovered", recovered_amount=100.5)
    again = recover(remits, claims, store=store, db_url=db_url, as_of=AS_OF, run_edits=False)
    rows = again.summary["recovered"].to_pylist()
    assert [(r["procedure_code"], r["kind"], str(r["recovered"])) for r in rows] == [(item["procedure_code"], "underpayment", "100.50")]

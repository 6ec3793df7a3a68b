"""The worklist store on SQLite and PostgreSQL: schema, idempotent import, statuses, history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from reclaim.store import STATUSES, TRANSITIONS, WorklistError, WorklistStore, engine_url


def _items(n: int = 3) -> pa.Table:
    # rows shaped like reclaim.recovery's worklist (ITEM_COLUMNS subset the store reads)
    rows = []
    for i in range(n):
        rows.append({
            "item_id": f"item{i:08d}", "natural_key": f"01112|RC100{i}|25252890001{i}|4|RC100{i}-1|denial|CO-4",
            "priority": 1000.0 - i, "amount": Decimal("2100.00") - i, "kind": "denial", "reason": "CO-4",
            "action": "reopening", "deadline": dt.date(2026, 12, 5), "odds": 0.75,
            "payer_id": "01112", "payer_name": "MEDICARE PART B", "patient_control_number": f"RC100{i}",
            "payer_claim_control_number": f"25252890001{i}", "procedure_code": "J0897",
            "service_date": dt.date(2025, 10, 16), "preventable": True,
            "explanation": "modifier missing", "root_cause": "RC301: JZ missing",
        })
    return pa.Table.from_pylist(rows)


def test_schema_is_created_and_versioned(db_url):
    from reclaim.store import MIGRATIONS

    latest = max(v for v, *_ in MIGRATIONS)
    store = WorklistStore(db_url)
    assert store.version() == latest >= 3  # 3: the per-file reconciliation (recovery_reconciliation)
    # opening again migrates nothing and keeps the version
    assert WorklistStore(db_url).version() == latest


def test_reimport_changes_nothing(db_url):
    store = WorklistStore(db_url)
    assert store.upsert_items(_items()) == {"inserted": 3, "unchanged": 0}
    store.assign("item00000000", "maria")
    assert store.upsert_items(_items()) == {"inserted": 0, "unchanged": 3}
    items = store.list()
    assert [i["id"] for i in items] == ["item00000000", "item00000001", "item00000002"]
    assert items[0]["assignee"] == "maria" and items[0]["status"] == "new"
    assert items[0]["amount"] == Decimal("2100.00")
    # history holds one 'created' event per item, not one per import
    assert [h["field"] for h in store.get("item00000000")["history"]] == ["created", "assignee"]


def test_status_transitions_are_validated_and_recorded(db_url):
    store = WorklistStore(db_url)
    store.upsert_items(_items(1))
    with pytest.raises(WorklistError, match="cannot go from new to recovered"):
        store.set_status("item00000000", "recovered")
    with pytest.raises(WorklistError, match="unknown status"):
        store.set_status("item00000000", "done")
    store.set_status("item00000000", "in_progress", actor="maria")
    store.add_note("item00000000", "reopening requested by phone, ref 88123", actor="maria")
    store.set_status("item00000000", "submitted", actor="maria")
    item = store.set_status("item00000000", "recovered", actor="maria", recovered_amount=1425.09)
    assert item["status"] == "recovered" and item["recovered_amount"] == Decimal("1425.09")
    with pytest.raises(WorklistError, match="final status"):
        store.set_status("item00000000", "in_progress")
    events = [(h["field"], h["old_value"], h["new_value"]) for h in item["history"]]
    assert events == [
        ("created", None, "new"),
        ("status", "new", "in_progress"),
        ("note", None, "reopening requested by phone, ref 88123"),
        ("status", "in_progress", "submitted"),
        ("status", "submitted", "recovered"),
    ]


def test_every_status_is_reachable_and_final_statuses_are_final():
    reachable = {"new"}
    for _ in STATUSES:
        reachable |= {t for s in reachable for t in TRANSITIONS[s]}
    assert reachable == set(STATUSES)
    assert TRANSITIONS["recovered"] == () and TRANSITIONS["written_off"] == ()


def test_filters_and_unknown_item(db_url):
    store = WorklistStore(db_url)
    store.upsert_items(_items())
    store.assign("item00000001", "li")
    assert [i["id"] for i in store.list(assignee="li")] == ["item00000001"]
    assert store.list(status=["submitted"]) == []
    assert len(store.list(payer="MEDICARE PART B", kind="denial", action="reopening")) == 3
    with pytest.raises(WorklistError, match="no worklist item"):
        store.get("nope")


def test_observed_outcomes_count_resolved_items(db_url):
    store = WorklistStore(db_url)
    store.upsert_items(_items())
    for item_id, final in (("item00000000", "recovered"), ("item00000001", "written_off")):
        store.set_status(item_id, "in_progress")
        if final == "recovered":
            store.set_status(item_id, "submitted")
        store.set_status(item_id, final)
    rows = store.observed_outcomes().to_pylist()
    assert rows == [{"payer_id": "01112", "kind": "denial", "reason": "CO-4", "recovered": 1, "resolved": 2}]
    summary = {(r["status"], r["kind"]): r for r in store.summary()}
    assert summary[("recovered", "denial")]["recovered"] == Decimal("2100.00")


def test_postgres_urls_use_psycopg3():
    assert engine_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert engine_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


def test_unreachable_database_is_a_clear_error(tmp_path):
    with pytest.raises(WorklistError, match="cannot open the worklist database"):
        WorklistStore("postgresql://nobody@127.0.0.1:1/none")


def test_a_version_1_database_gets_the_worklist_indexes(db_url):
    """Migration 2 adds the indexes the web's sorts use, and drops the ones web servers of
    version 0.1 made under their own name."""
    from sqlalchemy import create_engine, inspect, text

    from reclaim.store import engine_url, items, history, metadata, schema_version

    engine = create_engine(engine_url(db_url))
    metadata.drop_all(engine)
    with engine.begin() as conn:  # what version 0.1 left: schema 1 plus the web's own index
        for table in (schema_version, items, history):
            table.create(conn)
        conn.execute(schema_version.insert().values(version=1, description="worklist items and history",
                                                    applied_at=dt.datetime(2026, 1, 1)))
        conn.execute(text("CREATE INDEX web_ix_worklist_priority ON worklist_items (priority, amount)"))
    from reclaim.store import MIGRATIONS

    assert WorklistStore(db_url).version() == max(v for v, *_ in MIGRATIONS)
    assert "recovery_reconciliation" in inspect(engine).get_table_names()
    names = {ix["name"] for ix in inspect(engine).get_indexes("worklist_items")}
    assert {"ix_worklist_priority", "ix_worklist_amount", "ix_worklist_deadline", "ix_worklist_status"} <= names
    assert "web_ix_worklist_priority" not in names


def test_an_id_used_by_another_item_is_refused_not_merged(tmp_path):
    """Two different items never share an id: the store refuses the batch instead of keeping one."""
    import pyarrow as pa
    import pytest as _pytest

    from reclaim.store import WorklistError, WorklistStore

    wl = WorklistStore(f"sqlite:///{tmp_path / 'wl.sqlite'}")
    row = {"item_id": "abc123abc123", "natural_key": "A|T1|P1|I1|4|1|1|denial|CO-16", "kind": "denial",
           "amount": 10, "priority": 1.0}
    assert wl.upsert_items(pa.Table.from_pylist([row])) == {"inserted": 1, "unchanged": 0}
    with _pytest.raises(WorklistError, match="already used by another item"):
        wl.upsert_items(pa.Table.from_pylist([{**row, "natural_key": "A|T1|P1|I1|4|2|1|denial|CO-16"}]))
    with _pytest.raises(WorklistError, match="share the id"):
        wl.upsert_items(pa.Table.from_pylist([{**row, "item_id": "f" * 12, "natural_key": "x"},
                                              {**row, "item_id": "f" * 12, "natural_key": "y"}]))
    assert len(wl.list()) == 1

"""Worklist persistence: items, their status, assignee, notes and history (SQLAlchemy 2.x).

SQLite by default (the ``database_url`` setting: a file in reclaim's home), PostgreSQL for a
team (``postgresql://user@host/db``, driver psycopg 3). The schema is created and migrated in
code: ``schema_version`` records each applied step of :data:`MIGRATIONS`.

Items are keyed by a natural key (payer, payment trace, CLP01, CLP07, CLP02 and occurrence, line,
kind, adjustment; see :data:`reclaim.recovery.worklist.NATURAL_KEY_PARTS`), so re-importing the
same 835 changes nothing; an id already used by another natural key is refused, never merged. Statuses follow
:data:`TRANSITIONS`; every change (status, assignee, note) is a row in ``item_history``.
Item rows hold claim identifiers the user already has (CLM01, payer claim number) and no
patient names, birth dates or member ids.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Iterable

import pyarrow as pa
from sqlalchemy import (
    Boolean, Column, Date, DateTime, Float, ForeignKey, Integer, MetaData, Numeric, String, Table, Text,
    create_engine, func, insert, select, text, update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError

from ..errors import ReclaimError

STATUSES = ("new", "in_progress", "submitted", "recovered", "written_off")
#: allowed status changes; recovered and written_off are final
TRANSITIONS = {
    "new": ("in_progress", "written_off"),
    "in_progress": ("submitted", "written_off", "new"),
    "submitted": ("recovered", "written_off", "in_progress"),
    "recovered": (),
    "written_off": (),
}

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)

items = Table(
    "worklist_items", metadata,
    Column("id", String(12), primary_key=True),
    Column("natural_key", String(400), nullable=False, unique=True),
    Column("status", String(20), nullable=False, default="new"),
    Column("assignee", String(100)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("reason", String(200)),
    Column("amount", Numeric(18, 2), nullable=False),
    Column("recovered_amount", Numeric(18, 2)),
    Column("priority", Float, nullable=False),
    Column("odds", Float),
    Column("action", String(40)),
    Column("deadline", Date),
    Column("payer_id", String(80)),
    Column("payer_name", String(200)),
    Column("patient_control_number", String(80)),
    Column("payer_claim_control_number", String(80)),
    Column("procedure_code", String(20)),
    Column("service_date", Date),
    Column("preventable", Boolean),
    Column("explanation", Text),
    Column("root_cause", Text),
    #: the full worklist row as JSON (letters and exports are rebuilt from it)
    Column("data", Text, nullable=False),
)

history = Table(
    "item_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(12), ForeignKey("worklist_items.id"), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(100)),
    Column("field", String(40), nullable=False),  # created, status, assignee, note, recovered_amount
    Column("old_value", Text),
    Column("new_value", Text),
)

#: what each remittance file held and where its dollars went (reclaim.recovery.reconcile), as
#: the last ``recover`` that read it stored it: from the command line or a web upload alike
reconciliation = Table(
    "recovery_reconciliation", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_sha256", String(64), nullable=False, index=True),
    Column("file", String(500), nullable=False),
    Column("payer", String(200), nullable=False),
    Column("section", String(20), nullable=False),
    Column("item", String(300), nullable=False),
    Column("claims", Integer, nullable=False),
    Column("amount", Numeric(18, 2), nullable=False),
    Column("source", String(100)),
    Column("saved_at", DateTime, nullable=False),
)

#: worklist columns the web filters, sorts and facets on (rows carry a large JSON column, so a
#: page must not scan them all); each index ends with a second column for stable sorting
_SORTED_COLUMNS = ("priority", "amount", "deadline", "payer_name", "kind", "assignee", "status", "procedure_code")

#: (version, description, tables created by that step, SQL statements run after them)
MIGRATIONS = [
    (1, "worklist items and history", (items, history), ()),
    (2, "indexes for the worklist's filters and sorts", (), tuple(
        stmt for column in _SORTED_COLUMNS for stmt in (
            # version 0.1 web servers made these under another name
            f"DROP INDEX IF EXISTS web_ix_worklist_{column}",
            f"CREATE INDEX IF NOT EXISTS ix_worklist_{column} ON worklist_items "
            f"({column}, {'id' if column == 'amount' else 'amount'})"))),
    (3, "reconciliation of each remittance file with its dollars' dispositions", (reconciliation,), ()),
    # the web's worklist pages are keyset pages ordered by (sort column, id), the default sort
    # within the common filters; an upload's items are found by the actor of their history
    (6, "keyset indexes for the web worklist's pages; history by actor", (), (
        "CREATE INDEX IF NOT EXISTS ix_worklist_priority_id ON worklist_items (priority, id)",
        "CREATE INDEX IF NOT EXISTS ix_worklist_status_priority ON worklist_items (status, priority, id)",
        "CREATE INDEX IF NOT EXISTS ix_worklist_assignee_priority ON worklist_items (assignee, priority, id)",
        "CREATE INDEX IF NOT EXISTS ix_worklist_kind_priority ON worklist_items (kind, priority, id)",
        "CREATE INDEX IF NOT EXISTS ix_item_history_actor ON item_history (actor, field)",
    )),
    # the web's worklist search: prefix ranges of claim numbers, ICNs and reasons
    (7, "indexes for the web worklist's search", (), (
        "CREATE INDEX IF NOT EXISTS ix_worklist_pcn ON worklist_items (patient_control_number)",
        "CREATE INDEX IF NOT EXISTS ix_worklist_icn ON worklist_items (payer_claim_control_number)",
        "CREATE INDEX IF NOT EXISTS ix_worklist_reason ON worklist_items (reason)",
    )),
    # the web worklist's commonest filter (status) sorted by amount or deadline, ties by id:
    # read in order from the index instead of sorting every open item
    (8, "indexes for the web worklist's status filter sorted by amount or deadline", (), (
        "CREATE INDEX IF NOT EXISTS ix_worklist_status_amount_id ON worklist_items (status, amount, id)",
        "CREATE INDEX IF NOT EXISTS ix_worklist_status_deadline_id ON worklist_items (status, deadline, id)",
    )),
]


class WorklistError(ReclaimError):
    """A worklist operation was refused (unknown item, invalid status change...)."""


def engine_url(url: str) -> str:
    """``postgresql://`` -> ``postgresql+psycopg://`` (psycopg 3); other URLs unchanged."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


class WorklistStore:
    """The worklist database. ``WorklistStore(url)`` creates or migrates the schema."""

    def __init__(self, url: str, *, engine: Engine | None = None):
        self.url = url
        try:
            self.engine = engine or create_engine(engine_url(url), future=True)
        except (ArgumentError, ImportError) as exc:
            raise WorklistError(f"worklist database URL not usable: {exc}",
                                hint="Use sqlite:///path/file.sqlite or postgresql://user@host/db") from None
        if self.engine.dialect.name == "sqlite":
            path = self.engine.url.database
            if path and path != ":memory:":
                import pathlib

                pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.migrate()
        except OperationalError as exc:
            raise WorklistError(f"cannot open the worklist database ({self.engine.url.render_as_string(hide_password=True)}): "
                                f"{str(exc.orig).strip().splitlines()[0]}") from None

    # -- schema -----------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply missing migrations; return the schema version."""
        schema_version.create(self.engine, checkfirst=True)
        with self.engine.begin() as conn:
            done = {r[0] for r in conn.execute(select(schema_version.c.version))}
            for version, description, tables, statements in MIGRATIONS:
                if version in done:
                    continue
                for table in tables:
                    table.create(conn, checkfirst=True)
                for statement in statements:
                    conn.execute(text(statement))
                conn.execute(insert(schema_version).values(version=version, description=description, applied_at=_now()))
            return max(done | {v for v, *_ in MIGRATIONS})

    def version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(schema_version.c.version))).scalar_one()

    # -- import -----------------------------------------------------------------------------
    def upsert_items(self, table: pa.Table, *, actor: str = "reclaim recover") -> dict[str, int]:
        """Insert worklist rows whose natural key is new; known keys are left as they are
        (status, notes and history belong to the people working them)."""
        rows = table.to_pylist()
        keys = [r["natural_key"] for r in rows]
        now = _now()
        with self.engine.begin() as conn:
            known: set[str] = set()
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                known |= {r[0] for r in conn.execute(select(items.c.natural_key).where(items.c.natural_key.in_(chunk)))}
            new = [r for r in rows if r["natural_key"] not in known]
            self._refuse_id_collisions(conn, new)
            seen: set[str] = set()
            values, events = [], []
            for r in new:
                if r["natural_key"] in seen:
                    continue
                seen.add(r["natural_key"])
                values.append({
                    "id": r["item_id"], "natural_key": r["natural_key"], "status": "new", "assignee": None,
                    "created_at": now, "updated_at": now, "kind": r["kind"], "reason": r.get("reason"),
                    "amount": r["amount"], "priority": float(r["priority"] or 0), "odds": r.get("odds"),
                    "action": r.get("action"), "deadline": r.get("deadline"), "payer_id": r.get("payer_id"),
                    "payer_name": r.get("payer_name"), "patient_control_number": r.get("patient_control_number"),
                    "payer_claim_control_number": r.get("payer_claim_control_number"),
                    "procedure_code": r.get("procedure_code"), "service_date": r.get("service_date"),
                    "preventable": r.get("preventable"), "explanation": r.get("explanation"),
                    "root_cause": r.get("root_cause"),
                    "data": json.dumps({k: _jsonable(v) for k, v in r.items()}, sort_keys=True),
                })
                events.append({"item_id": r["item_id"], "at": now, "actor": actor, "field": "created",
                               "old_value": None, "new_value": "new"})
            if values:
                conn.execute(insert(items), values)
                conn.execute(insert(history), events)
        return {"inserted": len(values), "unchanged": len(rows) - len(values)}

    @staticmethod
    def _refuse_id_collisions(conn, rows: list[dict]) -> None:
        """Two different items never share an id: an id already stored (or repeated in this batch)
        under another natural key is an error, not a silent merge."""
        keys_by_id: dict[str, str] = {}
        for r in rows:
            if keys_by_id.setdefault(r["item_id"], r["natural_key"]) != r["natural_key"]:
                raise WorklistError(f"two worklist items share the id {r['item_id']}: nothing saved",
                                    hint="This is a bug in reclaim; please report it.")
        ids = list(keys_by_id)
        for start in range(0, len(ids), 500):
            for item_id, key in conn.execute(select(items.c.id, items.c.natural_key)
                                             .where(items.c.id.in_(ids[start:start + 500]))):
                if keys_by_id[item_id] != key:
                    raise WorklistError(f"worklist item id {item_id} is already used by another item: nothing saved",
                                        hint="This is a bug in reclaim; please report it.")

    def save_reconciliation(self, table: pa.Table, *, source: str = "reclaim recover") -> int:
        """Store a run's reconciliation rows (``RecoveryResult.summary["reconciliation"]``): a
        file read again replaces its rows (by sha256), so a re-import counts nothing twice."""
        rows = [r for r in table.to_pylist() if r.get("file_sha256")]
        now = _now()
        with self.engine.begin() as conn:
            shas = sorted({r["file_sha256"] for r in rows})
            for start in range(0, len(shas), 500):
                conn.execute(reconciliation.delete().where(reconciliation.c.file_sha256.in_(shas[start:start + 500])))
            if rows:
                conn.execute(insert(reconciliation), [{
                    "file_sha256": r["file_sha256"], "file": str(r["file"])[-500:], "payer": r["payer"][:200],
                    "section": r["section"], "item": r["item"][:300], "claims": int(r["claims"]),
                    "amount": r["amount"], "source": source, "saved_at": now} for r in rows])
        return len(rows)

    def reconciliation(self) -> list[dict[str, Any]]:
        """Every stored file's reconciliation summed per payer, section and item (the web
        dashboard's table), with the number of files."""
        c = reconciliation.c
        q = (select(c.payer, c.section, c.item, func.count(func.distinct(c.file_sha256)).label("files"),
                    func.sum(c.claims).label("claims"), func.sum(c.amount).label("amount"))
             .group_by(c.payer, c.section, c.item).order_by(c.payer, c.section, c.item))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # -- queries ----------------------------------------------------------------------------
    def list(self, *, status: Iterable[str] | None = None, assignee: str | None = None,
             kind: str | None = None, payer: str | None = None, action: str | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
        """Items, best priority first (then the soonest deadline)."""
        q = select(items).order_by(items.c.priority.desc(), items.c.deadline.asc(), items.c.id)
        if status:
            statuses = list(status)
            for s in statuses:
                self._check_status(s)
            q = q.where(items.c.status.in_(statuses))
        if assignee:
            q = q.where(items.c.assignee == assignee)
        if kind:
            q = q.where(items.c.kind == kind)
        if action:
            q = q.where(items.c.action == action)
        if payer:
            q = q.where((items.c.payer_id == payer) | (items.c.payer_name == payer))
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def get(self, item_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(items).where(items.c.id == item_id)).first()
            if row is None:
                raise WorklistError(f"no worklist item {item_id!r}", hint="`reclaim worklist list` shows the ids.")
            item = dict(row._mapping)
            item["history"] = [dict(h._mapping) for h in conn.execute(
                select(history).where(history.c.item_id == item_id).order_by(history.c.id))]
        item["data"] = json.loads(item["data"])
        return item

    # -- changes ----------------------------------------------------------------------------
    def _check_status(self, status: str) -> None:
        if status not in STATUSES:
            raise WorklistError(f"unknown status {status!r}: one of {', '.join(STATUSES)}")

    def _change(self, item_id: str, field: str, new: Any, actor: str | None, **values: Any) -> dict[str, Any]:
        current = self.get(item_id)
        with self.engine.begin() as conn:
            if values:
                conn.execute(update(items).where(items.c.id == item_id).values(updated_at=_now(), **values))
            else:
                conn.execute(update(items).where(items.c.id == item_id).values(updated_at=_now()))
            conn.execute(insert(history).values(item_id=item_id, at=_now(), actor=actor, field=field,
                                                old_value=None if field == "note" else _str(current.get(field)),
                                                new_value=_str(new)))
        return self.get(item_id)

    def set_status(self, item_id: str, status: str, *, actor: str | None = None,
                   recovered_amount: Decimal | float | None = None) -> dict[str, Any]:
        """Move an item along ``new -> in_progress -> submitted -> recovered / written_off``."""
        self._check_status(status)
        current = self.get(item_id)["status"]
        if status == current:
            raise WorklistError(f"item {item_id} is already {status}")
        if status not in TRANSITIONS[current]:
            allowed = ", ".join(TRANSITIONS[current]) or "none (final status)"
            raise WorklistError(f"item {item_id}: cannot go from {current} to {status} (allowed: {allowed})")
        values: dict[str, Any] = {"status": status}
        if status == "recovered":
            values["recovered_amount"] = Decimal(str(recovered_amount)) if recovered_amount is not None \
                else self.get(item_id)["amount"]
        return self._change(item_id, "status", status, actor, **values)

    def assign(self, item_id: str, user: str, *, actor: str | None = None) -> dict[str, Any]:
        return self._change(item_id, "assignee", user, actor, assignee=user)

    def add_note(self, item_id: str, text: str, *, actor: str | None = None) -> dict[str, Any]:
        if not text.strip():
            raise WorklistError("a note needs some text")
        return self._change(item_id, "note", text.strip(), actor)

    # -- history-based odds and summary ------------------------------------------------------
    def observed_outcomes(self) -> pa.Table:
        """Resolved items per (payer_id, kind, reason): recovered and resolved counts."""
        recovered = func.sum(func.cast(items.c.status == "recovered", Integer))
        q = (select(items.c.payer_id, items.c.kind, items.c.reason,
                    recovered.label("recovered"), func.count().label("resolved"))
             .where(items.c.status.in_(("recovered", "written_off")))
             .group_by(items.c.payer_id, items.c.kind, items.c.reason))
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        schema = pa.schema([("payer_id", pa.string()), ("kind", pa.string()), ("reason", pa.string()),
                            ("recovered", pa.int64()), ("resolved", pa.int64())])
        return pa.Table.from_pylist([{**r, "recovered": int(r["recovered"] or 0)} for r in rows], schema=schema)

    def recovered(self) -> pa.Table:
        """Recovered dollars (items marked recovered) per payer, procedure code and kind."""
        q = (select(items.c.payer_name, items.c.procedure_code, items.c.kind, func.count().label("items"),
                    func.sum(items.c.recovered_amount).label("recovered"))
             .where(items.c.status == "recovered")
             .group_by(items.c.payer_name, items.c.procedure_code, items.c.kind)
             .order_by(items.c.payer_name, items.c.procedure_code, items.c.kind))
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        schema = pa.schema([("payer_name", pa.string()), ("procedure_code", pa.string()), ("kind", pa.string()),
                            ("items", pa.int64()), ("recovered", pa.decimal128(18, 2))])
        return pa.Table.from_pylist(rows, schema=schema)

    def summary(self) -> list[dict[str, Any]]:
        """Dollars at stake and recovered per status and kind."""
        q = (select(items.c.status, items.c.kind, func.count().label("items"),
                    func.sum(items.c.amount).label("amount"),
                    func.sum(items.c.recovered_amount).label("recovered"))
             .group_by(items.c.status, items.c.kind).order_by(items.c.status, items.c.kind))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)

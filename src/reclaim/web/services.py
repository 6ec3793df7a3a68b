"""The one place the web app calls the rest of reclaim: readers, the edit engine, recovery, the
worklist store and the billing guide. Pages and API routes call these functions and render
what they return; no billing rule lives here.

A piece a feature needs that is not there yet (the reference store before ``reclaim data
import``) is reported as :class:`Unavailable` (HTTP 503) with the step that fixes it, never as a
traceback. Stored uploads are read as Parquet with DuckDB (one query over every upload), not
row by row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import threading
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import HTTPException, Request

from ..claims.model import ClaimBatch, RemitBatch
from ..errors import ReclaimError, StoreNotBuiltError
from . import uploads


log = logging.getLogger(__name__)


class Unavailable(HTTPException):
    def __init__(self, what: str, hint: str):
        super().__init__(status_code=503, detail=f"{what} is not available: {hint}")


# --------------------------------------------------------------------------- shared handles


@contextlib.contextmanager
def ref_store(request_or_app) -> Iterator[Any]:
    """The reference store, opened read-only for the duration of one request."""
    from ..refdata.store import RefStore

    app = getattr(request_or_app, "app", request_or_app)
    try:
        store = RefStore.open(app.state.settings)
    except StoreNotBuiltError as exc:
        raise Unavailable("the reference store", f"{exc}; run `reclaim data import DIR` on the server") from None
    try:
        yield store
    finally:
        with contextlib.suppress(Exception):
            store.con.close()


_worklist_lock = threading.Lock()


def worklist_store(request_or_app):
    """The worklist store on the app's database (created or migrated once per app)."""
    from ..store import WorklistStore

    app = getattr(request_or_app, "app", request_or_app)
    with _worklist_lock:
        if getattr(app.state, "worklist", None) is None:
            store = WorklistStore(app.state.settings.database_url, engine=app.state.engine)
            app.state.worklist = store
    return app.state.worklist


def _policies(settings) -> list[str] | None:
    return [settings.policy] if settings.policy else None


# --------------------------------------------------------------------------- uploads


def upload_or_404(request: Request, upload_id: str) -> dict:
    try:
        uploads.upload_folder(request.app.state.uploads_dir, upload_id)
    except ReclaimError:
        raise HTTPException(status_code=404, detail="no such upload") from None
    upload = uploads.get_upload(request.app.state.engine, upload_id)
    if upload is None:
        raise HTTPException(status_code=404, detail="no such upload")
    if upload["state"] != "committed":
        raise HTTPException(status_code=409, detail=f"this upload is {upload['state']}: its results are not ready yet")
    return upload


def after_read(app, kind: str, batch: ClaimBatch | RemitBatch, folder: Path, actor: str = "reclaim web") -> dict:
    """Run before an upload is committed (see :func:`uploads.store_upload`): claims are checked
    (findings saved beside the tables), remittances are explained against every claim uploaded
    so far and their worklist items saved (idempotent by natural key; the history's ``created``
    rows name ``actor``, the upload, so that an unfinished upload can be undone)."""
    settings = app.state.settings
    if kind == "claims":
        from ..edits import check

        try:
            with ref_store(app) as store:
                findings = check(batch, store=store, policies=_policies(settings))
        except Unavailable as exc:
            return {"check": f"not run: {exc.detail}"}
        except ReclaimError as exc:
            # the claims were read and are kept; the check is retried when the results are opened
            return {"check": f"not run: {exc}"}
        except Exception as exc:  # a defect in the edit engine must not lose a good upload
            log.error("check failed on an upload: %s (a defect: please report it)", type(exc).__name__)
            return {"check": f"not run: the edit engine failed ({type(exc).__name__}); the server log has the details"}
        pq.write_table(findings.table, folder / "tables" / "findings.parquet")
        summary = findings.summary()
        return {"check": {"findings": summary["findings"], "claims_with_errors": summary["claims_with_errors"],
                          "dollars_at_risk": summary["dollars_at_risk"], "notes": summary["notes"]}}
    from ..recovery.engine import recover

    # every claim uploaded so far, as the uploads' Parquet tables: recover streams them into its
    # database, so the server does not hold them all in memory
    claims = [path for name in ("transactions", "claims", "diagnoses", "lines")
              for path in _committed_files(app, name)] or None
    if "remit_claims" not in batch.tables:  # an acknowledgment (999, 277CA): recover reads the file itself
        batch = [batch["files"]["path"][0].as_py()]
    worklist = worklist_store(app)
    # the worklist's past outcomes set the odds; the items are saved below, named after the upload
    observed = worklist.observed_outcomes()
    try:
        with ref_store(app) as store:
            result = recover(batch, claims, store=store, policies=_policies(settings), history=observed,
                             threshold=settings.underpayment_threshold)
    except Unavailable:
        result = recover(batch, claims, store=None, policies=_policies(settings), history=observed,
                         threshold=settings.underpayment_threshold, run_edits=False)
    for name in ("dollars", "line_match", "claim_match", "items"):
        pq.write_table(getattr(result, name), folder / "tables" / f"recovery_{name}.parquet")
    saved = worklist.upsert_items(result.items, actor=actor)
    if "reconciliation" in result.summary:
        # where every remittance dollar went, for the dashboard (source names the upload)
        worklist.save_reconciliation(result.summary["reconciliation"], source=actor)
    worklist_changed()
    return {"recovery": {"items": result.items.num_rows, "saved": saved, "notes": result.notes}}


def _committed_files(app, table: str) -> list[str]:
    """The Parquet files of ``table`` in committed uploads, one upload per distinct file content
    (the same file uploaded twice counts once)."""
    from sqlalchemy import func, select

    from .db import uploads as uploads_table

    first = (select(func.min(uploads_table.c.id).label("id")).where(uploads_table.c.state == "committed")
             .group_by(uploads_table.c.sha256, uploads_table.c.kind))
    with app.state.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(first)]
    paths = [app.state.uploads_dir / upload_id / "tables" / f"{table}.parquet" for upload_id in ids]
    return sorted(str(p) for p in paths if p.is_file())


def _read_all(app, table: str, schema: pa.Schema | None = None, where: str = "", params: list | None = None) -> pa.Table:
    """One table across every committed upload, read by DuckDB in one query."""
    files = _committed_files(app, table)
    if not files:
        return schema.empty_table() if schema is not None else pa.table({})
    con = duckdb.connect()
    try:
        result = con.execute(f"select * from read_parquet(?, union_by_name = true) {where}", [files, *(params or [])]).arrow()
        table_ = result.read_all() if hasattr(result, "read_all") else result
    finally:
        con.close()
    if schema is not None:
        table_ = table_.select([n for n in schema.names if n in table_.column_names]).cast(
            pa.schema([schema.field(n) for n in schema.names if n in table_.column_names]))
    return table_


def all_claims(app) -> ClaimBatch:
    """Every claim uploaded so far (the claims remittances are matched against)."""
    from ..claims.model import CLAIM_TABLES

    tables = {}
    for name, schema in CLAIM_TABLES.items():
        if name in ("files", "read_issues"):
            continue
        tables[name] = _read_all(app, name, schema)
    return ClaimBatch(tables=tables)


#: read problems shown on an upload's page at most (all are in the JSON's count)
MAX_ISSUES_SHOWN = 500


def upload_detail(request: Request, upload: dict, *, offset: int = 0, limit: int = 100) -> dict:
    """What an upload's page and JSON show, a page at a time (``limit`` claims or worklist
    items from ``offset``; claims with errors first): what was skipped and why (the first
    :data:`MAX_ISSUES_SHOWN` problems and their count), and the check findings (claims) or the
    worklist items found (remittances). A 50 MB file is many pages, never one 84 MB page."""
    app = request.app
    batch = uploads.load_batch(app.state.uploads_dir, upload)
    folder = uploads.upload_folder(app.state.uploads_dir, upload["id"]) / "tables"
    issues = batch["read_issues"]
    detail: dict[str, Any] = {"issues": uploads.issue_rows(issues.slice(0, MAX_ISSUES_SHOWN)),
                              "issues_total": issues.num_rows, "summary": json.loads(upload["summary"] or "{}")}
    if upload["kind"] == "claims":
        findings_path = folder / "findings.parquet"
        if not findings_path.is_file():
            # the store was not built at upload time: check now, keep the result
            detail["summary"].update(after_read(app, "claims", batch, folder.parent))
        detail.update(claim_findings(batch, findings_path, offset=offset, limit=limit))
        total = batch["claims"].num_rows
    else:
        items_path = folder / "recovery_items.parquet"
        table = pq.read_table(items_path) if items_path.is_file() else None
        detail["items"] = table.slice(offset, limit).to_pylist() if table is not None else []
        total = table.num_rows if table is not None else 0
    detail["page"] = {"offset": offset, "limit": limit, "total": total,
                      "next_offset": offset + limit if offset + limit < total else None}
    return detail


def claim_findings(batch: ClaimBatch, findings_path: Path, *, offset: int = 0, limit: int | None = None) -> dict:
    """Claims with their lines and findings, for the check results page (a join, in DuckDB):
    the page of ``limit`` claims from ``offset``, claims with the most errors first."""
    if not findings_path.is_file():
        return {"claims": [], "findings": []}
    con = duckdb.connect()
    try:
        con.register("all_claims", batch["claims"])
        con.register("lines", batch["lines"])
        con.register("findings", pq.read_table(findings_path))
        con.execute(f"""
            create temp table claims as
            select c.* from all_claims c
            left join (select claim_id, count(*) filter (where severity = 'error') as errors
                       from findings group by claim_id) e using (claim_id)
            order by coalesce(e.errors, 0) desc, c.claim_id
            limit {int(limit) if limit is not None else 'all'} offset {int(offset)}""")
        rows = con.execute("""
            select c.claim_id, c.patient_control_number, c.payer_name, c.total_charge,
                   l.line_number, l.procedure_code, l.modifier_1, l.modifier_2, l.units, l.charge, l.ndc, l.service_date,
                   f.code, f.name, f.severity, f.category, f.message, f.fix, f.fix_action, f.fix_value, f.dollars_at_risk
            from claims c
            left join lines l on l.claim_id = c.claim_id
            left join findings f on f.claim_id = c.claim_id and f.line_number is not distinct from l.line_number
            order by c.claim_id, l.line_number, f.severity, f.code
        """).fetchall()
        columns = [d[0] for d in con.description]
        claim_level = con.execute("""
            select f.claim_id, f.code, f.name, f.severity, f.category, f.message, f.fix, f.dollars_at_risk
            from findings f semi join claims using (claim_id) where f.line_number is null order by f.claim_id, f.code
        """).fetchall()
    finally:
        con.close()
    claims: dict[str, dict] = {}
    for values in rows:
        row = dict(zip(columns, values))
        claim = claims.setdefault(row["claim_id"], {
            "claim_id": row["claim_id"], "patient_control_number": row["patient_control_number"],
            "payer_name": row["payer_name"], "total_charge": row["total_charge"], "lines": {}, "findings": [], "errors": 0,
        })
        if row["line_number"] is not None:
            line = claim["lines"].setdefault(row["line_number"], {
                k: row[k] for k in ("line_number", "procedure_code", "modifier_1", "modifier_2", "units", "charge", "ndc",
                                    "service_date")} | {"findings": []})
            if row["code"] is not None:
                finding = {k: row[k] for k in ("code", "name", "severity", "category", "message", "fix", "fix_action",
                                               "fix_value", "dollars_at_risk")}
                line["findings"].append(finding)
                claim["errors"] += row["severity"] == "error"
    for claim_id, code, name, severity, category, message, fix, dollars in claim_level:
        if claim_id in claims:
            claims[claim_id]["findings"].append({"code": code, "name": name, "severity": severity, "category": category,
                                                 "message": message, "fix": fix, "dollars_at_risk": dollars})
            claims[claim_id]["errors"] += severity == "error"
    out = []
    for claim in claims.values():
        claim["lines"] = list(claim["lines"].values())
        out.append(claim)
    out.sort(key=lambda c: (-c["errors"], c["claim_id"]))
    return {"claims": out}


# --------------------------------------------------------------------------- worklist

SORTS = {"priority": "priority", "amount": "amount", "deadline": "deadline", "payer": "payer_name",
         "status": "status", "assignee": "assignee", "category": "kind", "code": "procedure_code"}


#: sort columns that are never NULL: ordered by (column, id) straight from their index
_NOT_NULL_SORTS = {"priority", "amount", "status", "kind"}
#: how long the filter's count and dollars and the facets are reused (the worklist page shows
#: them; computing them means reading every matching row, which a page of 100 must not do)
TOTALS_SECONDS, FACETS_SECONDS = 15.0, 60.0


class _TtlCache:
    """A small per-process cache of slow aggregates. One caller computes a missing value (the
    others wait for it, not compute it too); a value older than its time to live is still
    served while one background thread computes the new one. This process's changes to the
    worklist drop every value; other workers' changes show within the time to live."""

    def __init__(self) -> None:
        self.values: dict = {}
        self.lock = threading.Lock()
        self.computing: dict = {}  # key -> Lock of the one computing it

    def get(self, key, seconds: float, compute):
        import time

        with self.lock:
            hit = self.values.get(key)
            busy = self.computing.setdefault(key, threading.Lock())
        if hit is not None:
            if time.monotonic() - hit[0] >= seconds and busy.acquire(blocking=False):
                threading.Thread(target=self._refresh, args=(key, compute, busy), daemon=True).start()
            return hit[1]
        with busy:  # single flight: the first computes, the others wait and read its value
            with self.lock:
                hit = self.values.get(key)
            if hit is not None:
                return hit[1]
            return self._store(key, compute())

    def _refresh(self, key, compute, busy) -> None:
        try:
            self._store(key, compute())
        except Exception as exc:  # the stale value stays; never the query's values in the log
            log.warning("worklist totals not refreshed: %s", type(exc).__name__)
        finally:
            busy.release()

    def _store(self, key, value):
        import time

        with self.lock:
            if len(self.values) > 1000:
                self.values.clear()
            self.values[key] = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self.lock:
            self.values.clear()


_aggregates = _TtlCache()


def worklist_changed() -> None:
    _aggregates.clear()


def _cursor(value, item_id: str) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps([_plain_value(value), item_id]).encode()).decode().rstrip("=")


def _plain_value(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value) if hasattr(value, "as_tuple") else value


def _uncursor(text: str) -> tuple[Any, str]:
    import base64

    try:
        value, item_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return value, str(item_id)
    except Exception:
        raise HTTPException(status_code=422, detail="`after` is the `next` value of the previous page") from None


def worklist_rows(request: Request, *, status: list[str] | None = None, payer: str | None = None,
                  category: str | None = None, assignee: str | None = None, min_amount: float | None = None,
                  max_amount: float | None = None, deadline_before: dt.date | None = None, q: str | None = None,
                  sort: str = "priority", descending: bool = True, limit: int = 100, offset: int = 0,
                  after: str | None = None, totals: bool = True) -> dict:
    """A filtered, sorted page of worklist items. Pages are keyset (``after``: the previous
    page's ``next``; ``offset`` still works) and read straight from the sort column's index;
    the filter's count and dollars (``total``, ``amount``) and the facets are computed at most
    every few seconds per process, not per request."""
    from sqlalchemy import Date, Numeric, and_, func, or_, select

    from ..store import STATUSES, items

    store = worklist_store(request)
    conditions = []
    if status:
        bad = [s for s in status if s not in STATUSES]
        if bad:
            raise HTTPException(status_code=422, detail=f"unknown status {bad[0]!r}: one of {', '.join(STATUSES)}")
        conditions.append(items.c.status.in_(status))
    if payer:
        conditions.append(or_(items.c.payer_name == payer, items.c.payer_id == payer))
    if category:
        conditions.append(items.c.kind == category)
    if assignee == "(unassigned)":
        conditions.append(items.c.assignee.is_(None))
    elif assignee:
        conditions.append(items.c.assignee == assignee)
    if min_amount is not None:
        conditions.append(items.c.amount >= min_amount)
    if max_amount is not None:
        conditions.append(items.c.amount <= max_amount)
    if deadline_before is not None:
        conditions.append(items.c.deadline <= deadline_before)
    matches = search_ids(q.strip()) if q and q.strip() else None
    filter_conditions = list(conditions)
    name = SORTS.get(sort, "priority")
    column = getattr(items.c, name)
    nullable = name not in _NOT_NULL_SORTS
    if after:
        value, last_id = _uncursor(after)
        if value is not None:  # back to the column's type (PostgreSQL compares numeric with numeric only)
            from decimal import Decimal, InvalidOperation

            try:
                if isinstance(column.type, Date):
                    value = dt.date.fromisoformat(value)
                elif isinstance(column.type, Numeric):  # money went out as exact text
                    value = Decimal(str(value))
            except (ValueError, TypeError, InvalidOperation):
                raise HTTPException(status_code=422, detail="`after` is the `next` value of the previous page") from None
        past = (column < value) if descending else (column > value)
        tie = and_(column == value, (items.c.id < last_id) if descending else (items.c.id > last_id))
        if value is None:
            conditions.append(and_(column.is_(None), (items.c.id < last_id) if descending else (items.c.id > last_id)))
        elif nullable:
            conditions.append(or_(past, tie, column.is_(None)))
        else:
            conditions.append(or_(past, tie))
    order = column.desc() if descending else column.asc()
    if nullable:
        order = order.nulls_last()
    columns = [items.c[n] for n in ("id", "status", "assignee", "kind", "reason", "amount", "recovered_amount", "priority",
                                    "odds", "action", "deadline", "payer_id", "payer_name", "patient_control_number",
                                    "payer_claim_control_number", "procedure_code", "service_date", "preventable",
                                    "explanation", "root_cause", "updated_at")]
    query = select(*columns).order_by(order, items.c.id.desc() if descending else items.c.id.asc())
    if matches is not None:  # driven by the search's few ids, not by the sort's index
        query = query.select_from(matches.join(items, items.c.id == matches.c.id))
    if conditions:
        query = query.where(and_(*conditions))
    query = query.limit(limit + 1)
    if offset and not after:
        query = query.offset(offset)
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    data = {"rows": rows, "next": _cursor(rows[-1][name], rows[-1]["id"]) if more and rows else None,
            "statuses": list(STATUSES)}
    if totals:
        key = ("totals", str(store.engine.url), repr(sorted((k, str(v)) for k, v in locals_filters(
            status=status, payer=payer, category=category, assignee=assignee, min_amount=min_amount,
            max_amount=max_amount, deadline_before=deadline_before, q=q).items())))

        def count():
            totals_query = select(func.count(), func.coalesce(func.sum(items.c.amount), 0)).select_from(
                items if matches is None else matches.join(items, items.c.id == matches.c.id))
            if filter_conditions:
                totals_query = totals_query.where(and_(*filter_conditions))
            with store.engine.connect() as conn:
                return tuple(conn.execute(totals_query).one())

        data["total"], data["amount"] = _aggregates.get(key, TOTALS_SECONDS, count)
        data["facets"] = _aggregates.get(("facets", str(store.engine.url)), FACETS_SECONDS, lambda: _facets(store))
    return data


def search_ids(q: str):
    """The ids of items matching ``q``: the start of a claim number (CLM01), a payer claim
    number (ICN), an item id, a reason (``CO-16``) or a HCPCS code, as typed or upper-cased.
    One index range per column (store migration 7), united: a search reads a few index entries,
    not every item (a substring search read all 500,000, 7 s)."""
    from sqlalchemy import and_, select, union

    from ..store import items

    parts = []
    for column in (items.c.patient_control_number, items.c.payer_claim_control_number, items.c.id, items.c.reason,
                   items.c.procedure_code):
        for text in sorted({q, q.upper()}):
            parts.append(select(items.c.id.label("id")).where(and_(column >= text, column < text + "\uffff")))
    return union(*parts).subquery("matches")


def locals_filters(**filters) -> dict:
    return {k: v for k, v in filters.items() if v not in (None, "", [])}


def _facets(store) -> dict:
    from sqlalchemy import select

    from ..store import items

    with store.engine.connect() as conn:
        return {"payers": [r[0] for r in conn.execute(select(items.c.payer_name).distinct().order_by(items.c.payer_name)) if r[0]],
                "categories": [r[0] for r in conn.execute(select(items.c.kind).distinct().order_by(items.c.kind))],
                "assignees": [r[0] for r in conn.execute(select(items.c.assignee).where(items.c.assignee.is_not(None))
                                                         .distinct().order_by(items.c.assignee))]}


def worklist_item(request: Request, item_id: str) -> dict:
    from ..store import WorklistError

    try:
        return worklist_store(request).get(item_id)
    except WorklistError:
        raise HTTPException(status_code=404, detail="no such worklist item") from None


def change_item(request: Request, item_id: str, *, actor, status: str | None = None, assignee: str | None = None,
                note: str | None = None, recovered_amount: float | None = None) -> dict:
    """Apply one person's change to an item; each field a separate history row.

    The work ownership rule, for every door (page, API, bulk): a manager or admin changes any
    item and assigns it to anyone; a biller changes only items assigned to them or to nobody,
    may take an unassigned item (assign it to themselves) and give back their own (``assignee``
    ``""``: stored as NULL, so the item is unassigned again). The whole change is checked
    before any part of it is made: a refused change changes nothing."""
    from ..store import STATUSES, TRANSITIONS, WorklistError

    store = worklist_store(request)
    current = worklist_item(request, item_id)  # 404 before any change
    manager = actor.has_role("manager")
    owner = current.get("assignee")
    if not manager and owner not in (None, "", actor.name):
        raise HTTPException(status_code=403, detail=f"this item is assigned to {owner}: a manager can reassign it")
    unassign = assignee is not None and not assignee.strip()
    if assignee is not None and not unassign:
        assignee = assignee.strip()
        if not manager and assignee != actor.name:
            raise HTTPException(status_code=403, detail="assigning work to someone else needs the manager role")
    if status:
        if status not in STATUSES:
            raise WorklistError(f"unknown status {status!r}: one of {', '.join(STATUSES)}")
        if status != current["status"] and status not in TRANSITIONS[current["status"]]:
            allowed = ", ".join(TRANSITIONS[current["status"]]) or "none (final status)"
            raise WorklistError(f"item {item_id}: cannot go from {current['status']} to {status} (allowed: {allowed})")
        if status == current["status"]:
            raise WorklistError(f"item {item_id} is already {status}")
    if note is not None and not note.strip():
        raise WorklistError("a note needs some text")
    worklist_changed()
    item = None
    if unassign:
        if owner:
            item = store.assign(item_id, None, actor=actor.name)  # NULL: the unassigned filter finds it
    elif assignee is not None and assignee != owner:
        item = store.assign(item_id, assignee, actor=actor.name)
    if status:
        item = store.set_status(item_id, status, actor=actor.name, recovered_amount=recovered_amount)
    if note:
        item = store.add_note(item_id, note, actor=actor.name)
    return item or store.get(item_id)


def export_rows(request: Request, **filters) -> tuple[list[str], list[list]]:
    data = worklist_rows(request, limit=1_000_000, totals=False, **filters)
    header = ["id", "status", "assignee", "kind", "reason", "amount", "recovered_amount", "action", "deadline", "payer_id",
              "payer_name", "patient_control_number", "payer_claim_control_number", "procedure_code", "service_date",
              "priority", "odds", "explanation", "root_cause"]
    return header, [[row.get(h) for h in header] for row in data["rows"]]


# --------------------------------------------------------------------------- claims


def claim_view(request: Request, claim_key: str) -> dict:
    """Submitted vs paid for one claim (CLM01 = CLP01), line by line, every adjustment explained,
    from every upload: recovery's own matching and classification run on just this claim."""
    from ..claims.model import REMIT_TABLES
    from ..recovery.engine import recover

    app = request.app
    claims = all_claims(app)
    wanted = pa.compute.equal(claims["claims"].column("patient_control_number"), claim_key)
    claim_rows = claims["claims"].filter(wanted)
    ids = claim_rows.column("claim_id")
    sub = ClaimBatch(tables={
        "claims": claim_rows,
        "lines": claims["lines"].filter(pa.compute.is_in(claims["lines"].column("claim_id"), ids)),
        "diagnoses": claims["diagnoses"].filter(pa.compute.is_in(claims["diagnoses"].column("claim_id"), ids)),
    })
    remit_claims = _read_all(app, "remit_claims", REMIT_TABLES["remit_claims"], "where patient_control_number = ?", [claim_key])
    rc_ids = remit_claims.column("remit_claim_id").to_pylist()
    remit_tables: dict[str, pa.Table] = {"remit_claims": remit_claims}
    if rc_ids:
        placeholders = ", ".join("?" * len(rc_ids))
        for name in ("remit_lines", "adjustments", "remarks"):
            remit_tables[name] = _read_all(app, name, REMIT_TABLES[name], f"where remit_claim_id in ({placeholders})", rc_ids)
        tx = remit_claims.column("transaction_id").to_pylist()
        remit_tables["payments"] = _read_all(app, "payments", REMIT_TABLES["payments"],
                                             f"where transaction_id in ({', '.join('?' * len(tx))})", tx)
    if claim_rows.num_rows == 0 and not rc_ids:
        raise HTTPException(status_code=404, detail="no claim or remittance with that patient control number (CLM01/CLP01)")
    remits = RemitBatch(tables=remit_tables)
    result, dollars = None, []
    if rc_ids:
        try:
            with ref_store(app) as store:
                result = recover(remits, sub, store=store, run_edits=False)
                dollars = explain_dollars(result.dollars, store)
        except Unavailable:
            result = recover(remits, sub, store=None, run_edits=False)
            dollars = explain_dollars(result.dollars, None)
    return {
        "claim_key": claim_key,
        "line_rows": _line_rows(sub["lines"].to_pylist(), remits["remit_lines"].to_pylist() if rc_ids else [],
                                result.line_match.to_pylist() if result else [], dollars),
        "claims": sub["claims"].to_pylist(),
        "lines": sub["lines"].to_pylist(),
        "diagnoses": sub["diagnoses"].to_pylist(),
        "remit_claims": remits["remit_claims"].to_pylist(),
        "remit_lines": remits["remit_lines"].to_pylist(),
        "payments": remits["payments"].to_pylist(),
        "line_match": result.line_match.to_pylist() if result else [],
        "dollars": dollars,
        "items": result.items.to_pylist() if result else [],
        "remarks": remits["remarks"].to_pylist(),
    }


def _line_rows(lines: list[dict], remit_lines: list[dict], line_match: list[dict], dollars: list[dict]) -> list[dict]:
    """Submitted vs adjudicated, one row per line: the code, modifiers, units and charge billed;
    the code, modifiers, units, allowed and paid the payer answered; the adjustments with their
    texts. Lines the remittance did not match are rows of their own."""
    def mods(row: dict, prefix: str = "") -> str:
        return " ".join(filter(None, (row.get(f"{prefix}modifier_{i}") for i in range(1, 5))))

    by_remit = {(r["remit_claim_id"], r["line_index"]): r for r in remit_lines}
    adjustments: dict[tuple, list[dict]] = {}
    for d in dollars:
        if d.get("source") == "CAS":
            adjustments.setdefault((d["remit_claim_id"], d.get("line_index")), []).append(
                {"code": f"{d.get('group_code')}-{d.get('reason_code')}", "amount": d.get("amount"),
                 "text": d.get("official_text") or d.get("explanation") or ""})
    matched = {(m["claim_id"], m["line_number"]): (m["remit_claim_id"], m["line_index"]) for m in line_match
               if m.get("claim_id") is not None}
    rows, used = [], set()
    for line in lines:
        key = matched.get((line["claim_id"], line["line_number"]))
        paid = by_remit.get(key) if key else None
        used.add(key)
        rows.append({"line": line["line_number"], "service_date": line.get("service_date"),
                     "billed_code": line.get("procedure_code"), "billed_modifiers": mods(line),
                     "billed_units": line.get("units"), "charge": line.get("charge"),
                     "paid_code": (paid or {}).get("procedure_code"), "paid_modifiers": mods(paid) if paid else "",
                     "paid_units": (paid or {}).get("units_paid"), "allowed": (paid or {}).get("allowed_amount"),
                     "paid": (paid or {}).get("paid"), "adjudicated": paid is not None,
                     "adjustments": adjustments.get(key, []) if key else []})
    for key, paid in by_remit.items():
        if key not in used:
            rows.append({"line": None, "service_date": paid.get("service_date"), "billed_code": paid.get("original_procedure_code"),
                         "billed_modifiers": mods(paid, "original_"), "billed_units": paid.get("original_units"),
                         "charge": paid.get("charge"), "paid_code": paid.get("procedure_code"), "paid_modifiers": mods(paid),
                         "paid_units": paid.get("units_paid"), "allowed": paid.get("allowed_amount"), "paid": paid.get("paid"),
                         "adjudicated": True, "adjustments": adjustments.get(key, [])})
    return rows


def explain_dollars(dollars: pa.Table, store) -> list[dict]:
    """Recovery's classified dollars with the taxonomy's plain-words explanation of each rule
    and the CARC's official text (from the store's CARC release, when loaded)."""
    from ..recovery import taxonomy

    carc, _rarc, _release = taxonomy.official_texts(store)
    con = duckdb.connect()
    try:
        con.register("d", dollars)
        con.register("t", taxonomy.load().select(["rule_id", "explanation", "rationale"]))
        con.register("carc", carc)
        cursor = con.execute("""
            select d.*, t.explanation, t.rationale, carc.description as official_text
            from d left join t using (rule_id) left join carc on carc.code = d.reason_code
            order by d.remit_claim_id, d.line_index nulls first, d.source""")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


# --------------------------------------------------------------------------- guide


def guide(request: Request, code: str, on: dt.date | None) -> dict:
    from ..documents.guide import build_guide

    with ref_store(request) as store:
        return build_guide(store, code, on).to_dict()


def search(request: Request, query: str, on: dt.date | None) -> list[dict]:
    import dataclasses

    from ..documents.guide import search_codes

    with ref_store(request) as store:
        return [dataclasses.asdict(hit) for hit in search_codes(store, query, on)]


# --------------------------------------------------------------------------- release diff


def diff_releases_loaded(request: Request) -> list[dict]:
    """The releases a diff can compare: one row per release name (``2025-10``, ``2025-Q4``) of
    HCPCS, ASP, crosswalk and MUE, with the datasets holding it, newest first."""
    from ..loop.release_diff import DATASETS

    with ref_store(request) as store:
        rows = [r for r in store.releases() if r["table_name"] in DATASETS]
    names: dict[str, dict] = {}
    for r in rows:
        entry = names.setdefault(r["release"], {"release": r["release"], "datasets": [], "provenance": set(),
                                                "effective_from": r["effective_from"]})
        if r["table_name"] not in entry["datasets"]:
            entry["datasets"].append(r["table_name"])
        entry["provenance"].add(r["provenance"])
    out = [{**e, "provenance": ", ".join(sorted(e["provenance"]))} for e in names.values()]
    return sorted(out, key=lambda e: (e["effective_from"] or dt.date.min, e["release"]), reverse=True)


def release_diff(request: Request, old: str, new: str) -> dict:
    """``reclaim data diff OLD NEW`` on the server's store, joined with every uploaded claim and
    the open worklist (a :class:`ReleaseDiffError` for releases the store does not hold)."""
    from ..loop.release_diff import diff_releases

    app = request.app
    settings = app.state.settings
    with ref_store(request):  # 503 with the fix when the store was never built
        pass
    # diff_releases attaches the store file itself: no RefStore may hold it open meanwhile
    report = diff_releases(settings.store_path, "all", old, new, claims=all_claims(app),
                           worklist=worklist_store(request), policies=_policies(settings))
    return report.to_dict()


def store_upload(request: Request, who, kind: str, file_name: str, stream) -> uploads.UploadResult:
    """Store, read, check or recover, and record one upload (all or nothing)."""
    from .security import client_of

    app = request.app
    return uploads.store_upload(app.state.engine, app.state.uploads_dir, who.user, kind, file_name, stream,
                                via=who.via, client=client_of(request),
                                limit_bytes=app.state.settings.max_upload_mb << 20,
                                after_read=lambda k, batch, folder, actor: after_read(app, k, batch, folder, actor))


# --------------------------------------------------------------------------- dashboard

_DENIED = "('denial', 'partial_denial')"


def dashboard(request: Request) -> dict:
    """What a manager reports: denial rate and denied dollars by month, by payer, by code, by
    denial category and by the edit that would have prevented it; dollars at stake and
    recovered from the worklist. One DuckDB query per view over every committed remittance
    (the classification is recovery's, saved with each upload)."""
    from sqlalchemy import func, select

    from ..store import items

    app = request.app
    needed = {name: _committed_files(app, name) for name in
              ("recovery_dollars", "remit_claims", "payments", "remit_lines", "recovery_items")}
    out: dict[str, Any] = {"by_month": [], "by_payer": [], "by_code": [], "by_category": [], "by_edit": [], "totals": {}}
    if needed["recovery_dollars"] and needed["remit_claims"]:
        con = duckdb.connect()
        try:
            for name, files in needed.items():
                if files:
                    con.read_parquet(files, union_by_name=True).create_view(name)
            if not needed["payments"]:
                con.execute("create view payments as select null::varchar as transaction_id, null::date as payment_date, "
                            "null::date as production_date, null::varchar as payer_name, null::varchar as payer_id where false")
            con.execute(f"""
                create temp table claim_facts as
                select rc.remit_claim_id, rc.total_charge,
                       date_trunc('month', coalesce(p.payment_date, p.production_date, rc.received_date))::date as month,
                       coalesce(p.payer_name, p.payer_id, '(unknown payer)') as payer,
                       coalesce(sum(d.amount) filter (where d.category in {_DENIED}), 0) as denied,
                       count(*) filter (where d.category in {_DENIED}) > 0 as has_denial
                from remit_claims rc
                left join payments p using (transaction_id)
                left join recovery_dollars d using (remit_claim_id)
                group by all""")

            def rows(sql: str) -> list[dict]:
                cursor = con.execute(sql)
                names = [c[0] for c in cursor.description]
                return [dict(zip(names, r)) for r in cursor.fetchall()]

            out["by_month"] = rows("""
                select month, count(*) as claims, count(*) filter (where has_denial) as denied_claims,
                       sum(total_charge)::decimal(18, 2) as billed, sum(denied)::decimal(18, 2) as denied,
                       round(100.0 * count(*) filter (where has_denial) / count(*), 1) as denial_rate
                from claim_facts group by month order by month nulls last""")
            out["by_payer"] = rows("""
                select payer, count(*) as claims, sum(total_charge)::decimal(18, 2) as billed,
                       sum(denied)::decimal(18, 2) as denied,
                       round(100.0 * count(*) filter (where has_denial) / count(*), 1) as denial_rate
                from claim_facts group by payer order by denied desc, payer""")
            if needed["remit_lines"]:
                out["by_code"] = rows(f"""
                    select coalesce(l.procedure_code, '(claim level)') as code,
                           sum(d.amount) filter (where d.category in {_DENIED})::decimal(18, 2) as denied,
                           sum(d.amount) filter (where d.category = 'paid')::decimal(18, 2) as paid
                    from recovery_dollars d left join remit_lines l using (remit_claim_id, line_index)
                    group by all having denied > 0 order by denied desc limit 15""")
            out["by_category"] = rows(f"""
                select coalesce(denial_reason, category) as category, count(*) as adjustments,
                       sum(amount)::decimal(18, 2) as denied
                from recovery_dollars where category in {_DENIED}
                group by all order by denied desc""")
            if needed["recovery_items"]:
                out["by_edit"] = rows(f"""
                    select coalesce(root_cause_edit, '(no edit would have caught it)') as edit, count(*) as items,
                           sum(amount)::decimal(18, 2) as denied
                    from (select distinct on (natural_key) * from recovery_items)
                    where kind in {_DENIED} group by all order by denied desc""")
            out["totals"] = rows(f"""
                select count(*) as claims, sum(total_charge)::decimal(18, 2) as billed,
                       sum(denied)::decimal(18, 2) as denied,
                       round(100.0 * count(*) filter (where has_denial) / nullif(count(*), 0), 1) as denial_rate
                from claim_facts""")[0]
        finally:
            con.close()
    store = worklist_store(request)
    month = func.substr(func.cast(items.c.updated_at, type_=items.c.kind.type), 1, 7)
    with store.engine.connect() as conn:
        status_rows = conn.execute(select(items.c.status, func.count(), func.coalesce(func.sum(items.c.amount), 0),
                                          func.coalesce(func.sum(items.c.recovered_amount), 0))
                                   .group_by(items.c.status)).all()
        recovered_by_month = conn.execute(
            select(month.label("month"), func.sum(items.c.recovered_amount))
            .where(items.c.status == "recovered").group_by(month).order_by(month)).all()
    out["worklist"] = [{"status": s, "count": n, "amount": a, "recovered": r} for s, n, a, r in status_rows]
    # where every remittance dollar went, as `recover` stored it (command line or upload alike)
    out["reconciliation"] = _reconciliation_by_payer(store.reconciliation())
    out["recovered_by_month"] = [{"month": m, "recovered": r} for m, r in recovered_by_month]
    out["totals"]["recovered"] = sum((r["recovered"] or 0) for r in out["worklist"])
    # items whose deadline passed before anyone acted can no longer be recovered: shown apart, not at stake
    with store.engine.connect() as conn:
        late = conn.execute(select(func.coalesce(func.sum(items.c.amount), 0)).where(
            items.c.status.in_(("new", "in_progress")), items.c.deadline < dt.date.today())).scalar_one()
    out["totals"]["deadline_passed"] = late
    out["totals"]["open_at_stake"] = sum((r["amount"] or 0) for r in out["worklist"]
                                         if r["status"] in ("new", "in_progress", "submitted")) - late
    return out


def _reconciliation_by_payer(rows: list[dict]) -> list[dict]:
    """The stored reconciliation rows grouped per payer, with whether each payer's sections tie."""
    from decimal import Decimal

    payers: dict[str, dict] = {}
    for r in rows:
        p = payers.setdefault(r["payer"], {"payer": r["payer"], "files": 0, "sections": {}, "totals": {}})
        p["files"] = max(p["files"], r["files"])
        if r["section"] == "totals":
            p["totals"][r["item"]] = r["amount"]
        else:
            p["sections"].setdefault(r["section"], []).append(r)
    for p in payers.values():
        t, sums = p["totals"], {k: sum((r["amount"] for r in v), Decimal(0)) for k, v in p["sections"].items()}
        charges = t.get("CLP03 charges", Decimal(0))
        p["ties"] = (sums.get("status", Decimal(0)) == charges == sums.get("disposition", Decimal(0))
                     and sums.get("cas_group", Decimal(0)) == t.get("CAS adjustments", Decimal(0))
                     and sums.get("plb", Decimal(0)) == t.get("PLB provider-level (net)", Decimal(0)))
    return list(payers.values())


# --------------------------------------------------------------------------- letters


def letter(request: Request, item_id: str, fmt: str) -> tuple[bytes, str]:
    """The appeal letter of a worklist item as PDF or DOCX bytes, and its file name."""
    import tempfile

    from ..documents.letters import LETTER_ACTIONS, build_letter, contact_from_settings, write_docx, write_pdf

    item = worklist_item(request, item_id)
    # the typed row recovery saved with the upload (the store keeps a JSON copy with text values)
    typed = _read_all(request.app, "recovery_items", None, "where item_id = ? limit 1", [item_id]).to_pylist()
    row = typed[0] if typed else item["data"]
    if row.get("action") not in LETTER_ACTIONS:
        raise HTTPException(status_code=404, detail=f"no letter for this item: its action is {row.get('action')!r} "
                            f"(letters exist for {', '.join(LETTER_ACTIONS)})")
    if row.get("deadline_passed"):
        # as documents.letters.write_letters does: no letter for a request that is already late
        raise HTTPException(status_code=409, detail=f"the deadline for this item ({row.get('deadline')}) has passed: "
                            "no appeal letter is generated")
    claims = all_claims(request.app)
    if row.get("claim_id"):
        keep = pa.compute.equal(claims["claims"].column("claim_id"), row["claim_id"])
        claims = ClaimBatch(tables={
            "claims": claims["claims"].filter(keep),
            "lines": claims["lines"].filter(pa.compute.equal(claims["lines"].column("claim_id"), row["claim_id"])),
            "diagnoses": claims["diagnoses"].filter(pa.compute.equal(claims["diagnoses"].column("claim_id"), row["claim_id"])),
        })
    settings = request.app.state.settings
    try:
        with ref_store(request) as store:
            built = build_letter(row, claims, store, policies=_policies(settings), contact=contact_from_settings(settings))
    except Unavailable:
        built = build_letter(row, claims, None, policies=_policies(settings), contact=contact_from_settings(settings))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"letter.{fmt}"
        (write_pdf if fmt == "pdf" else write_docx)(built, path)
        data = path.read_bytes()
    return data, f"appeal-{item_id}-{row.get('action')}.{fmt}"


# --------------------------------------------------------------------------- mechanical fixes


def fixes(request: Request, upload: dict) -> tuple[ClaimBatch, pa.Table]:
    """The upload's claims with every mechanical fix of its findings applied, and the changes."""
    from ..edits.fix import apply_fixes

    if upload["kind"] != "claims":
        raise HTTPException(status_code=404, detail="fixes apply to claim uploads, not remittances")
    folder = uploads.upload_folder(request.app.state.uploads_dir, upload["id"]) / "tables"
    if not (folder / "findings.parquet").is_file():
        raise HTTPException(status_code=409, detail="this upload has not been checked yet: open its results first")
    batch = uploads.load_batch(request.app.state.uploads_dir, upload)
    return apply_fixes(batch, pq.read_table(folder / "findings.parquet"))


def corrected_file(request: Request, upload: dict) -> tuple[bytes, str, int]:
    """The corrected claim file (837 for X12 uploads, the CSV template otherwise), its name and
    the number of changes."""
    import tempfile

    from ..edits.fix import write_fixed

    from ..edits.fix import SUFFIXES, input_format

    fixed, changes = fixes(request, upload)
    fmt = input_format(fixed)  # written in the upload's own format, from the stored original
    stem = Path(upload["file_name"]).stem or "claims"
    name = f"{stem}-corrected{SUFFIXES.get(fmt, ('.' + fmt,))[0]}"
    original = uploads.original_file(request.app.state.uploads_dir, upload)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / uploads.safe_name(name)
        from ..claims.x12.writer import envelope_from_settings

        write_fixed(fixed, path, sources={f: original for f in fixed["claims"]["file_id"].to_pylist()},
                    **envelope_from_settings(request.app.state.settings))
        return path.read_bytes(), name, changes.num_rows

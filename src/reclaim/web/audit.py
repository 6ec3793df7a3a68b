"""The audit log: who read or changed what, when, from where, through which door.

Every read of patient data (claim detail, check results, worklist, exports, letters) and every
change (uploads, status changes, assignments, notes, users) writes one row. Rows name the
object by the identifiers the user already holds (upload id, claim id, worklist item id) and
never carry patient data: ``detail`` holds counts and the names of fields changed.

Rows are written off the request path: :func:`record` on an Engine queues the row and one
background thread per process writes queued rows in batches (a read of the log, and the
process's exit, flush the queue first). A row that must commit with a change (an upload) is
written on the caller's Connection, in its transaction.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import threading
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from .auth import User, now
from .db import audit_log


def record(
    target_db: Engine | Connection,
    user: User | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    *,
    client: str | None = None,
    via: str = "web",
    user_name: str | None = None,
) -> None:
    """Write one audit row. Pass a Connection to make it part of the caller's transaction."""
    row = dict(
        at=now(),
        user_id=user.id if user else None,
        user_name=user.name if user else user_name,
        action=action,
        target=(target or "")[:512] or None,
        detail=json.dumps(detail, default=str, sort_keys=True) if detail else None,
        client=(client or "")[:64] or None,
        via=via,
    )
    if isinstance(target_db, Connection):
        target_db.execute(insert(audit_log).values(**row))
    else:
        _writer.put(target_db, row)


log = logging.getLogger(__name__)


class _Writer:
    """One background thread writing queued audit rows, many per transaction."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.idle = threading.Condition()
        self.pending = 0

    def put(self, engine: Engine, row: dict) -> None:
        with self.idle:
            self.pending += 1
        self.queue.put((engine, row))
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="reclaim-audit", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < 500:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            by_engine: dict[int, tuple[Engine, list[dict]]] = {}
            for engine, row in batch:
                by_engine.setdefault(id(engine), (engine, []))[1].append(row)
            for engine, rows in by_engine.values():
                for attempt in range(5):
                    try:
                        with engine.begin() as conn:
                            conn.execute(insert(audit_log), rows)
                        break
                    except Exception as exc:  # never the rows themselves in the message
                        log.error("audit rows not written yet (%s), attempt %d of 5", type(exc).__name__, attempt + 1)
                        threading.Event().wait(0.2 * (attempt + 1))
            with self.idle:
                self.pending -= len(batch)
                self.idle.notify_all()

    def flush(self, timeout: float = 30.0) -> None:
        with self.idle:
            self.idle.wait_for(lambda: self.pending == 0, timeout=timeout)


_writer = _Writer()
atexit.register(_writer.flush)


def flush() -> None:
    """Wait until every queued audit row is written."""
    _writer.flush()


def recent(engine: Engine, *, limit: int = 200, offset: int = 0, action: str | None = None, user_name: str | None = None) -> tuple[int, list[dict]]:
    flush()
    query = select(audit_log)
    count = select(func.count()).select_from(audit_log)
    if action:
        query, count = query.where(audit_log.c.action == action), count.where(audit_log.c.action == action)
    if user_name:
        query, count = query.where(audit_log.c.user_name == user_name), count.where(audit_log.c.user_name == user_name)
    with engine.connect() as conn:
        total = conn.execute(count).scalar_one()
        rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit).offset(offset)).mappings()
        return total, [dict(r) for r in rows]

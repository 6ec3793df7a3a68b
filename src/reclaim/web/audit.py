"""The audit log: who read or changed what, when, from where, through which door.

Every read of patient data (claim detail, check results, worklist, exports, letters) and every
change (uploads, status changes, assignments, notes, users) writes one row. Rows name the
object by the identifiers the user already holds (upload id, claim id, worklist item id) and
never carry patient data: ``detail`` holds counts and the names of fields changed.
"""

from __future__ import annotations

import json
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
        with target_db.begin() as conn:
            conn.execute(insert(audit_log).values(**row))


def recent(engine: Engine, *, limit: int = 200, offset: int = 0, action: str | None = None, user_name: str | None = None) -> tuple[int, list[dict]]:
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

"""Sign-in throttling: failed sign-ins slow the next try down, they never lock anyone out.

Three keys count failures (table ``web_login_throttle``), each with its own free tries and
cap: the client address (a stranger spraying many names), the pair of name and address (one
client guessing one password) and the account (guesses of one name from many addresses).
Past its free tries each failure doubles the key's wait (1 s, 2 s, 4 s ... up to the cap);
while a key waits, a try is answered 429 with the seconds left, without checking the password.
Failures older than :data:`FORGET_AFTER` are forgotten.

A stranger can therefore slow an account down, but not lock it: the account-wide wait is
capped at a few minutes, and a browser that signed in as that user before (a *known device*,
cookie ``reclaim_device``) skips it. A success clears the account's and the pair's keys; an
admin's unlock (``reclaim users unlock NAME``, the admin page) clears them too. Typed names
are stored only as SHA-256 digests, so a password typed into the name field is not kept.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .auth import _aware, digest, now
from .db import known_devices, login_throttle

DEVICE_COOKIE = "reclaim_device"
FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Rule:
    free: int  # failures before any wait
    cap: timedelta  # the longest wait


RULES = {
    "client": Rule(free=20, cap=timedelta(minutes=15)),
    "pair": Rule(free=5, cap=timedelta(minutes=15)),
    "account": Rule(free=10, cap=timedelta(minutes=5)),
}


def _name_hash(name: str) -> str:
    return hashlib.sha256(name.strip().lower().encode()).hexdigest()[:32]


def keys_for(name: str, client: str) -> dict[str, str]:
    n = _name_hash(name)
    return {"client": f"client:{client[:64]}", "pair": f"pair:{n}:{hashlib.sha256(client.encode()).hexdigest()[:32]}",
            "account": f"account:{n}"}


def wait_of(failures: int, rule: Rule) -> timedelta:
    if failures < rule.free:
        return timedelta(0)
    return min(rule.cap, timedelta(seconds=2 ** min(failures - rule.free, 20)))


@dataclass(frozen=True)
class Refusal:
    which: str  # client | pair | account
    seconds: int

    @property
    def message(self) -> str:
        if self.which == "account":
            return (f"This account has had many failed sign-ins. Try again in {self.seconds} s, sign in from a browser "
                    "you used before, or ask an admin to unlock it.")
        return f"Too many failed sign-ins from this address. Try again in {self.seconds} s."


def check(engine: Engine, name: str, client: str, *, known_device: bool) -> Refusal | None:
    """The reason to refuse a sign-in try now, or None."""
    keys = keys_for(name, client)
    wanted = {k: v for k, v in keys.items() if not (k == "account" and known_device)}
    stamp = now()
    with engine.connect() as conn:
        rows = conn.execute(select(login_throttle).where(login_throttle.c.key.in_(list(wanted.values())))).mappings().all()
    by_key = {r["key"]: r for r in rows}
    for which in ("client", "pair", "account"):
        row = by_key.get(wanted.get(which, ""))
        if row is not None and _aware(row["blocked_until"]) > stamp:
            return Refusal(which, max(1, int((_aware(row["blocked_until"]) - stamp).total_seconds() + 0.999)))
    return None


def _bump(conn, key: str, rule: Rule, stamp: datetime) -> None:
    row = conn.execute(select(login_throttle).where(login_throttle.c.key == key)).mappings().first()
    if row is None:
        conn.execute(insert(login_throttle).values(key=key, failures=1, last_failure_at=stamp,
                                                   blocked_until=stamp + wait_of(1, rule)))
        return
    failures = 1 if stamp - _aware(row["last_failure_at"]) > FORGET_AFTER else row["failures"] + 1
    conn.execute(update(login_throttle).where(login_throttle.c.key == key).values(
        failures=failures, last_failure_at=stamp, blocked_until=stamp + wait_of(failures, rule)))


def failed(engine: Engine, name: str, client: str) -> None:
    stamp = now()
    for attempt in (1, 2):
        try:
            with engine.begin() as conn:
                for which, key in keys_for(name, client).items():
                    _bump(conn, key, RULES[which], stamp)
                # housekeeping: forget keys nobody failed on for a while
                conn.execute(delete(login_throttle).where(login_throttle.c.last_failure_at < stamp - FORGET_AFTER,
                                                          login_throttle.c.blocked_until < stamp))
            return
        except IntegrityError:  # another request inserted one of the keys meanwhile: count again
            if attempt == 2:
                raise


def succeeded(engine: Engine, name: str, client: str) -> None:
    keys = keys_for(name, client)
    with engine.begin() as conn:
        conn.execute(delete(login_throttle).where(login_throttle.c.key.in_([keys["pair"], keys["account"]])))


def unlock(engine: Engine, name: str) -> int:
    """Clear every wait on the account ``name`` (its account key and all its pairs)."""
    n = _name_hash(name)
    with engine.begin() as conn:
        return conn.execute(delete(login_throttle).where(or_(
            login_throttle.c.key == f"account:{n}", login_throttle.c.key.like(f"pair:{n}:%")))).rowcount


def state(engine: Engine, name: str) -> dict:
    """What an admin sees: failures and seconds to wait on the account key."""
    stamp = now()
    with engine.connect() as conn:
        row = conn.execute(select(login_throttle).where(login_throttle.c.key == f"account:{_name_hash(name)}")).mappings().first()
    if row is None:
        return {"failures": 0, "wait_seconds": 0}
    left = (_aware(row["blocked_until"]) - stamp).total_seconds()
    return {"failures": row["failures"], "wait_seconds": max(0, int(left + 0.999))}


# --------------------------------------------------------------------------- known devices


def is_known_device(engine: Engine, cookie: str, user_name: str) -> bool:
    if not cookie:
        return False
    from .db import users

    with engine.connect() as conn:
        row = conn.execute(select(users.c.name).join(known_devices, known_devices.c.user_id == users.c.id)
                           .where(known_devices.c.token_sha256 == digest(cookie))).first()
    return row is not None and row[0] == user_name


def remember_device(engine: Engine, user_id: int) -> str:
    """A new device cookie value for the user (stored as its SHA-256)."""
    value = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(insert(known_devices).values(token_sha256=digest(value), user_id=user_id, created_at=now()))
    return value

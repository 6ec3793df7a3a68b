"""Users, passwords, sessions and API tokens: the library the web app and
``reclaim users`` share.

* Passwords are argon2id hashes (argon2-cffi defaults); there is no default password and no
  default user: the first admin is created with ``reclaim users add NAME --role admin``.
* A session is a random 256-bit value in an HttpOnly cookie; the database keeps only its
  SHA-256, the user, a CSRF secret and a sliding expiry (``session_minutes``).
* An API token (``reclaim users token NAME``) is shown once, stored as its SHA-256, and sent by
  scripts as ``Authorization: Bearer <token>``.
* Roles are ordered: biller < manager < admin; a check asks for the least role that may act.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, insert, select, update

from ..errors import ReclaimError
from .db import ROLES, api_tokens, sessions, users

_hasher = PasswordHasher()
#: a hash of a random password, verified against when the name is unknown so that a failed
#: sign-in takes the same time whether or not the user exists
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
MIN_PASSWORD = 12
TOKEN_PREFIX = "rct_"


class AuthError(ReclaimError):
    """A user-management request that cannot be done (unknown user, weak password...)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str

    def has_role(self, least: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(least)


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: datetime


def now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we write is UTC
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_password_strength(password: str, name: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must have at least {MIN_PASSWORD} characters")
    if name.lower() in password.lower():
        raise AuthError("the password must not contain the user name")


# --------------------------------------------------------------------------- users


def add_user(engine: Engine, name: str, role: str, password: str) -> User:
    if not _NAME.match(name):
        raise AuthError("a user name is 2-64 letters, digits or . _ @ - and starts with a letter or digit")
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    check_password_strength(password, name)
    stamp = now()
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.name == name)).first():
            raise AuthError(f"user {name!r} already exists")
        user_id = conn.execute(
            insert(users).values(
                name=name, role=role, password_hash=_hasher.hash(password), active=True,
                created_at=stamp, password_changed_at=stamp,
            )
        ).inserted_primary_key[0]
    return User(user_id, name, role)


def list_users(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(users.c.id, users.c.name, users.c.role, users.c.active, users.c.created_at).order_by(users.c.name)
        ).mappings()
        return [dict(r) for r in rows]


def get_user(engine: Engine, name: str) -> User:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    if row is None:
        raise AuthError(f"no user named {name!r}")
    return User(row["id"], row["name"], row["role"])


def set_password(engine: Engine, name: str, password: str) -> None:
    check_password_strength(password, name)
    user = get_user(engine, name)
    with engine.begin() as conn:
        conn.execute(
            update(users).where(users.c.id == user.id).values(password_hash=_hasher.hash(password), password_changed_at=now())
        )
        # a new password signs out every open session of that user
        conn.execute(delete(sessions).where(sessions.c.user_id == user.id))


def set_role(engine: Engine, name: str, role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    user = get_user(engine, name)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(role=role))


def set_active(engine: Engine, name: str, active: bool) -> None:
    user = get_user(engine, name)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(active=active))
        if not active:
            conn.execute(delete(sessions).where(sessions.c.user_id == user.id))
            conn.execute(update(api_tokens).where(api_tokens.c.user_id == user.id).values(revoked=True))


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    """The user when name and password match an active user, else None (same time either way)."""
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    stored = row["password_hash"] if row is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or not row["active"]:
        return None
    if _hasher.check_needs_rehash(stored):
        with engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == row["id"]).values(password_hash=_hasher.hash(password)))
    return User(row["id"], row["name"], row["role"])


# --------------------------------------------------------------------------- sessions


def open_session(engine: Engine, user: User, minutes: int) -> tuple[str, Session]:
    """A new session: returns the cookie value (never stored) and the session."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    stamp = now()
    expires = stamp + timedelta(minutes=minutes)
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.expires_at < stamp))  # housekeeping
        conn.execute(
            insert(sessions).values(
                token_sha256=digest(secret), user_id=user.id, csrf_token=csrf, created_at=stamp, expires_at=expires
            )
        )
    return secret, Session(user, csrf, expires)


def session_for(engine: Engine, secret: str, minutes: int) -> Session | None:
    """The live session for a cookie value, its expiry slid forward; None when unknown or expired."""
    if not secret:
        return None
    stamp = now()
    with engine.connect() as conn:
        row = conn.execute(
            select(sessions.c.id, sessions.c.csrf_token, sessions.c.expires_at, users.c.id.label("uid"),
                   users.c.name, users.c.role, users.c.active)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_sha256 == digest(secret))
        ).mappings().first()
    if row is None or not row["active"] or _aware(row["expires_at"]) <= stamp:
        return None
    expires = stamp + timedelta(minutes=minutes)
    # slide the expiry at most once a minute: no write per request
    if expires - _aware(row["expires_at"]) > timedelta(minutes=1):
        with engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id == row["id"]).values(expires_at=expires))
    else:
        expires = _aware(row["expires_at"])
    return Session(User(row["uid"], row["name"], row["role"]), row["csrf_token"], expires)


def close_session(engine: Engine, secret: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.token_sha256 == digest(secret)))


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


# --------------------------------------------------------------------------- API tokens


def issue_token(engine: Engine, name: str, label: str = "script") -> str:
    """A new API token for the user; the value is returned once and stored only as its hash."""
    user = get_user(engine, name)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            insert(api_tokens).values(
                token_sha256=digest(secret), user_id=user.id, label=label[:128], created_at=now(), revoked=False
            )
        )
    return secret


def revoke_tokens(engine: Engine, name: str) -> int:
    user = get_user(engine, name)
    with engine.begin() as conn:
        result = conn.execute(
            update(api_tokens).where(api_tokens.c.user_id == user.id, api_tokens.c.revoked.is_(False)).values(revoked=True)
        )
    return result.rowcount


def user_for_token(engine: Engine, secret: str) -> User | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.id, users.c.id.label("uid"), users.c.name, users.c.role, users.c.active, api_tokens.c.last_used_at)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_sha256 == digest(secret), api_tokens.c.revoked.is_(False))
        ).mappings().first()
    if row is None or not row["active"]:
        return None
    stamp = now()
    if row["last_used_at"] is None or stamp - _aware(row["last_used_at"]) > timedelta(minutes=5):
        with engine.begin() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == row["id"]).values(last_used_at=stamp))
    return User(row["uid"], row["name"], row["role"])

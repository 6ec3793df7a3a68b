"""Users, passwords, sessions and API tokens: the library the web app and
``reclaim users`` share.

* Passwords are argon2id hashes (argon2-cffi defaults); there is no default password and no
  default user: the first admin is created with ``reclaim users add NAME --role admin``.
* A session is a random 256-bit value in an HttpOnly cookie; the database keeps only its
  SHA-256, the user, a CSRF secret and a sliding expiry (``session_minutes``).
* An API token (``reclaim users token NAME --label nightly --days 90 --scope read``) is shown
  once, stored as its SHA-256, and sent by scripts as ``Authorization: Bearer <token>``. Each
  has a label, a scope (``read``: GET only; ``write``), an expiry and its last use; each can be
  revoked alone.
* Password strength is zxcvbn's estimate (score 3 of 4 at least: resists an offline guess
  attack of about 10^10 tries), so common and breached passwords, keyboard walks, repeats and
  the user's own name are refused and long passphrases are welcome.
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
MIN_STRENGTH = 3  # zxcvbn score, 0-4
TOKEN_PREFIX = "rct_"
TOKEN_SCOPES = ("read", "write")
TOKEN_DAYS, MAX_TOKEN_DAYS = 90, 366


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
    """Refuse a password a guesser would find: shorter than 12 characters, holding the user
    name, or scored below :data:`MIN_STRENGTH` by zxcvbn (dictionaries of common and breached
    passwords, names, keyboard patterns, repeats, sequences, dates)."""
    from zxcvbn import zxcvbn

    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must have at least {MIN_PASSWORD} characters (a passphrase of a few "
                        "unrelated words is easiest to remember)")
    if name.lower() in password.lower():
        raise AuthError("the password must not contain the user name")
    result = zxcvbn(password[:200], user_inputs=[name, "reclaim", "billing"])
    if result["score"] < MIN_STRENGTH:
        feedback = result.get("feedback") or {}
        why = feedback.get("warning") or "it is too easy to guess"
        tips = " ".join(feedback.get("suggestions") or [])
        raise AuthError(f"this password is too weak: {why.rstrip('.')}. {tips} "
                        "Try a passphrase of four or more unrelated words.".replace("  ", " "))


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
        # a new password signs out every open session of that user and revokes their tokens
        conn.execute(delete(sessions).where(sessions.c.user_id == user.id))
        _revoke(conn, user.id)


def change_own_password(engine: Engine, user: User, current: str, new: str) -> None:
    """A user's own change: the current password must match; every session and token ends."""
    if authenticate(engine, user.name, current) is None:
        raise AuthError("the current password is not right")
    if current == new:
        raise AuthError("the new password must differ from the current one")
    set_password(engine, user.name, new)


def _revoke(conn, user_id: int, token_id: int | None = None) -> int:
    query = update(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked.is_(False))
    if token_id is not None:
        query = query.where(api_tokens.c.id == token_id)
    return conn.execute(query.values(revoked=True, revoked_at=now())).rowcount


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
            _revoke(conn, user.id)


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


def issue_token(engine: Engine, name: str, label: str = "script", *, scope: str = "write",
                days: int = TOKEN_DAYS) -> str:
    """A new API token for the user; the value is returned once and stored only as its hash."""
    if scope not in TOKEN_SCOPES:
        raise AuthError(f"scope must be one of {', '.join(TOKEN_SCOPES)}, got {scope!r}")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise AuthError(f"a token lives 1 to {MAX_TOKEN_DAYS} days, got {days}")
    label = label.strip()[:128]
    if not label:
        raise AuthError("name the token (what it is for), e.g. --label nightly-export")
    user = get_user(engine, name)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    stamp = now()
    with engine.begin() as conn:
        conn.execute(
            insert(api_tokens).values(
                token_sha256=digest(secret), user_id=user.id, label=label, created_at=stamp, revoked=False,
                scope=scope, expires_at=stamp + timedelta(days=days),
            )
        )
    return secret


def list_tokens(engine: Engine, name: str | None = None) -> list[dict]:
    """Tokens (never their values): id, user, label, scope, created, expires, last used, state."""
    query = (select(api_tokens.c.id, users.c.name.label("user"), api_tokens.c.label, api_tokens.c.scope,
                    api_tokens.c.created_at, api_tokens.c.expires_at, api_tokens.c.last_used_at, api_tokens.c.revoked,
                    api_tokens.c.revoked_at)
             .join(users, users.c.id == api_tokens.c.user_id).order_by(users.c.name, api_tokens.c.id))
    if name:
        query = query.where(users.c.name == name)
    stamp = now()
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for r in rows:
        expired = r["expires_at"] is not None and _aware(r["expires_at"]) <= stamp
        r["state"] = "revoked" if r["revoked"] else "expired" if expired else "active"
    return rows


def revoke_token(engine: Engine, token_id: int, *, owner: str | None = None) -> str:
    """Revoke one token (of ``owner`` when given); returns its user's name."""
    with engine.begin() as conn:
        row = conn.execute(select(api_tokens.c.user_id, users.c.name).join(users, users.c.id == api_tokens.c.user_id)
                           .where(api_tokens.c.id == token_id)).first()
        if row is None or (owner is not None and row[1] != owner):
            raise AuthError(f"no token {token_id}" + (f" of {owner!r}" if owner else ""))
        _revoke(conn, row[0], token_id)
    return row[1]


def revoke_tokens(engine: Engine, name: str) -> int:
    user = get_user(engine, name)
    with engine.begin() as conn:
        return _revoke(conn, user.id)


def user_for_token(engine: Engine, secret: str) -> tuple[User, str] | None:
    """The token's user and scope, when the token is known, live and its user active."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.id, users.c.id.label("uid"), users.c.name, users.c.role, users.c.active,
                   api_tokens.c.last_used_at, api_tokens.c.expires_at, api_tokens.c.scope)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_sha256 == digest(secret), api_tokens.c.revoked.is_(False))
        ).mappings().first()
    stamp = now()
    if row is None or not row["active"] or (row["expires_at"] is not None and _aware(row["expires_at"]) <= stamp):
        return None
    if row["last_used_at"] is None or stamp - _aware(row["last_used_at"]) > timedelta(minutes=1):
        with engine.begin() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == row["id"]).values(last_used_at=stamp))
    return User(row["uid"], row["name"], row["role"]), row["scope"] or "write"

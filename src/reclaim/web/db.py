"""The web app's own tables (users, sessions, API tokens, audit log, uploads), kept in the
same database as the worklist (``Settings.database_url``: SQLite by default, PostgreSQL for a
team). Every table is prefixed ``web_`` so it never collides with the worklist store's.

Secrets are never stored: sessions and API tokens are kept as the SHA-256 of the random value
handed to the browser or script, passwords as argon2id hashes.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

metadata = MetaData()

ROLES = ("biller", "manager", "admin")

users = Table(
    "web_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False),
    #: the per-session CSRF secret every state-changing request must echo back
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

api_tokens = Table(
    "web_api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked", Boolean, nullable=False, default=False),
    #: "read" (GET only) or "write"; tokens made before scopes existed are "write"
    Column("scope", String(8), nullable=False, default="write", server_default="write"),
    Column("expires_at", DateTime(timezone=True)),  # null: made before expiry existed
    Column("revoked_at", DateTime(timezone=True)),
)

#: sign-in throttling, one row per key: ``client:<address>``, ``account:<sha256 of the
#: lower-cased name>`` (typed names are never stored: a password typed there must not land in
#: the database) and ``pair:<sha256 of name and address>``. Each failure doubles the wait
#: before the next try of that key; a success or an admin's unlock clears it. No row is ever a
#: hard lock: the wait is capped, and a browser that signed in as the user before (a known
#: device) is exempt from the account-wide wait.
login_throttle = Table(
    "web_login_throttle",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
    Column("blocked_until", DateTime(timezone=True), nullable=False),
)

#: browsers that signed in as a user: their sign-ins skip the account-wide wait (OWASP's
#: "device cookie"), so a stranger spraying a name cannot keep its owner out
known_devices = Table(
    "web_known_devices",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "web_audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("user_id", Integer),  # null for failed sign-ins of unknown names
    Column("user_name", String(64)),
    #: verb.noun, e.g. claim.view, worklist.update, upload.create, user.create, login.failed
    Column("action", String(64), nullable=False, index=True),
    Column("target", String(512)),  # upload id, claim id, worklist item id: never patient data
    Column("detail", Text),  # JSON: counts, fields changed (names, not values of PHI)
    Column("client", String(64)),
    Column("via", String(8)),  # web | api | cli
)

uploads = Table(
    "web_uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(8), nullable=False),  # claims | remits
    Column("file_name", String(255), nullable=False),  # as the user named it (shown escaped)
    Column("sha256", String(64), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("format", String(16)),  # x12, csv, xlsx, fhir, ndjson (sniffed)
    Column("uploaded_by", Integer, ForeignKey("web_users.id"), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False, index=True),
    Column("claims", Integer, nullable=False, default=0),  # claims or remit claims loaded
    Column("lines", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),  # read issues that skipped something
    Column("warnings", Integer, nullable=False, default=0),
    Column("summary", Text),  # JSON: per-table row counts, totals
    #: queued -> processing -> committed; rows not committed are undone by the start-up
    #: recovery pass (uploads.recover_unfinished). Rows made before states existed are committed.
    Column("state", String(12), nullable=False, default="committed", server_default="committed", index=True),
)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (several workers)
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def normalize_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the driver we ship), not psycopg2."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per database URL, tables created on first use."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        # hide_parameters: a database error never carries bound values (patient data) into a log
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)
    metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Columns added to a table after its first release (``create_all`` never alters a table):
    added with their server default, so existing rows keep their meaning."""
    from sqlalchemy import inspect, text
    from sqlalchemy.schema import CreateColumn

    inspector = inspect(engine)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    ddl = CreateColumn(column).compile(dialect=engine.dialect)
                    conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {ddl}"))

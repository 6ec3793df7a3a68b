"""Uploads: a claim or remittance file arrives, is stored, read, and recorded, all or nothing.

An upload moves through states kept in its ``web_uploads`` row:

1. The bytes stream to ``<home>/uploads/.incoming/<id>/`` (the body limit is enforced while they
   arrive, by the app's middleware), hashed on the way. A file whose content was uploaded before
   is refused as a :class:`DuplicateUpload` naming that upload (date, user, link).
2. ``queued``: the row is written, then the upload waits for the one writer (a lock over all
   workers of this home folder): uploads run one at a time, the others show "queued".
3. ``processing``: a ZIP container (XLSX) is checked while it is read (decompressed size, the
   size of each cell: :func:`check_container`); the library readers parse the file (they only
   read bytes: nothing in a file is ever executed). A file from which nothing could be read is
   refused (:class:`UploadRefused`, naming each problem and its place) and leaves nothing behind.
   The normalized tables are written as Parquet beside the file; then ``after_read`` runs: the
   web app checks claims, and explains remittances and saves their worklist items (their
   history names the upload).
4. ``committed``: the folder is renamed to ``<home>/uploads/<id>/`` and the row's state, counts
   and its audit row are committed in one transaction. Only committed uploads are read by
   reports and listed as done.

A server killed at any step leaves a row that is not committed: the recovery pass
(:func:`recover_unfinished`, run at start-up and before each upload, under the writer lock)
removes its worklist items, its folders and its row. :func:`delete_upload` removes a committed
upload and everything derived from it, the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine, delete, func, insert, select, update

from ..claims.model import ClaimBatch, RemitBatch
from ..errors import ReclaimError
from . import audit
from .auth import User, now
from .db import uploads, users

KINDS = {"claims": "Claims (837P/837I, CSV, FHIR)",
         "remits": "Remittances (835) and acknowledgments (999, TA1, 277CA, 277)"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_STALE_SECONDS = 24 * 3600
#: the file in an upload's folder naming the process receiving it (host and pid)
_OWNER = ".owner"
#: Excel's own limit on the characters of one cell: a longer "cell" was not made by Excel
MAX_CELL_CHARS = 32_767
#: how many times the upload limit a ZIP container (XLSX) may hold once decompressed
MAX_EXPANSION = 10
log = logging.getLogger(__name__)


class UploadRefused(ReclaimError):
    """Nothing could be read from an uploaded file; ``problems`` says what and where."""

    def __init__(self, message: str, problems: list[dict]):
        super().__init__(message)
        self.problems = problems


class DuplicateUpload(ReclaimError):
    """The same content was uploaded before (``existing`` is its row)."""

    def __init__(self, existing: dict):
        stamp = existing["uploaded_at"].strftime("%Y-%m-%d %H:%M")
        super().__init__(f"{existing['file_name']} was already uploaded on {stamp} UTC by {existing['uploaded_by_name']}")
        self.existing = existing

    def as_dict(self) -> dict:
        e = self.existing
        return {"message": str(self), "upload_id": e["id"], "url": f"/uploads/{e['id']}",
                "uploaded_at": e["uploaded_at"].isoformat(), "uploaded_by": e["uploaded_by_name"],
                "file_name": e["file_name"]}


def _reached(stage: str) -> None:
    """Called at each step of an upload (a seam for the tests that kill the server there)."""


@dataclass
class UploadResult:
    id: str
    kind: str
    file_name: str
    format: str | None
    bytes: int
    claims: int
    lines: int
    errors: int
    warnings: int
    issues: list[dict]
    summary: dict

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def safe_name(name: str) -> str:
    """A file-system-safe version of a user's file name (the original is kept for display)."""
    base = Path(name.replace("\\", "/")).name
    return (_SAFE_NAME.sub("_", base).strip("._") or "upload")[:100]


def _read(kind: str, path: Path) -> ClaimBatch | RemitBatch:
    from ..claims import io

    if kind == "remits" and io.sniff_format(path) == "x12":
        from ..claims.x12 import read_ack, sniff_ack

        if sniff_ack(path):  # a 999 / 277CA goes beside the 835s (recovery/acks.py)
            return read_ack(path)
    return io.read_claims([path]) if kind == "claims" else io.read_remits([path])


def _counts(kind: str, batch) -> tuple[int, int]:
    """(claims, lines) an upload holds: CLM / CLP, or the acknowledged sets, claims and interchanges."""
    if kind == "claims":
        return batch["claims"].num_rows, batch["lines"].num_rows
    if "remit_claims" in batch.tables:
        return batch["remit_claims"].num_rows, batch["remit_lines"].num_rows
    return (batch["ack_sets"].num_rows + batch["status_claims"].num_rows + batch["interchange_acks"].num_rows,
            batch["status_lines"].num_rows)


def issue_rows(table: pa.Table) -> list[dict]:
    """read_issues rows as dicts, without the server-side path (the user knows the file by name)."""
    return [{k: v for k, v in row.items() if k != "path"} for row in table.to_pylist()]


def check_container(path: Path, max_bytes: int) -> None:
    """Refuse a ZIP container (XLSX) whose members decompress to more than ``max_bytes`` in all,
    or whose XML holds a text longer than an Excel cell may be, or any DTD (entity expansion).
    Members are streamed and counted as they decompress: a ZIP's declared sizes can lie."""
    import xml.parsers.expat

    with zipfile.ZipFile(path) as archive:
        total = 0
        for info in archive.infolist():
            if info.is_dir():
                continue
            parser = xml.parsers.expat.ParserCreate() if info.filename.endswith((".xml", ".rels")) else None
            if parser is not None:
                text_run = [0]

                def characters(data, run=text_run):
                    run[0] += len(data)
                    if run[0] > MAX_CELL_CHARS:
                        raise UploadRefused(
                            f"{path.name}: a cell holds more than {MAX_CELL_CHARS:,} characters (member {info.filename}); "
                            "Excel cannot make such a cell, so the file was not written by Excel: refused", [])

                def reset(*_args, run=text_run):
                    run[0] = 0

                def doctype(*_args):
                    raise UploadRefused(f"{path.name}: member {info.filename} declares a DTD; a workbook does not", [])

                parser.CharacterDataHandler = characters
                parser.StartElementHandler = reset
                parser.EndElementHandler = reset
                parser.StartDoctypeDeclHandler = doctype
            with archive.open(info) as member:
                for chunk in iter(lambda: member.read(1 << 20), b""):
                    total += len(chunk)
                    if total > max_bytes:
                        raise UploadRefused(f"{path.name}: the workbook decompresses to more than {max_bytes // (1 << 20)} MB "
                                            f"({MAX_EXPANSION} times the upload limit): refused", [])
                    if parser is not None:
                        try:
                            parser.Parse(chunk, False)
                        except xml.parsers.expat.ExpatError as exc:
                            raise UploadRefused(f"{path.name}: member {info.filename} is not well-formed XML ({exc})", []) from None
            if parser is not None:
                with contextlib.suppress(xml.parsers.expat.ExpatError):
                    parser.Parse(b"", True)


# --------------------------------------------------------------------------- the one writer

_thread_lock = threading.Lock()


@contextlib.contextmanager
def writer_lock(uploads_dir: Path, *, wait: bool = True) -> Iterator[bool]:
    """One upload at a time across the threads and worker processes sharing ``uploads_dir``.
    Yields whether the lock is held (always True when ``wait``)."""
    uploads_dir.mkdir(parents=True, exist_ok=True)
    if not _thread_lock.acquire(blocking=wait):
        yield False
        return
    try:
        with (uploads_dir.parent / ".upload-writer.lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        _thread_lock.release()


def _remove_derived(engine: Engine, uploads_dir: Path, upload_id: str) -> dict:
    """Remove the worklist items an upload created (history names the upload; older uploads
    are found by the items saved in their folder) unless a committed upload also holds them,
    then its folders."""
    from ..store import history, items

    created = {r[0] for r in _fetch(engine, select(history.c.item_id).where(
        history.c.field == "created", history.c.actor == _actor(upload_id)))}
    saved = uploads_dir / upload_id / "tables" / "recovery_items.parquet"
    if saved.is_file():
        created |= set(pq.read_table(saved, columns=["item_id"]).column("item_id").to_pylist())
    others = set()
    for path in sorted(uploads_dir.glob("*/tables/recovery_items.parquet")):
        other = path.parent.parent.name
        if other != upload_id and _is_committed(engine, other):
            others |= set(pq.read_table(path, columns=["item_id"]).column("item_id").to_pylist())
    doomed = sorted(created - others)
    with engine.begin() as conn:
        for start in range(0, len(doomed), 500):
            chunk = doomed[start:start + 500]
            conn.execute(delete(history).where(history.c.item_id.in_(chunk)))
            conn.execute(delete(items).where(items.c.id.in_(chunk)))
    for folder in (uploads_dir / upload_id, uploads_dir / ".incoming" / upload_id):
        shutil.rmtree(folder, ignore_errors=True)
    return {"items": len(doomed)}


def _actor(upload_id: str) -> str:
    return f"upload {upload_id}"


def _fetch(engine: Engine, query) -> list:
    with engine.connect() as conn:
        return list(conn.execute(query))


def _is_committed(engine: Engine, upload_id: str) -> bool:
    return bool(_fetch(engine, select(uploads.c.id).where(uploads.c.id == upload_id, uploads.c.state == "committed")))


def recover_unfinished(engine: Engine, uploads_dir: Path, *, wait: bool = False) -> int:
    """Undo uploads a killed server left unfinished: ``processing`` rows (no one else is
    processing while we hold the writer lock) and ``queued`` rows older than a few hours.
    Returns how many were undone; does nothing when another process holds the writer."""
    with writer_lock(uploads_dir, wait=wait) as held:
        if not held:
            return 0
        return _recover_unfinished(engine, uploads_dir)


def _owner_alive(folder: Path) -> bool:
    """Whether the process that received the upload in ``folder`` still runs (on another host:
    whether the folder is younger than a day)."""
    try:
        host, pid = (folder / _OWNER).read_text().split()
    except (OSError, ValueError):
        return False
    if host != socket.gethostname():
        return time.time() - folder.stat().st_mtime < _STALE_SECONDS
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recover_unfinished(engine: Engine, uploads_dir: Path) -> int:
    from ..store import WorklistStore

    WorklistStore("", engine=engine)  # the worklist tables exist before we look at them
    incoming = uploads_dir / ".incoming"
    rows = _fetch(engine, select(uploads.c.id, uploads.c.state).where(uploads.c.state != "committed"))
    undone = 0
    for upload_id, state in rows:
        # processing: nobody else is, we hold the writer; queued: undone once its receiver is gone
        if state == "queued" and _owner_alive(incoming / upload_id):
            continue
        removed = _remove_derived(engine, uploads_dir, upload_id)
        with engine.begin() as conn:
            conn.execute(delete(uploads).where(uploads.c.id == upload_id))
            audit.record(conn, None, "upload.undone", upload_id, {"state": state, **removed}, via="server",
                         user_name=None)
        log.warning("an upload left unfinished (%s) was undone: %d worklist items removed", state, removed["items"])
        undone += 1
    if incoming.is_dir():
        for folder in incoming.iterdir():  # files a killed server was receiving
            if folder.name.startswith(".new-") and time.time() - folder.stat().st_mtime < _STALE_SECONDS:
                continue  # still being made (renamed once its owner is written)
            if not _owner_alive(folder):
                shutil.rmtree(folder, ignore_errors=True)
    return undone


def delete_upload(engine: Engine, uploads_dir: Path, upload: dict, user: User, *, via: str = "web",
                  client: str | None = None) -> dict:
    """Remove a committed upload and everything derived from it (its files and tables, the
    worklist items only it produced, with their history); audited with the counts."""
    with writer_lock(uploads_dir):
        removed = _remove_derived(engine, uploads_dir, upload["id"])
        with engine.begin() as conn:
            conn.execute(delete(uploads).where(uploads.c.id == upload["id"]))
            audit.record(conn, user, "upload.delete", upload["id"], {"kind": upload["kind"], **removed}, via=via,
                         client=client)
    return removed


def find_duplicate(engine: Engine, kind: str, sha256: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(uploads, users.c.name.label("uploaded_by_name")).join(users, users.c.id == uploads.c.uploaded_by)
            .where(uploads.c.sha256 == sha256, uploads.c.kind == kind, uploads.c.state == "committed")
            .order_by(uploads.c.uploaded_at).limit(1)
        ).mappings().first()
    return dict(row) if row else None


def store_upload(engine: Engine, uploads_dir: Path, user: User, kind: str, file_name: str, stream: BinaryIO,
                 *, via: str = "web", client: str | None = None, limit_bytes: int = 200 << 20,
                 after_read: Callable[[str, ClaimBatch | RemitBatch, Path, str], dict] | None = None) -> UploadResult:
    """Store, read and record one uploaded file; see the module docstring for the guarantees.

    ``after_read(kind, batch, folder, actor)`` runs once the tables are written and before the
    commit (the check of claims, the recovery of remittances, saving items as ``actor``); what
    it returns joins the summary."""
    if kind not in KINDS:
        raise ReclaimError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    display_name = (Path(file_name.replace("\\", "/")).name or "upload")[:255]
    upload_id = uuid.uuid4().hex
    incoming = uploads_dir / ".incoming"
    work = incoming / upload_id
    # the folder gets its name with its owner already written (made as a hidden .new-<id>, then
    # renamed): another upload's recovery pass must never take it for a dead server's
    staging = incoming / f".new-{upload_id}"
    staging.mkdir(parents=True)
    (staging / _OWNER).write_text(f"{socket.gethostname()} {os.getpid()}")
    staging.rename(work)
    row_written = False
    try:
        target = work / safe_name(display_name)
        digest, size = hashlib.sha256(), 0
        with target.open("wb") as out:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRefused(f"{display_name}: the file is empty", [])
        _reached("received")
        existing = find_duplicate(engine, kind, digest.hexdigest())
        if existing is not None:
            raise DuplicateUpload(existing)
        with engine.begin() as conn:
            conn.execute(insert(uploads).values(
                id=upload_id, kind=kind, file_name=display_name, sha256=digest.hexdigest(), bytes=size, format=None,
                uploaded_by=user.id, uploaded_at=now(), claims=0, lines=0, errors=0, warnings=0, summary=None,
                state="queued"))
        row_written = True
        _reached("queued")
        with writer_lock(uploads_dir):
            _recover_unfinished(engine, uploads_dir)
            with engine.begin() as conn:
                conn.execute(update(uploads).where(uploads.c.id == upload_id).values(state="processing"))
            _reached("processing")
            with target.open("rb") as head:
                is_zip = head.read(4) == b"PK\x03\x04"
            if is_zip:
                try:
                    check_container(target, limit_bytes * MAX_EXPANSION)
                except zipfile.BadZipFile as exc:
                    raise UploadRefused(f"{display_name}: a damaged ZIP/XLSX container ({exc})", []) from None
            batch = _read(kind, target)
            issues = batch["read_issues"]
            claims, lines = _counts(kind, batch)
            severity = issues.column("severity")
            errors = pc.sum(pc.equal(severity, "error").cast(pa.int64())).as_py() or 0
            warnings = pc.sum(pc.equal(severity, "warning").cast(pa.int64())).as_py() or 0
            if claims == 0:
                problems = issue_rows(issues)
                what = "claims" if kind == "claims" else "remittance claims (CLP)"
                raise UploadRefused(f"{display_name}: no {what} could be read from this file", problems)
            formats = batch["files"].column("format").to_pylist()
            tables = work / "tables"
            tables.mkdir()
            for name, table in batch.tables.items():
                if name == "files":
                    table = table.drop_columns(["path"])
                pq.write_table(table, tables / f"{name}.parquet")
            _reached("read")
            summary: dict = {name: table.num_rows for name, table in batch.tables.items()}
            if after_read is not None:
                summary.update(after_read(kind, batch, work, _actor(upload_id)))
            _reached("derived")
            final = uploads_dir / upload_id
            work.rename(final)
            (final / _OWNER).unlink()
            _reached("renamed")
            with engine.begin() as conn:
                conn.execute(update(uploads).where(uploads.c.id == upload_id).values(
                    format=formats[0] if formats else None, claims=claims, lines=lines, errors=errors,
                    warnings=warnings, summary=json.dumps(summary, default=str), state="committed"))
                audit.record(conn, user, "upload.create", upload_id,
                             {"kind": kind, "bytes": size, "claims": claims, "lines": lines, "errors": errors},
                             via=via, client=client)
    except BaseException:
        # undo everything this upload made (its items, folders, row); a kill -9 here is undone at start-up
        if row_written:
            with contextlib.suppress(Exception):
                _remove_derived(engine, uploads_dir, upload_id)
                with engine.begin() as conn:
                    conn.execute(delete(uploads).where(uploads.c.id == upload_id, uploads.c.state != "committed"))
        shutil.rmtree(work, ignore_errors=True)
        raise
    return UploadResult(upload_id, kind, display_name, formats[0] if formats else None, size, claims, lines,
                        errors, warnings, issue_rows(issues), summary)


def list_uploads(engine: Engine, *, kind: str | None = None, limit: int = 50, before: str | None = None,
                 committed_only: bool = False) -> list[dict]:
    """Uploads newest first, a page at a time (keyset: ``before`` is the last row's
    ``uploaded_at|id`` of the previous page). Queued and processing uploads are listed too."""
    query = (select(uploads, users.c.name.label("uploaded_by_name"))
             .join(users, users.c.id == uploads.c.uploaded_by)
             .order_by(uploads.c.uploaded_at.desc(), uploads.c.id.desc()).limit(limit))
    if kind:
        query = query.where(uploads.c.kind == kind)
    if committed_only:
        query = query.where(uploads.c.state == "committed")
    if before:
        from datetime import datetime

        stamp, _, last_id = before.partition("|")
        try:
            at = datetime.fromisoformat(stamp)
        except ValueError:
            raise ReclaimError("`before` is the `next` value of the previous page") from None
        query = query.where((uploads.c.uploaded_at < at) | ((uploads.c.uploaded_at == at) & (uploads.c.id < last_id)))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def cursor_of(row: dict) -> str:
    return f"{row['uploaded_at'].isoformat()}|{row['id']}"


def get_upload(engine: Engine, upload_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(uploads, users.c.name.label("uploaded_by_name"))
            .join(users, users.c.id == uploads.c.uploaded_by)
            .where(uploads.c.id == upload_id)
        ).mappings().first()
    return dict(row) if row else None


def count_uploads(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(uploads).where(uploads.c.state == "committed")).scalar_one()


def upload_folder(uploads_dir: Path, upload_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
        raise ReclaimError("not an upload id")
    return uploads_dir / upload_id


def load_batch(uploads_dir: Path, upload: dict) -> ClaimBatch | RemitBatch:
    """The normalized tables of a stored upload."""
    folder = upload_folder(uploads_dir, upload["id"]) / "tables"
    cls = ClaimBatch if upload["kind"] == "claims" else RemitBatch
    tables = {}
    for name in cls().SCHEMAS:
        path = folder / f"{name}.parquet"
        if path.is_file():
            tables[name] = pq.read_table(path)
    if "files" in tables and "path" not in tables["files"].column_names:
        files = tables["files"]
        tables["files"] = files.add_column(1, "path", pa.array([upload["file_name"]] * files.num_rows, pa.string()))
    return cls(tables=tables)


def original_file(uploads_dir: Path, upload: dict) -> Path:
    folder = upload_folder(uploads_dir, upload["id"])
    return folder / safe_name(upload["file_name"])

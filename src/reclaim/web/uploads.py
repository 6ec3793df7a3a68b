"""Uploads: a claim or remittance file arrives, is stored, read, and recorded, all or nothing.

1. The bytes stream to ``<home>/uploads/.incoming/<id>/`` (the body limit is enforced while they
   arrive, by the app's middleware), hashed on the way.
2. The library readers (:func:`reclaim.claims.io.read_claims` / ``read_remits``) parse the file:
   they only read bytes (X12, CSV, JSON, XLSX cells), nothing in a file is ever executed.
3. A file from which nothing could be read is refused (:class:`UploadRefused`, naming each
   problem and its place) and leaves nothing behind.
4. The normalized tables are written as Parquet beside the file; then ``after_read`` runs: the
   web app checks claims, and explains remittances and saves their worklist items (idempotent by
   natural key, so a crash after that step plus a second upload of the file adds nothing twice).
5. The folder is renamed to ``<home>/uploads/<id>/`` and the ``web_uploads`` row plus its audit
   row are committed in one transaction. A failure before the commit removes the folder (a crash
   leaves only an ``.incoming`` folder, never read, swept after a day): there is no half import.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, insert, select

from ..claims.model import ClaimBatch, RemitBatch
from ..errors import ReclaimError
from . import audit
from .auth import User, now
from .db import uploads, users

KINDS = {"claims": "Claims (837P/837I, CSV, FHIR)",
         "remits": "Remittances (835) and acknowledgments (999, TA1, 277CA, 277)"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_STALE_SECONDS = 24 * 3600


class UploadRefused(ReclaimError):
    """Nothing could be read from an uploaded file; ``problems`` says what and where."""

    def __init__(self, message: str, problems: list[dict]):
        super().__init__(message)
        self.problems = problems


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


def _sweep_incoming(incoming: Path) -> None:
    if not incoming.is_dir():
        return
    cutoff = time.time() - _STALE_SECONDS
    for folder in incoming.iterdir():
        if folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


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


def store_upload(engine: Engine, uploads_dir: Path, user: User, kind: str, file_name: str, stream: BinaryIO,
                 *, via: str = "web", client: str | None = None,
                 after_read: Callable[[str, ClaimBatch | RemitBatch, Path], dict] | None = None) -> UploadResult:
    """Store, read and record one uploaded file; see the module docstring for the guarantees.

    ``after_read(kind, batch, folder)`` runs once the tables are written and before the commit
    (the check of claims, the recovery of remittances); what it returns joins the summary."""
    if kind not in KINDS:
        raise ReclaimError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    display_name = (Path(file_name.replace("\\", "/")).name or "upload")[:255]
    upload_id = uuid.uuid4().hex
    incoming = uploads_dir / ".incoming"
    _sweep_incoming(incoming)
    work = incoming / upload_id
    work.mkdir(parents=True)
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
        summary: dict = {name: table.num_rows for name, table in batch.tables.items()}
        if after_read is not None:
            summary.update(after_read(kind, batch, work))
        final = uploads_dir / upload_id
        work.rename(final)
        try:
            with engine.begin() as conn:
                conn.execute(insert(uploads).values(
                    id=upload_id, kind=kind, file_name=display_name, sha256=digest.hexdigest(), bytes=size,
                    format=formats[0] if formats else None, uploaded_by=user.id, uploaded_at=now(),
                    claims=claims, lines=lines, errors=errors, warnings=warnings, summary=json.dumps(summary),
                ))
                audit.record(conn, user, "upload.create", upload_id,
                             {"kind": kind, "bytes": size, "claims": claims, "lines": lines, "errors": errors},
                             via=via, client=client)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return UploadResult(upload_id, kind, display_name, formats[0] if formats else None, size, claims, lines,
                        errors, warnings, issue_rows(issues), summary)


def list_uploads(engine: Engine, *, kind: str | None = None, limit: int = 200) -> list[dict]:
    query = (select(uploads, users.c.name.label("uploaded_by_name"))
             .join(users, users.c.id == uploads.c.uploaded_by)
             .order_by(uploads.c.uploaded_at.desc()).limit(limit))
    if kind:
        query = query.where(uploads.c.kind == kind)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


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
        return conn.execute(select(func.count()).select_from(uploads)).scalar_one()


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

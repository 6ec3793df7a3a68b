"""The REST API under ``/api/``: JSON in and out, described by the OpenAPI document at
``/api/openapi.json``. Scripts authenticate with ``Authorization: Bearer <token>``
(``reclaim users token NAME``); the browser's session cookie works too (with the CSRF header
on changes). Every endpoint declares the least role that may call it (``x-role`` in OpenAPI)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .. import __version__
from . import audit, auth, services, throttle, uploads
from .spreadsheet import escape_csv, safe_cell
from .security import Principal, client_of, require

router = APIRouter(prefix="/api", tags=["api"])


def role(least: str) -> dict:
    """Route options: the role dependency, and the role named in the OpenAPI document."""
    return {"dependencies": [], "openapi_extra": {"x-role": least}}


BILLER, MANAGER, ADMIN = Depends(require("biller")), Depends(require("manager")), Depends(require("admin"))


def _plain(value):
    """JSON for values the standard encoder does not know: money and quantities stay exact
    (Decimal as text), dates ISO."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def json_response(data) -> Response:
    """Encode with the standard library directly: several times faster than FastAPI's generic
    encoder on a page of worklist rows (see bench/web.py)."""
    import json

    return Response(json.dumps(data, default=_plain, separators=(",", ":")), media_type="application/json")


# --------------------------------------------------------------------------- service


@router.get("/health", summary="Liveness: no authentication, no database", openapi_extra={"x-role": "none"})
def health() -> dict:
    return {"status": "ok", "version": __version__}


@router.get("/me", summary="The signed-in user", **role("biller"))
def me(who: Principal = BILLER) -> dict:
    return {"name": who.user.name, "role": who.user.role, "via": who.via}


# --------------------------------------------------------------------------- users (admin)


class NewUser(BaseModel):
    name: str = Field(max_length=64)
    role: Literal["biller", "manager", "admin"]
    password: str = Field(min_length=auth.MIN_PASSWORD, max_length=1024)


class UserChange(BaseModel):
    role: Literal["biller", "manager", "admin"] | None = None
    active: bool | None = None


@router.get("/users", summary="List users", **role("admin"))
def list_users(request: Request, who: Principal = ADMIN) -> list[dict]:
    return auth.list_users(request.app.state.engine)


@router.post("/users", status_code=201, summary="Create a user", **role("admin"))
def create_user(request: Request, body: NewUser, who: Principal = ADMIN) -> dict:
    engine = request.app.state.engine
    user = auth.add_user(engine, body.name, body.role, body.password)
    audit.record(engine, who.user, "user.create", user.name, {"role": body.role}, via=who.via, client=client_of(request))
    return {"name": user.name, "role": user.role}


@router.patch("/users/{name}", summary="Change a user's role or disable/enable them", **role("admin"))
def change_user(request: Request, name: str, body: UserChange, who: Principal = ADMIN) -> dict:
    engine = request.app.state.engine
    if name == who.user.name and (body.active is False or (body.role and body.role != "admin")):
        raise HTTPException(status_code=400, detail="you cannot disable yourself or drop your own admin role")
    if body.role:
        auth.set_role(engine, name, body.role)
        audit.record(engine, who.user, "user.role", name, {"role": body.role}, via=who.via, client=client_of(request))
    if body.active is not None:
        auth.set_active(engine, name, body.active)
        audit.record(engine, who.user, "user.enable" if body.active else "user.disable", name, via=who.via,
                     client=client_of(request))
    return {"name": name, **body.model_dump(exclude_none=True)}


@router.post("/users/{name}/unlock", summary="Clear the sign-in waits of an account", **role("admin"))
def unlock_user(request: Request, name: str, who: Principal = ADMIN) -> dict:
    engine = request.app.state.engine
    auth.get_user(engine, name)
    cleared = throttle.unlock(engine, name)
    audit.record(engine, who.user, "user.unlock", name, {"keys": cleared}, via=who.via, client=client_of(request))
    return {"name": name, "cleared": cleared}


class PasswordChange(BaseModel):
    current: str = Field(max_length=1024)
    new: str = Field(max_length=1024)


@router.post("/me/password", summary="Change your own password (ends all your sessions and revokes your tokens)",
             **role("biller"))
def change_password(request: Request, body: PasswordChange, who: Principal = BILLER) -> dict:
    engine = request.app.state.engine
    auth.change_own_password(engine, who.user, body.current, body.new)
    audit.record(engine, who.user, "user.password", who.user.name, {"sessions": "ended", "tokens": "revoked"},
                 via=who.via, client=client_of(request))
    return {"name": who.user.name, "signed_out": True}


class NewToken(BaseModel):
    user: str = Field(max_length=64)
    label: str = Field(min_length=1, max_length=128)
    scope: Literal["read", "write"] = "read"
    days: int = Field(auth.TOKEN_DAYS, ge=1, le=auth.MAX_TOKEN_DAYS)


@router.get("/tokens", summary="API tokens (never their values): label, scope, expiry, last use, state",
            **role("admin"))
def list_tokens(request: Request, who: Principal = ADMIN) -> Response:
    return json_response(auth.list_tokens(request.app.state.engine))


@router.post("/tokens", status_code=201, summary="Make a named API token (its value is shown once)", **role("admin"))
def create_token(request: Request, body: NewToken, who: Principal = ADMIN) -> dict:
    engine = request.app.state.engine
    secret = auth.issue_token(engine, body.user, body.label, scope=body.scope, days=body.days)
    audit.record(engine, who.user, "token.issue", body.user, {"scope": body.scope, "days": body.days},
                 via=who.via, client=client_of(request))
    return {"token": secret, "user": body.user, "label": body.label, "scope": body.scope, "days": body.days}


@router.delete("/tokens/{token_id}", summary="Revoke one API token", **role("admin"))
def revoke_token(request: Request, token_id: int, who: Principal = ADMIN) -> dict:
    engine = request.app.state.engine
    owner = auth.revoke_token(engine, token_id)
    audit.record(engine, who.user, "token.revoke", owner, {"token": token_id}, via=who.via, client=client_of(request))
    return {"revoked": token_id, "user": owner}


@router.get("/audit", summary="The audit log, newest first", **role("admin"))
def audit_log(request: Request, limit: int = 100, offset: int = 0, action: str | None = None, user: str | None = None,
              who: Principal = ADMIN) -> dict:
    total, rows = audit.recent(request.app.state.engine, limit=min(max(limit, 1), 1000), offset=max(offset, 0),
                               action=action, user_name=user)
    return {"total": total, "rows": rows}


# --------------------------------------------------------------------------- uploads


@router.post("/uploads", status_code=201, summary="Upload one claim (837/CSV/FHIR) or remittance (835) file",
             description="Stored, read and recorded all or nothing. 422 with the problems (file, segment, byte offset, "
             "line, column) when nothing could be read; 413 when larger than `max_upload_mb`.", **role("biller"))
def upload(request: Request, kind: Literal["claims", "remits"] = Form(...), file: UploadFile = File(...),
           who: Principal = BILLER) -> dict:
    from . import services

    try:
        result = services.store_upload(request, who, kind, file.filename or "upload", file.file)
    except uploads.UploadRefused as exc:
        audit.record(request.app.state.engine, who.user, "upload.refused", None, {"kind": kind}, via=who.via,
                     client=client_of(request))
        raise HTTPException(status_code=422, detail={"message": str(exc), "problems": exc.problems}) from None
    except uploads.DuplicateUpload as exc:
        audit.record(request.app.state.engine, who.user, "upload.duplicate", exc.existing["id"], {"kind": kind},
                     via=who.via, client=client_of(request))
        raise HTTPException(status_code=409, detail=exc.as_dict()) from None
    return result.as_dict()


@router.get("/uploads", summary="Uploaded files, newest first, a page at a time",
            description="`limit` rows (default 50); pass the answer's `next` as `before` for the next page. "
            "`state` says queued, processing or committed.", **role("biller"))
def list_uploads(request: Request, kind: Literal["claims", "remits"] | None = None,
                 limit: int = Query(50, ge=1, le=500), before: str | None = Query(None, max_length=80),
                 who: Principal = BILLER) -> Response:
    rows = uploads.list_uploads(request.app.state.engine, kind=kind, limit=limit, before=before)
    audit.record(request.app.state.engine, who.user, "upload.list", None, {"rows": len(rows), "kind": kind},
                 via=who.via, client=client_of(request))
    return json_response({"rows": rows, "next": uploads.cursor_of(rows[-1]) if len(rows) == limit else None})


def may_delete(who: Principal, upload: dict) -> bool:
    """Admins delete any upload; the uploader deletes their own."""
    return who.user.has_role("admin") or upload["uploaded_by"] == who.user.id


@router.delete("/uploads/{upload_id}", summary="Delete an upload and everything derived from it",
               description="Its file, tables, check results and the worklist items only it produced (with their "
               "history). Admins may delete any upload, the uploader their own. Audited as `upload.delete`.",
               **role("biller"))
def delete_upload(request: Request, upload_id: str, who: Principal = BILLER) -> dict:
    found = services.upload_or_404(request, upload_id)
    if not may_delete(who, found):
        from .security import refused

        refused(request, who, "not the uploader")
        raise HTTPException(status_code=403, detail="only the uploader or an admin may delete an upload")
    removed = uploads.delete_upload(request.app.state.engine, request.app.state.uploads_dir, found, who.user,
                                    via=who.via, client=client_of(request))
    services.worklist_changed()
    return {"deleted": upload_id, **removed}


@router.get("/uploads/{upload_id}", summary="One upload with what was skipped and why, a page of claims or items at a time",
            description="`limit` claims (with their lines and findings) or worklist items from `offset`; "
            "`page.next_offset` is the next page's offset.", **role("biller"))
def get_upload(request: Request, upload_id: str, offset: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000),
               who: Principal = BILLER) -> dict:
    from . import services

    found = services.upload_or_404(request, upload_id)
    detail = services.upload_detail(request, found, offset=offset, limit=limit)
    audit.record(request.app.state.engine, who.user, "upload.view", upload_id, via=who.via, client=client_of(request))
    return {**found, **detail}


@router.get("/uploads/{upload_id}/fixes", summary="The mechanical fixes the check found (before / after per line)",
            **role("biller"))
def list_fixes(request: Request, upload_id: str, who: Principal = BILLER) -> Response:
    found = services.upload_or_404(request, upload_id)
    _, changes = services.fixes(request, found)
    audit.record(request.app.state.engine, who.user, "fixes.view", upload_id, {"changes": changes.num_rows},
                 via=who.via, client=client_of(request))
    return json_response({"changes": changes.to_pylist()})


@router.post("/uploads/{upload_id}/corrected", summary="Apply the mechanical fixes and download the corrected file",
             description="An 837 for X12 uploads, the claim CSV template otherwise. `X-Reclaim-Changes` says how many "
             "fields changed.", **role("biller"))
def corrected(request: Request, upload_id: str, who: Principal = BILLER) -> Response:
    found = services.upload_or_404(request, upload_id)
    data, name, count = services.corrected_file(request, found)
    audit.record(request.app.state.engine, who.user, "fixes.download", upload_id, {"changes": count},
                 via=who.via, client=client_of(request))
    if not name.endswith(".837"):
        data = escape_csv(data)  # the corrected CSV opens in Excel: the same escaping as every export
    media = "application/edi-x12" if name.endswith(".837") else "text/csv; charset=utf-8"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{uploads.safe_name(name)}"',
                                                     "X-Reclaim-Changes": str(count)})


# --------------------------------------------------------------------------- worklist


class WorklistFilters(BaseModel):
    """Query parameters shared by the worklist list and export."""

    status: list[str] | None = None
    payer: str | None = None
    category: str | None = None
    assignee: str | None = None
    min_amount: float | None = None
    max_amount: float | None = None
    deadline_before: dt.date | None = None
    q: str | None = Field(None, max_length=100)
    sort: Literal["priority", "amount", "deadline", "payer", "status", "assignee", "category", "code"] = "priority"
    descending: bool = True


def worklist_filters(status: list[str] | None = Query(None), payer: str | None = None, category: str | None = None,
                     assignee: str | None = None, min_amount: float | None = None, max_amount: float | None = None,
                     deadline_before: dt.date | None = None, q: str | None = Query(None, max_length=100),
                     sort: Literal["priority", "amount", "deadline", "payer", "status", "assignee", "category", "code"] = "priority",
                     descending: bool = True) -> dict:
    return {k: v for k, v in locals().items() if v not in (None, "", [])}


@router.get("/worklist", summary="Worklist items, filtered and sorted",
            description="Filters: status (repeatable), payer, category (kind), assignee (`(unassigned)` for none), "
            "min_amount, max_amount, deadline_before, q (CLM01, payer claim number, code, reason). "
            "Sort: priority, amount, deadline, payer, status, assignee, category, code. Pages: pass the answer's "
            "`next` as `after` (keyset; `offset` works too, slower far in). `total` and `amount` (the filter's count "
            "and dollars) and `facets` may be up to 15 s old.", **role("biller"))
def worklist(request: Request, filters: dict = Depends(worklist_filters), limit: int = Query(100, ge=1, le=1000),
             offset: int = Query(0, ge=0), after: str | None = Query(None, max_length=400),
             who: Principal = BILLER) -> Response:
    data = services.worklist_rows(request, limit=limit, offset=offset, after=after, **filters)
    audit.record(request.app.state.engine, who.user, "worklist.list", None,
                 {"rows": len(data["rows"]), "filters": sorted(filters), "items": [r["id"] for r in data["rows"]]},
                 via=who.via, client=client_of(request))
    return json_response(data)


class ItemChange(BaseModel):
    status: Literal["new", "in_progress", "submitted", "recovered", "written_off"] | None = None
    assignee: str | None = Field(None, max_length=64)
    note: str | None = Field(None, max_length=4000)
    recovered_amount: float | None = Field(None, ge=0)


@router.get("/worklist/{item_id}", summary="One worklist item with its history", **role("biller"))
def worklist_item(request: Request, item_id: str, who: Principal = BILLER) -> dict:
    item = services.worklist_item(request, item_id)
    audit.record(request.app.state.engine, who.user, "worklist.view", item_id, via=who.via, client=client_of(request))
    return item


def _check_assignee(request: Request, assignee: str | None) -> None:
    """An assignee must be a user (``""`` unassigns); who may assign whom is the service's rule."""
    if assignee and assignee.strip():
        try:
            auth.get_user(request.app.state.engine, assignee.strip())
        except auth.AuthError:
            raise HTTPException(status_code=422, detail=f"no user named {assignee!r} to assign to") from None


@router.patch("/worklist/{item_id}", summary="Change an item's status, assignee or add a note",
              description="Statuses move new -> in_progress -> submitted -> recovered / written_off. Billers change "
              "items assigned to them or to nobody, take unassigned items and give back their own (`assignee`: "
              "`\"\"`); managers change any item and assign anyone.", **role("biller"))
def change_item(request: Request, item_id: str, body: ItemChange, who: Principal = BILLER) -> dict:
    _check_assignee(request, body.assignee)
    try:
        item = services.change_item(request, item_id, actor=who.user, **body.model_dump(exclude_none=True))
    except HTTPException as exc:
        if exc.status_code == 403:
            from .security import refused

            refused(request, who, "ownership")
        raise
    audit.record(request.app.state.engine, who.user, "worklist.update", item_id,
                 {"fields": sorted(body.model_dump(exclude_none=True))}, via=who.via, client=client_of(request))
    return item


class BulkChange(BaseModel):
    item_ids: list[str] = Field(min_length=1, max_length=5000)
    assignee: str | None = Field(None, max_length=64)
    status: Literal["new", "in_progress", "submitted", "recovered", "written_off"] | None = None


@router.post("/worklist/bulk", summary="Assign or move many items at once", **role("manager"))
def bulk_change(request: Request, body: BulkChange, who: Principal = MANAGER) -> dict:
    from ..store import WorklistError

    _check_assignee(request, body.assignee)
    done, refused = [], []
    for item_id in body.item_ids:
        try:
            services.change_item(request, item_id, actor=who.user, assignee=body.assignee, status=body.status)
            done.append(item_id)
        except (WorklistError, HTTPException) as exc:
            refused.append({"id": item_id, "reason": getattr(exc, "detail", None) or str(exc)})
    audit.record(request.app.state.engine, who.user, "worklist.bulk", None,
                 {"changed": len(done), "refused": len(refused), "assignee": bool(body.assignee), "status": body.status},
                 via=who.via, client=client_of(request))
    return {"changed": done, "refused": refused}


@router.get("/worklist.{fmt}", summary="Export the filtered worklist as CSV or XLSX",
            description="Managers export any filter; a biller exports their own items (the assignee filter is "
            "theirs, whatever was asked).", **role("biller"))
def export(request: Request, fmt: Literal["csv", "xlsx"], filters: dict = Depends(worklist_filters),
           who: Principal = BILLER) -> Response:
    if not who.user.has_role("manager"):
        filters = {**filters, "assignee": who.user.name}
    header, rows = services.export_rows(request, **filters)
    audit.record(request.app.state.engine, who.user, "worklist.export", None,
                 {"rows": len(rows), "format": fmt, "filters": sorted(filters), "items": [row[0] for row in rows]},
                 via=who.via, client=client_of(request))
    stamp = dt.date.today().isoformat()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([[safe_cell(v) for v in row] for row in rows])
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="worklist-{stamp}.csv"'})
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "worklist"
    sheet.append(header)
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="worklist-{stamp}.xlsx"'})


LETTER_TYPES = {"pdf": "application/pdf",
                "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@router.get("/worklist/{item_id}/letter.{fmt}", summary="The appeal letter of an item (PDF or DOCX)", **role("biller"))
def letter(request: Request, item_id: str, fmt: Literal["pdf", "docx"], who: Principal = BILLER) -> Response:
    data, name = services.letter(request, item_id, fmt)
    audit.record(request.app.state.engine, who.user, "letter.download", item_id, {"format": fmt}, via=who.via,
                 client=client_of(request))
    return Response(data, media_type=LETTER_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --------------------------------------------------------------------------- claims, dashboard, guide


@router.get("/claims/{claim_key:path}", summary="Submitted vs paid for one claim (CLM01 = CLP01), every adjustment explained",
            **role("biller"))
def claim(request: Request, claim_key: str, who: Principal = BILLER) -> dict:
    view = services.claim_view(request, claim_key)
    audit.record(request.app.state.engine, who.user, "claim.view", claim_key, via=who.via, client=client_of(request))
    return view


@router.get("/dashboard", summary="Denial rate and denied dollars by month, payer, code, category, edit; recovered dollars",
            **role("manager"))
def dashboard(request: Request, who: Principal = MANAGER) -> dict:
    data = services.dashboard(request)
    audit.record(request.app.state.engine, who.user, "dashboard.view", None, via=who.via, client=client_of(request))
    return data


@router.get("/refdata/diff", summary="What a new reference release changes and what it means for this practice "
            "(the uploaded claims and the open worklist)", **role("manager"))
def refdata_diff(request: Request, old: str = Query(..., max_length=16), new: str = Query(..., max_length=16),
                 who: Principal = MANAGER) -> Response:
    report = services.release_diff(request, old, new)
    audit.record(request.app.state.engine, who.user, "refdata.diff", None, {"old": old, "new": new}, via=who.via,
                 client=client_of(request))
    return json_response(report)


@router.get("/guide/search", summary="Search HCPCS codes by drug name or words of the descriptor", **role("biller"))
def guide_search(request: Request, q: str = Query(..., min_length=2, max_length=100), on: dt.date | None = None,
                 who: Principal = BILLER) -> list[dict]:
    return services.search(request, q, on)


@router.get("/guide/{code}", summary="Billing guide for one HCPCS code on a date of service", **role("biller"))
def guide(request: Request, code: str, on: dt.date | None = None, who: Principal = BILLER) -> dict:
    return services.guide(request, code, on)

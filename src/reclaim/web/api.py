"""The REST API under ``/api/``: JSON in and out, described by the OpenAPI document at
``/api/openapi.json``. Scripts authenticate with ``Authorization: Bearer <token>``
(``reclaim users token NAME``); the browser's session cookie works too (with the CSRF header
on changes). Every endpoint declares the least role that may call it (``x-role`` in OpenAPI)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field

from .. import __version__
from . import audit, auth, uploads
from .security import Principal, client_of, require

router = APIRouter(prefix="/api", tags=["api"])


def role(least: str) -> dict:
    """Route options: the role dependency, and the role named in the OpenAPI document."""
    return {"dependencies": [], "openapi_extra": {"x-role": least}}


BILLER, MANAGER, ADMIN = Depends(require("biller")), Depends(require("manager")), Depends(require("admin"))


def _via(who: Principal) -> str:
    return who.via


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
    try:
        result = uploads.store_upload(request.app.state.engine, request.app.state.uploads_dir, who.user, kind,
                                      file.filename or "upload", file.file, via=who.via, client=client_of(request))
    except uploads.UploadRefused as exc:
        audit.record(request.app.state.engine, who.user, "upload.refused", None, {"kind": kind}, via=who.via,
                     client=client_of(request))
        raise HTTPException(status_code=422, detail={"message": str(exc), "problems": exc.problems}) from None
    return result.as_dict()


@router.get("/uploads", summary="Uploaded files, newest first", **role("biller"))
def list_uploads(request: Request, kind: Literal["claims", "remits"] | None = None, who: Principal = BILLER) -> list[dict]:
    return uploads.list_uploads(request.app.state.engine, kind=kind)


@router.get("/uploads/{upload_id}", summary="One upload with what was skipped and why", **role("biller"))
def get_upload(request: Request, upload_id: str, who: Principal = BILLER) -> dict:
    from . import services

    found = services.upload_or_404(request, upload_id)
    detail = services.upload_detail(request, found)
    audit.record(request.app.state.engine, who.user, "upload.view", upload_id, via=who.via, client=client_of(request))
    return {**found, **detail}

"""HTML pages. Each route checks the role, calls the same library function as its
``/api/`` twin, writes the audit row when it reads or changes patient data, and renders a
template (autoescaped). Forms post with the session's CSRF secret."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from . import audit, auth, uploads
from .db import audit_log
from .security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Principal, client_of, principal, require, same_origin
from .templating import render

from fastapi import Depends

router = APIRouter(include_in_schema=False)
BILLER, MANAGER, ADMIN = Depends(require("biller")), Depends(require("manager")), Depends(require("admin"))
#: failed sign-ins of one name within the window before further tries are refused
LOCKOUT_FAILURES, LOCKOUT_WINDOW = 10, timedelta(minutes=15)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


# --------------------------------------------------------------------------- sign in / out


def _login_page(request: Request, *, error: str | None = None, username: str = "", status: int = 200):
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", {"login_csrf": token, "error": error, "username": username}, status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request):
    if principal(request) is not None:
        return RedirectResponse("/worklist", status_code=303)
    return _login_page(request)


def _recent_failures(engine, name: str) -> int:
    since = auth.now() - LOCKOUT_WINDOW
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(audit_log)
            .where(audit_log.c.action == "login.failed", audit_log.c.user_name == name[:64], audit_log.c.at >= since)
        ).scalar_one()


@router.post("/login")
def login(request: Request, username: str = Form(..., max_length=64), password: str = Form(..., max_length=1024),
          csrf_token: str = Form("")):
    engine, settings = request.app.state.engine, request.app.state.settings
    if not same_origin(request) or not auth.csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        return _login_page(request, error="The sign-in form expired or came from another site. Try again.", status=403)
    if _recent_failures(engine, username) >= LOCKOUT_FAILURES:
        audit.record(engine, None, "login.locked", username[:64], client=client_of(request), user_name=username[:64])
        return _login_page(request, error="Too many failed sign-ins for this name. Wait 15 minutes or ask an admin.",
                           username=username, status=429)
    user = auth.authenticate(engine, username, password)
    if user is None:
        audit.record(engine, None, "login.failed", username[:64], client=client_of(request), user_name=username[:64])
        return _login_page(request, error="Wrong user name or password.", username=username, status=401)
    secret, session = auth.open_session(engine, user, settings.session_minutes)
    audit.record(engine, user, "login.ok", user.name, client=client_of(request))
    response = RedirectResponse("/worklist", status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=settings.session_minutes * 60, path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, who: Principal = BILLER):
    auth.close_session(request.app.state.engine, request.cookies.get(SESSION_COOKIE, ""))
    audit.record(request.app.state.engine, who.user, "logout", who.user.name, client=client_of(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request):
    return RedirectResponse("/worklist" if principal(request) else "/login", status_code=303)


# --------------------------------------------------------------------------- uploads


@router.get("/uploads")
def uploads_page(request: Request, who: Principal = BILLER):
    rows = uploads.list_uploads(request.app.state.engine)
    return render(request, "uploads.html", {"uploads": rows, "kinds": uploads.KINDS,
                                            "limit_mb": request.app.state.settings.max_upload_mb})


@router.post("/uploads")
def upload_files(request: Request, kind: str = Form(...), files: list[UploadFile] = Form(...), who: Principal = BILLER):
    """The no-JavaScript fallback: several files in one form post, one result per file."""
    results, refused = [], []
    for upload in files:
        try:
            results.append(uploads.store_upload(request.app.state.engine, request.app.state.uploads_dir, who.user, kind,
                                                upload.filename or "upload", upload.file, client=client_of(request)))
        except uploads.UploadRefused as exc:
            audit.record(request.app.state.engine, who.user, "upload.refused", None, {"kind": kind}, client=client_of(request))
            refused.append({"message": str(exc), "problems": exc.problems})
    rows = uploads.list_uploads(request.app.state.engine)
    return render(request, "uploads.html", {"uploads": rows, "kinds": uploads.KINDS, "results": results, "refused": refused,
                                            "limit_mb": request.app.state.settings.max_upload_mb},
                  status_code=200 if results or not refused else 422)


@router.get("/uploads/{upload_id}")
def upload_page(request: Request, upload_id: str, who: Principal = BILLER):
    from . import services

    upload = services.upload_or_404(request, upload_id)
    detail = services.upload_detail(request, upload)
    audit.record(request.app.state.engine, who.user, "upload.view", upload_id, client=client_of(request))
    return render(request, "upload.html", {"upload": upload, **detail})


# --------------------------------------------------------------------------- admin


@router.get("/admin/users")
def users_page(request: Request, who: Principal = ADMIN, message: str | None = None):
    return render(request, "users.html", {"users": auth.list_users(request.app.state.engine), "message": message})


@router.post("/admin/users")
def users_add(request: Request, name: str = Form(..., max_length=64), role: str = Form(...),
              password: str = Form(..., max_length=1024), who: Principal = ADMIN):
    engine = request.app.state.engine
    try:
        user = auth.add_user(engine, name, role, password)
    except auth.AuthError as exc:
        return render(request, "users.html", {"users": auth.list_users(engine), "error": str(exc)}, status_code=400)
    audit.record(engine, who.user, "user.create", user.name, {"role": role}, client=client_of(request))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}")
def users_change(request: Request, name: str, role: str = Form(""), active: str = Form(""), who: Principal = ADMIN):
    engine = request.app.state.engine
    if name == who.user.name and (active == "no" or (role and role != "admin")):
        return render(request, "users.html", {"users": auth.list_users(engine),
                                              "error": "You cannot disable yourself or drop your own admin role."}, status_code=400)
    if role:
        auth.set_role(engine, name, role)
        audit.record(engine, who.user, "user.role", name, {"role": role}, client=client_of(request))
    if active in ("yes", "no"):
        auth.set_active(engine, name, active == "yes")
        audit.record(engine, who.user, "user.enable" if active == "yes" else "user.disable", name, client=client_of(request))
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit")
def audit_page(request: Request, who: Principal = ADMIN, action: str | None = None, user: str | None = None, page: int = 1):
    page = max(page, 1)
    total, rows = audit.recent(request.app.state.engine, limit=100, offset=(page - 1) * 100, action=action or None,
                               user_name=user or None)
    return render(request, "audit.html", {"rows": rows, "total": total, "page": page, "action": action or "", "user": user or ""})


@router.get("/api")
def api_reference(request: Request, who: Principal = BILLER):
    schema = request.app.openapi()
    endpoints = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            endpoints.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                              "description": op.get("description", ""), "role": op.get("x-role", "")})
    return render(request, "api.html", {"endpoints": endpoints})

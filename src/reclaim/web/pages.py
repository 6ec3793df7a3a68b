"""HTML pages. Each route checks the role, calls the same library function as its
``/api/`` twin, writes the audit row when it reads or changes patient data, and renders a
template (autoescaped). Forms post with the session's CSRF secret."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse

from . import api, audit, auth, throttle, uploads
from .security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Principal, client_of, principal, require, same_origin
from .templating import render

from fastapi import Depends

router = APIRouter(include_in_schema=False)
BILLER, MANAGER, ADMIN = Depends(require("biller")), Depends(require("manager")), Depends(require("admin"))


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


def _known_name(engine, name: str) -> str | None:
    """``name`` when it is a user's name, else None: the audit log keeps what was typed in the
    name field only when it names a user (a password typed there must not be stored)."""
    try:
        return auth.get_user(engine, name).name
    except auth.AuthError:
        return None


@router.post("/login")
def login(request: Request, username: str = Form(..., max_length=64), password: str = Form(..., max_length=1024),
          csrf_token: str = Form("")):
    engine, settings = request.app.state.engine, request.app.state.settings
    if not same_origin(request) or not auth.csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        return _login_page(request, error="The sign-in form expired or came from another site. Try again.", status=403)
    client = client_of(request)
    known = _known_name(engine, username)
    device = request.cookies.get(throttle.DEVICE_COOKIE, "")
    refusal = throttle.check(engine, username, client, known_device=bool(known) and throttle.is_known_device(engine, device, known))
    if refusal is not None:
        audit.record(engine, None, "login.throttled", known, {"key": refusal.which, "seconds": refusal.seconds},
                     client=client, user_name=known)
        response = _login_page(request, error=refusal.message, username=known or "", status=429)
        response.headers["Retry-After"] = str(refusal.seconds)
        return response
    user = auth.authenticate(engine, username, password)
    if user is None:
        throttle.failed(engine, username, client)
        audit.record(engine, None, "login.failed", known, None if known else {"name": "not a user"},
                     client=client, user_name=known)
        return _login_page(request, error="Wrong user name or password.", username=known or "", status=401)
    throttle.succeeded(engine, username, client)
    secret, session = auth.open_session(engine, user, settings.session_minutes)
    audit.record(engine, user, "login.ok", user.name, client=client)
    response = RedirectResponse("/worklist", status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=settings.session_minutes * 60, path="/")
    if not throttle.is_known_device(engine, device, user.name):
        response.set_cookie(throttle.DEVICE_COOKIE, throttle.remember_device(engine, user.id), httponly=True,
                            samesite="strict", secure=_secure(request), max_age=365 * 24 * 3600, path="/login")
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, who: Principal = BILLER):
    auth.close_session(request.app.state.engine, request.cookies.get(SESSION_COOKIE, ""))
    audit.record(request.app.state.engine, who.user, "logout", who.user.name, client=client_of(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/favicon.ico")
def favicon():
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/")
def home(request: Request):
    return RedirectResponse("/worklist" if principal(request) else "/login", status_code=303)


# --------------------------------------------------------------------------- uploads


UPLOADS_PAGE = 50
#: claims (with their lines and findings) or worklist items on one page of an upload's results
UPLOAD_PAGE = 100
#: mechanical fixes listed on the results page (the download applies all of them)
FIXES_SHOWN = 500


def _uploads_context(request: Request, before: str | None = None) -> dict:
    rows = uploads.list_uploads(request.app.state.engine, limit=UPLOADS_PAGE, before=before or None)
    return {"uploads": rows, "kinds": uploads.KINDS, "limit_mb": request.app.state.settings.max_upload_mb,
            "next_before": uploads.cursor_of(rows[-1]) if len(rows) == UPLOADS_PAGE else None}


@router.get("/uploads")
def uploads_page(request: Request, who: Principal = BILLER, before: str | None = None, message: str | None = None):
    context = _uploads_context(request, before)
    audit.record(request.app.state.engine, who.user, "upload.list", None, {"rows": len(context["uploads"])},
                 client=client_of(request))
    return render(request, "uploads.html", {**context, "message": message})


@router.post("/uploads")
def upload_files(request: Request, kind: str = Form(...), files: list[UploadFile] = Form(...), who: Principal = BILLER):
    """The no-JavaScript fallback: several files in one form post, one result per file."""
    from . import services

    if kind not in uploads.KINDS:
        raise HTTPException(status_code=422, detail=f"kind must be one of {', '.join(uploads.KINDS)}")
    results, refused = [], []
    for upload in files:
        try:
            results.append(services.store_upload(request, who, kind, upload.filename or "upload", upload.file))
        except uploads.UploadRefused as exc:
            audit.record(request.app.state.engine, who.user, "upload.refused", None, {"kind": kind}, client=client_of(request))
            refused.append({"message": str(exc), "problems": exc.problems})
        except uploads.DuplicateUpload as exc:
            audit.record(request.app.state.engine, who.user, "upload.duplicate", exc.existing["id"], {"kind": kind},
                         client=client_of(request))
            refused.append({**exc.as_dict(), "problems": []})
    return render(request, "uploads.html", {**_uploads_context(request), "results": results, "refused": refused},
                  status_code=200 if results or not refused else 422)


@router.post("/uploads/{upload_id}/delete")
def upload_delete(request: Request, upload_id: str, who: Principal = BILLER):
    result = api.delete_upload(request, upload_id, who)
    return RedirectResponse(f"/uploads?message=deleted%20the%20upload%20and%20{result['items']}%20worklist%20items",
                            status_code=303)


@router.get("/uploads/{upload_id}")
def upload_page(request: Request, upload_id: str, offset: int = 0, who: Principal = BILLER):
    from . import services

    upload = services.upload_or_404(request, upload_id)
    detail = services.upload_detail(request, upload, offset=max(offset, 0), limit=UPLOAD_PAGE)
    audit.record(request.app.state.engine, who.user, "upload.view", upload_id, client=client_of(request))
    changes = []
    if upload["kind"] == "claims" and detail.get("claims"):
        try:
            all_changes = services.fixes(request, upload)[1]
            changes = all_changes.slice(0, FIXES_SHOWN).to_pylist()
            detail["changes_total"] = all_changes.num_rows
        except HTTPException:
            changes = []
    return render(request, "upload.html", {"upload": upload, "changes": changes, **detail})


@router.post("/uploads/{upload_id}/corrected")
def corrected_download(request: Request, upload_id: str, who: Principal = BILLER):
    return api.corrected(request, upload_id, who)


# --------------------------------------------------------------------------- admin


def _users_context(request: Request) -> dict:
    engine = request.app.state.engine
    rows = auth.list_users(engine)
    for row in rows:
        row["throttle"] = throttle.state(engine, row["name"])
    return {"users": rows, "tokens": auth.list_tokens(engine)}


@router.get("/admin/users")
def users_page(request: Request, who: Principal = ADMIN, message: str | None = None):
    return render(request, "users.html", {**_users_context(request), "message": message})


@router.post("/admin/users/{name}/unlock")
def users_unlock(request: Request, name: str, who: Principal = ADMIN):
    api.unlock_user(request, name, who)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/tokens")
def tokens_add(request: Request, user: str = Form(..., max_length=64), label: str = Form(..., max_length=128),
               scope: str = Form("read"), days: int = Form(auth.TOKEN_DAYS), who: Principal = ADMIN):
    try:
        made = api.create_token(request, api.NewToken(user=user, label=label, scope=scope, days=days), who)
    except (auth.AuthError, ValueError) as exc:
        return render(request, "users.html", {**_users_context(request), "error": str(exc).splitlines()[0]},
                      status_code=400)
    return render(request, "users.html", {**_users_context(request), "new_token": made})


@router.post("/admin/tokens/{token_id}/revoke")
def tokens_revoke(request: Request, token_id: int, who: Principal = ADMIN):
    api.revoke_token(request, token_id, who)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/account")
def account_page(request: Request, who: Principal = BILLER):
    return render(request, "account.html", {})


@router.post("/account/password")
def account_password(request: Request, current: str = Form(..., max_length=1024), new: str = Form(..., max_length=1024),
                     who: Principal = BILLER):
    try:
        api.change_password(request, api.PasswordChange(current=current, new=new), who)
    except auth.AuthError as exc:
        return render(request, "account.html", {"error": str(exc)}, status_code=400)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/admin/users")
def users_add(request: Request, name: str = Form(..., max_length=64), role: str = Form(...),
              password: str = Form(..., max_length=1024), who: Principal = ADMIN):
    engine = request.app.state.engine
    try:
        user = auth.add_user(engine, name, role, password)
    except auth.AuthError as exc:
        return render(request, "users.html", {**_users_context(request), "error": str(exc)}, status_code=400)
    audit.record(engine, who.user, "user.create", user.name, {"role": role}, client=client_of(request))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}")
def users_change(request: Request, name: str, role: str = Form(""), active: str = Form(""), who: Principal = ADMIN):
    engine = request.app.state.engine
    if name == who.user.name and (active == "no" or (role and role != "admin")):
        return render(request, "users.html", {**_users_context(request),
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


# --------------------------------------------------------------------------- worklist


@router.get("/worklist")
def worklist_page(request: Request, who: Principal = BILLER, filters: dict = Depends(api.worklist_filters),
                  page: int = 1, after: str | None = None, message: str | None = None):
    from . import services

    page = max(page, 1)
    data = services.worklist_rows(request, limit=100, after=after or None, **filters)
    audit.record(request.app.state.engine, who.user, "worklist.list", None,
                 {"rows": len(data["rows"]), "filters": sorted(filters), "items": [r["id"] for r in data["rows"]]},
                 client=client_of(request))
    users = [u["name"] for u in auth.list_users(request.app.state.engine) if u["active"]]
    import datetime as dt

    return render(request, "worklist.html", {**data, "filters": filters, "page": page, "users": users, "today": dt.date.today(),
                                             "query": _query(filters), "sort_urls": _sort_urls(filters),
                                             "next_url": "?" + _query(filters, page=page + 1, after=data["next"])
                                             if data["next"] else None, "message": message})


def _query(filters: dict, **extra) -> str:
    from urllib.parse import urlencode

    return urlencode({**{k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items()}, **extra},
                     doseq=True)


def _sort_urls(filters: dict) -> dict[str, str]:
    """A column header link: sort by it, largest first; clicked again, the other way."""
    current, descending = filters.get("sort", "priority"), filters.get("descending", True)
    urls = {}
    for key in services_sorts():
        flip = not descending if key == current else True
        urls[key] = "?" + _query({**filters, "sort": key, "descending": flip})
    return urls


def services_sorts():
    from .services import SORTS

    return SORTS


@router.post("/worklist/bulk")
def worklist_bulk(request: Request, item_ids: list[str] = Form(...), assignee: str = Form(""), status: str = Form(""),
                  back: str = Form("/worklist"), who: Principal = MANAGER):
    body = api.BulkChange(item_ids=item_ids, assignee=assignee or None, status=status or None)
    result = api.bulk_change(request, body, who)
    note = f"{len(result['changed'])} item(s) changed" + (f", {len(result['refused'])} refused: {result['refused'][0]['reason']}" if result["refused"] else "")
    return RedirectResponse(_back(back, note), status_code=303)


def _back(back: str, message: str) -> str:
    from urllib.parse import urlencode

    target = back if back.startswith("/") and not back.startswith("//") else "/worklist"
    return f"{target}{'&' if '?' in target else '?'}{urlencode({'message': message})}"


@router.get("/worklist/{item_id}")
def item_page(request: Request, item_id: str, who: Principal = BILLER, message: str | None = None):
    from . import services

    item = services.worklist_item(request, item_id)
    audit.record(request.app.state.engine, who.user, "worklist.view", item_id, client=client_of(request))
    users = [u["name"] for u in auth.list_users(request.app.state.engine) if u["active"]]
    from ..store import TRANSITIONS

    from ..documents.letters import LETTER_ACTIONS

    return render(request, "item.html", {"item": item, "users": users, "next_statuses": TRANSITIONS[item["status"]],
                                         "message": message, "has_letter": item["data"].get("action") in LETTER_ACTIONS
                                                       and not item["data"].get("deadline_passed")})


@router.post("/worklist/{item_id}")
def item_change(request: Request, item_id: str, status: str = Form(""), assignee: str = Form(""), note: str = Form("", max_length=4000),
                recovered_amount: str = Form(""), who: Principal = BILLER):
    from ..store import WorklistError

    try:
        amount = float(recovered_amount) if recovered_amount.strip() else None
        # "(nobody)" unassigns ("" in the API); "" is "keep"
        body = api.ItemChange(status=status or None, assignee="" if assignee == "(nobody)" else assignee or None,
                              note=note or None, recovered_amount=amount)
        api.change_item(request, item_id, body, who)
        message = "saved"
    except (WorklistError, ValueError) as exc:
        message = str(exc).splitlines()[0]
    except HTTPException as exc:
        if exc.status_code != 403:
            raise
        message = str(exc.detail)
    return RedirectResponse(_back(f"/worklist/{item_id}", message), status_code=303)


@router.get("/worklist/{item_id}/letter.{fmt}")
def letter_download(request: Request, item_id: str, fmt: str, who: Principal = BILLER):
    if fmt not in api.LETTER_TYPES:
        raise HTTPException(status_code=404, detail="letters are pdf or docx")
    return api.letter(request, item_id, fmt, who)


@router.get("/claims/{claim_key:path}")
def claim_page(request: Request, claim_key: str, who: Principal = BILLER):
    from . import services

    view = services.claim_view(request, claim_key)
    audit.record(request.app.state.engine, who.user, "claim.view", claim_key, client=client_of(request))
    return render(request, "claim.html", view)


@router.get("/dashboard")
def dashboard_page(request: Request, who: Principal = MANAGER):
    from . import charts, services

    data = services.dashboard(request)
    audit.record(request.app.state.engine, who.user, "dashboard.view", None, client=client_of(request))
    figures = {
        "months": charts.columns_with_rate(data["by_month"], label="month", bars="denied", rate="denial_rate",
                                           title="Denied dollars (columns) and share of claims denied (line) by month"),
        "payers": charts.hbar(data["by_payer"], "payer", "denied", title="Denied dollars by payer"),
        "codes": charts.hbar(data["by_code"], "code", "denied", title="Denied dollars by HCPCS code"),
        "categories": charts.hbar(data["by_category"], "category", "denied", title="Denied dollars by denial category"),
        "edits": charts.hbar(data["by_edit"], "edit", "denied", title="Denied dollars by the edit that would have prevented them"),
        "recovered": charts.hbar(data["recovered_by_month"], "month", "recovered", title="Recovered dollars by month"),
    }
    return render(request, "dashboard.html", {**data, "figures": figures})


@router.get("/guide")
def guide_page(request: Request, q: str = "", on: str = "", who: Principal = BILLER):
    import datetime as dt

    from ..documents.guide import parse_code
    from ..errors import ReclaimError
    from . import services

    q = q.strip()[:100]
    context: dict = {"q": q, "on": on, "guide": None, "hits": None, "error": None}
    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        day, context["error"] = None, f"date of service must be YYYY-MM-DD, got {on!r}"
    if q and not context["error"]:
        try:
            code = parse_code(q)
        except ReclaimError:
            code = None
        try:
            if code:
                context["guide"] = services.guide(request, code, day)
            else:
                context["hits"] = services.search(request, q, day)
        except ReclaimError as exc:
            context["error"] = str(exc)
            if code:
                context["hits"] = services.search(request, q, day) if len(q) > 2 else []
    return render(request, "guide.html", context)


@router.get("/refdata/diff")
def release_diff_page(request: Request, old: str = "", new: str = "", who: Principal = MANAGER):
    from ..errors import ReclaimError
    from . import services

    old, new = old.strip()[:16], new.strip()[:16]
    releases = services.diff_releases_loaded(request)
    context: dict = {"releases": releases, "old": old, "new": new, "report": None, "error": None}
    if not old and not new and len(releases) > 1:
        # the two newest releases of the same naming (quarter or month) by default
        context["new"] = releases[0]["release"]
        context["old"] = next((r["release"] for r in releases[1:] if ("Q" in r["release"]) == ("Q" in context["new"])),
                              releases[1]["release"])
    elif old and new:
        try:
            context["report"] = services.release_diff(request, old, new)
            audit.record(request.app.state.engine, who.user, "refdata.diff", None, {"old": old, "new": new},
                         client=client_of(request))
        except ReclaimError as exc:
            context["error"] = str(exc) + (f" ({exc.hint})" if exc.hint else "")
    return render(request, "refdata_diff.html", context)

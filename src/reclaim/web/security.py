"""Who is asking, and may they: the FastAPI dependencies every route declares.

A request is authenticated either by the session cookie (the browser) or by an API token in
``Authorization: Bearer`` (scripts). Browser requests that change state must echo the session's
CSRF secret (form field ``csrf_token`` or header ``X-CSRF-Token``) and, when the browser sends
an ``Origin``, come from this site; token requests carry no ambient credential and need neither.
Every route depends on :func:`require` with the least role that may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from fastapi import Depends, HTTPException, Request

from . import auth
from .auth import Session, User

SESSION_COOKIE = "reclaim_session"
LOGIN_CSRF_COOKIE = "reclaim_login_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    user: User
    via: str  # "web" (session cookie) or "api" (bearer token)
    session: Session | None = None
    scope: str = "write"  # an API token's scope: "read" tokens may only GET

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""


class NotSignedIn(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=401, detail="sign in first (session cookie or `Authorization: Bearer <token>`)",
                         headers={"WWW-Authenticate": "Bearer"})


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def principal(request: Request) -> Principal | None:
    """The signed-in user of this request, or None. Cached on the request."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    engine, settings = request.app.state.engine, request.app.state.settings
    found: Principal | None = None
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        found_token = auth.user_for_token(engine, header[7:].strip())
        if found_token is None:
            raise HTTPException(status_code=401, detail="the API token is unknown, expired, revoked, or its user is disabled",
                                headers={"WWW-Authenticate": "Bearer"})
        found = Principal(found_token[0], "api", scope=found_token[1])
    else:
        session = auth.session_for(engine, request.cookies.get(SESSION_COOKIE, ""), settings.session_minutes)
        if session is not None:
            found = Principal(session.user, "web", session)
    request.state.principal = found
    return found


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse a state-changing browser request without the session's CSRF secret."""
    if not same_origin(request):
        raise HTTPException(status_code=403, detail="cross-site request refused (Origin does not match this site)")
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # Starlette caches it: the route reads the same form
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not auth.csrf_matches(expected, given):
        raise HTTPException(status_code=403, detail="CSRF check failed: reload the page and try again")


def route_of(request: Request) -> str:
    """The route template of the request (``/api/claims/{claim_key}``), never the path: paths
    hold claim numbers."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or "(no route)"


def refused(request: Request, who: Principal, why: str) -> None:
    """Audit a 403: who tried which route (its template) and why it was refused."""
    from . import audit

    audit.record(request.app.state.engine, who.user, "access.refused", route_of(request),
                 {"method": request.method, "why": why}, via=who.via, client=client_of(request))


def require(least_role: str) -> Callable:
    """Dependency: the request's principal, who must hold at least ``least_role``."""

    async def dependency(request: Request) -> Principal:
        who = principal(request)
        if who is None:
            raise NotSignedIn()
        if not who.user.has_role(least_role):
            refused(request, who, "role")
            raise HTTPException(status_code=403, detail=f"this needs the {least_role} role; you are {who.user.role}")
        if who.scope == "read" and request.method not in SAFE_METHODS:
            refused(request, who, "scope")
            raise HTTPException(status_code=403, detail="this API token is read-only (scope read): make a write token "
                                "with `reclaim users token NAME --scope write`")
        if who.via == "web" and request.method not in SAFE_METHODS:
            try:
                await check_csrf(request, who.csrf_token)
            except HTTPException:
                refused(request, who, "csrf")
                raise
        return who

    return dependency


BILLER = Depends(require("biller"))
MANAGER = Depends(require("manager"))
ADMIN = Depends(require("admin"))

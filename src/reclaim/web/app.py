"""The FastAPI application: middleware that makes it safe by default, and the routers.

Safe by default means:

* security headers on every response (a CSP without inline script or style, no framing,
  no sniffing, no referrer to other sites) and ``Cache-Control: no-store`` on everything but static files,
  so pages holding patient data never sit in a shared cache;
* request bodies limited to ``max_upload_mb`` while they stream in (413 with a clear message),
  and a body from someone not signed in refused (401) before any of it is read (only the
  sign-in form, a few KB at most, is read without a session);
* an access log of method, route template (``/api/claims/{claim_key}``: never the path, which
  holds claim numbers, never the query string), status and time: no PHI;
* an error the app did not expect is logged as its type and route only (no message: a
  database error's message can hold the values it was given) and answered 500;
* Swagger/ReDoc pages off (they load scripts from a CDN); the OpenAPI document is served at
  ``/api/openapi.json`` to signed-in users and rendered as a plain page at ``/api``.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from pathlib import Path

import anyio

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..config import Settings, load
from ..errors import ReclaimError
from .db import engine_for

HERE = Path(__file__).parent
access_log = logging.getLogger("reclaim.web.access")
error_log = logging.getLogger("reclaim.web.error")
#: the body a request without a session may send: the sign-in form
ANONYMOUS_BODY_LIMIT = 16 * 1024
#: routes that take a body from someone not signed in
ANONYMOUS_BODY_ROUTES = {"/login"}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" makes Chromium send Origin: null on form posts
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class _BodyTooLarge(Exception):
    pass


def route_template(scope) -> str:
    """The template of the route the router matched (``/claims/{claim_key}``), for logs: the
    router leaves it in the scope. Static files are ``/static/{path}``."""
    if scope.get("path", "").startswith("/static/"):
        return "/static/{path}"
    return getattr(scope.get("route"), "path", None) or "(no route)"


def _signed_in(app, scope) -> bool:
    """Whether the request carries a live session cookie or API token (checked before its body is read)."""
    from starlette.requests import Request as _Request

    from . import auth
    from .security import SESSION_COOKIE

    request = _Request(scope)
    engine, settings = app.state.engine, app.state.settings
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return auth.user_for_token(engine, header[7:].strip()) is not None
    return auth.session_for(engine, request.cookies.get(SESSION_COOKIE, ""), settings.session_minutes) is not None


class SafetyMiddleware:
    """Pure ASGI middleware: body size limit, no anonymous bodies, security headers, a PHI-free
    access log, PHI-free errors."""

    def __init__(self, app, limit_bytes: int):
        self.app = app
        self.limit = limit_bytes

    async def _answer(self, send, status: int, detail: str, extra: list | None = None) -> None:
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close"), *SECURITY_HEADERS, (b"cache-control", b"no-store"), *(extra or [])]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _too_large(self, send, size: int | None, limit: int) -> None:
        got = f"{size} bytes" if size is not None else "more bytes"
        await self._answer(send, 413, f"upload too large: {got} exceed the limit of {limit // (1024 * 1024)} MB "
                                      "(setting max_upload_mb); split the file or ask an admin to raise the limit"
                           if limit >= 1024 * 1024 else f"request body too large: {got} exceed {limit} bytes")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 0}

        def log_line(code) -> None:
            access_log.info("%s %s %s %.1fms", scope["method"], route_template(scope), code,
                            (time.perf_counter() - started) * 1000)

        limit = self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            if scope.get("path") in ANONYMOUS_BODY_ROUTES:
                limit = ANONYMOUS_BODY_LIMIT
            elif not await anyio.to_thread.run_sync(_signed_in, scope["app"], scope):
                # refused before a byte of the body is read: a stranger cannot make the server take in 200 MB
                await self._answer(send, 401, "sign in first (session cookie or `Authorization: Bearer <token>`)",
                                   [(b"www-authenticate", b"Bearer")])
                log_line(401)
                return
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(send, int(declared), limit)
            log_line(413)
            return
        received = 0
        responded = False

        async def limited_receive():
            nonlocal received, responded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not responded:
                        responded = True
                        status["code"] = 413
                        await self._too_large(send, None, limit)
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message):
            nonlocal responded
            if responded and status["code"] == 413:
                return  # we already answered 413; drop what the app tries to say
            if message["type"] == "http.response.start":
                responded = True
                status["code"] = message["status"]
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in names]
                if not scope.get("path", "").startswith("/static/") and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception as exc:
            # the type and where, never the message (a database error's message holds the values it was given)
            frames = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(traceback.extract_tb(exc.__traceback__)))
            error_log.error("%s %s failed: %s at %s", scope["method"], route_template(scope), type(exc).__name__, frames)
            busy = type(exc).__name__ == "OperationalError" and "locked" in str(getattr(exc, "orig", "")).lower()
            status["code"] = 503 if busy else 500
            if not responded and busy:
                responded = True
                await self._answer(send, 503, "the database is busy with another change: try again in a few seconds",
                                   [(b"retry-after", b"5")])
            elif not responded:
                responded = True
                await self._answer(send, 500, f"the server failed ({type(exc).__name__}); nothing was changed by the "
                                              "part that failed. Try again; if it persists, tell an admin (the server "
                                              "log has the details, without patient data)")
        finally:
            log_line(status["code"])


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web app for ``settings`` (default: :func:`reclaim.config.load`)."""
    from . import api, pages
    from .templating import render

    settings = settings or load()
    app = FastAPI(
        title="reclaim",
        version=__version__,
        description="Lint drug claims before submission, recover denied and underpaid drug claims after. "
        "Authenticate scripts with `Authorization: Bearer <token>` (`reclaim users token NAME`).",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, to signed-in users only
    )
    app.state.settings = settings
    app.state.engine = engine_for(settings.database_url)
    app.state.uploads_dir = settings.home_path / "uploads"
    from .uploads import recover_unfinished

    # a server killed mid-upload left rows that are not committed: undo them before serving
    recover_unfinished(app.state.engine, app.state.uploads_dir)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if wants_html(request):
            if exc.status_code == 401:
                return RedirectResponse("/login", status_code=303)
            return render(request, "error.html", {"status": exc.status_code, "message": exc.detail}, status_code=exc.status_code)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(ReclaimError)
    async def reclaim_error(request: Request, exc: ReclaimError):
        message = str(exc) + (f" ({exc.hint})" if exc.hint else "")
        if wants_html(request):
            return render(request, "error.html", {"status": 400, "message": message}, status_code=400)
        return JSONResponse({"detail": message}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        # say which field and why, never echo the submitted value (it may be patient data)
        problems = [{"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")} for e in exc.errors()]
        if wants_html(request):
            text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
            return render(request, "error.html", {"status": 422, "message": text}, status_code=422)
        return JSONResponse({"detail": problems}, status_code=422)

    from .security import require

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_document(who=Depends(require("biller"))):
        return JSONResponse(app.openapi())

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_middleware(SafetyMiddleware, limit_bytes=settings.max_upload_mb * 1024 * 1024)
    return app

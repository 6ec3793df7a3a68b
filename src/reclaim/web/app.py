"""The FastAPI application: middleware that makes it safe by default, and the routers.

Safe by default means:

* security headers on every response (a CSP without inline script or style, no framing,
  no sniffing, no referrer to other sites) and ``Cache-Control: no-store`` on everything but static files,
  so pages holding patient data never sit in a shared cache;
* request bodies limited to ``max_upload_mb`` while they stream in (413 with a clear message);
* an access log of method, path (never the query string), status and time: no PHI;
* Swagger/ReDoc pages off (they load scripts from a CDN); the OpenAPI document is served at
  ``/api/openapi.json`` and rendered as a plain page at ``/api``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from fastapi import FastAPI, Request
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


class SafetyMiddleware:
    """Pure ASGI middleware: body size limit, security headers, PHI-free access log."""

    def __init__(self, app, limit_bytes: int):
        self.app = app
        self.limit = limit_bytes

    async def _too_large(self, send, size: int | None) -> None:
        got = f"{size} bytes" if size is not None else "more bytes"
        body = json.dumps({"detail": f"upload too large: {got} exceed the limit of {self.limit // (1024 * 1024)} MB "
                                     "(setting max_upload_mb); split the file or ask an admin to raise the limit"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close"), *SECURITY_HEADERS, (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        path = scope.get("path", "")
        status = {"code": 0}
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(send, int(declared))
            access_log.info("%s %s 413 %.1fms", scope["method"], path, (time.perf_counter() - started) * 1000)
            return
        received = 0
        responded = False

        async def limited_receive():
            nonlocal received, responded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    if not responded:
                        responded = True
                        status["code"] = 413
                        await self._too_large(send, None)
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
                if not path.startswith("/static/") and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            pass
        finally:
            access_log.info("%s %s %s %.1fms", scope["method"], path, status["code"], (time.perf_counter() - started) * 1000)


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
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine_for(settings.database_url)
    app.state.uploads_dir = settings.home_path / "uploads"

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

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_middleware(SafetyMiddleware, limit_bytes=settings.max_upload_mb * 1024 * 1024)
    return app

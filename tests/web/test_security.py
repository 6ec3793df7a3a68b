"""Safe by default: size limits, malformed files, no half imports, hostile strings stored and
shown inertly, security headers everywhere, no PHI in the access log, loopback by default."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select

from reclaim.web import audit, auth, uploads
from reclaim.web.db import uploads as uploads_table

REPO = Path(__file__).resolve().parents[2]
CLAIMS_837 = REPO / "examples" / "claims" / "recover-medicare.837"
REMITS_835 = REPO / "examples" / "remits" / "recover-medicare.835"
HOSTILE = [
    "<script>alert('x')</script>",
    "\"><img src=x onerror=alert(1)>",
    "'; DROP TABLE web_users; --",
    "' OR '1'='1",
    "{{ 7*7 }}",
]


def _stored_uploads(app) -> tuple[int, list[Path]]:
    with app.state.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(uploads_table)).scalar_one()
    folder = app.state.uploads_dir
    folders = [p for p in folder.iterdir() if p.name != ".incoming"] if folder.is_dir() else []
    incoming = list((folder / ".incoming").iterdir()) if (folder / ".incoming").is_dir() else []
    return count, folders + incoming


def test_oversized_upload_is_refused_before_it_is_read(app, token_client):
    client = token_client("biller")
    limit = app.state.settings.max_upload_mb * 1024 * 1024
    big = b"ISA*" + b"x" * (limit + 10)
    response = client.post("/api/uploads", data={"kind": "claims"}, files={"file": ("big.837", big)})
    assert response.status_code == 413
    assert "exceed the limit of 2 MB" in response.json()["detail"] and "max_upload_mb" in response.json()["detail"]
    assert response.headers["x-frame-options"] == "DENY"
    assert _stored_uploads(app) == (0, [])


def test_oversized_streamed_upload_without_length_is_cut_off(app, token_client):
    client = token_client("biller")
    limit = app.state.settings.max_upload_mb * 1024 * 1024

    def chunks():
        sent = 0
        while sent <= limit + (1 << 20):
            yield b"0" * 65536
            sent += 65536

    response = client.post("/api/uploads", content=chunks(),
                           headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert response.status_code == 413 and "upload too large" in response.json()["detail"]
    assert _stored_uploads(app) == (0, [])


@pytest.mark.parametrize("name, data, expected", [
    ("empty.837", b"", "the file is empty"),
    ("picture.837", bytes.fromhex("89504e470d0a1a0a") + b"\x00" * 200, "no claims could be read"),
    ("truncated.837", CLAIMS_837.read_bytes()[:150], "no claims could be read"),
])
def test_malformed_uploads_are_refused_with_the_reason(app, token_client, name, data, expected):
    client = token_client("biller")
    response = client.post("/api/uploads", data={"kind": "claims"}, files={"file": (name, data)})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert expected in detail["message"] and name in detail["message"]
    if data:
        assert detail["problems"] and all(p["message"] and p["code"] for p in detail["problems"])
        assert all("path" not in p for p in detail["problems"])  # the server's folders are not shown
    assert _stored_uploads(app) == (0, [])


def test_a_claim_file_sent_as_a_remittance_is_refused(app, token_client):
    response = token_client("biller").post("/api/uploads", data={"kind": "remits"},
                                           files={"file": ("claims.837", CLAIMS_837.read_bytes())})
    assert response.status_code == 422 and "no remittance claims" in response.json()["detail"]["message"]


def test_a_crash_before_commit_leaves_no_half_import(app, token_client, monkeypatch):
    """Fault injection: the audit insert (inside the upload's transaction) fails."""
    client = TestClient(app, raise_server_exceptions=False,
                        headers=token_client("biller").headers)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(uploads.audit, "record", fail)
    response = client.post("/api/uploads", data={"kind": "claims"}, files={"file": ("c.837", CLAIMS_837.read_bytes())})
    assert response.status_code == 500
    assert _stored_uploads(app) == (0, [])


def test_hostile_file_names_notes_and_searches_are_stored_and_shown_inertly(full_app):
    from .conftest import PASSWORD, Browser

    auth.add_user(full_app.state.engine, "maria", "manager", PASSWORD)
    browser = Browser(full_app, "maria")
    names = []
    for copy, text in enumerate(HOSTILE):
        # each a different content (trailing line breaks): the same content twice is a duplicate
        response = browser.send("POST", "/api/uploads", data={"kind": "claims"},
                                files={"file": (f"{text}.837", CLAIMS_837.read_bytes() + b"\n" * (copy + 1))})
        assert response.status_code == 201, response.text
        names.append(response.json()["file_name"])  # as the server received it (httpx encodes '"')
    remit = browser.send("POST", "/api/uploads", data={"kind": "remits"}, files={"file": (REMITS_835.name, REMITS_835.read_bytes())})
    assert remit.status_code == 201
    page = browser.get("/uploads").text
    item = browser.get("/api/worklist").json()["rows"][0]["id"]
    for name, text in zip(names, HOSTILE):
        assert str(escape(name)) in page  # kept as received and escaped on the page
        assert browser.send("PATCH", f"/api/worklist/{item}", json={"note": text}).status_code == 200
    assert "<script>alert" not in page and "<img src=x" not in page
    item_page = browser.get(f"/worklist/{item}").text
    assert "<script>alert" not in item_page and "&lt;script&gt;alert" in item_page
    assert "49" not in re.findall(r"<td>([^<]*)</td>", item_page)  # {{ 7*7 }} was not evaluated
    notes = [h["new_value"] for h in browser.get(f"/api/worklist/{item}").json()["history"] if h["field"] == "note"]
    assert notes == HOSTILE  # stored exactly as typed
    # search strings are parameters, never SQL
    for text in HOSTILE:
        assert browser.get("/api/worklist", params={"q": text}).json()["total"] == 0
        guide = browser.get("/guide", params={"q": text})
        assert guide.status_code == 200 and "<script>alert" not in guide.text
    with full_app.state.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(uploads_table)).scalar_one() == len(HOSTILE) + 1
    # hostile user names are refused by the name rule, not stored
    for text in HOSTILE:
        refused = browser.send("POST", "/admin/users", data={"name": text, "role": "biller", "password": PASSWORD,
                                                             "csrf_token": browser.csrf}, headers={})
        assert refused.status_code in (400, 403)
    # audit rows carry no note text
    _, rows = audit.recent(full_app.state.engine, limit=1000)
    assert not any(text in (r["detail"] or "") for r in rows for text in HOSTILE)


def test_security_headers_on_pages_api_errors_and_static(app, signed_in):
    browser = signed_in("biller")
    for response in (browser.get("/uploads"), browser.get("/api/me"), browser.get("/api/nothing-here"),
                     TestClient(app).get("/api/me"), browser.get("/static/app.css"), TestClient(app).get("/login")):
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    assert browser.get("/uploads").headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script_or_style(app, signed_in):
    browser = signed_in("admin")
    for url in ("/uploads", "/worklist", "/admin/users", "/admin/audit", "/api", "/login"):
        text = browser.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), url
        assert not re.search(r"\son[a-z]+=", text), url
        assert "style=" not in text, url


def test_swagger_pages_are_off_and_openapi_is_served_to_signed_in_users(app, token_client):
    client = TestClient(app)
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    assert client.get("/api/openapi.json").status_code == 401
    spec = token_client("biller").get("/api/openapi.json").json()
    assert "/api/worklist" in spec["paths"] and "/api/uploads" in spec["paths"]


def test_access_log_has_no_query_strings(app, token_client, caplog):
    client = token_client("biller")
    with caplog.at_level(logging.INFO, logger="reclaim.web.access"):
        client.get("/api/worklist", params={"q": "DOE-JOHN-19500101"})
    lines = [r.getMessage() for r in caplog.records if r.name == "reclaim.web.access"]
    assert any(line.startswith("GET /api/worklist 200") for line in lines)
    assert not any("DOE" in line or "?" in line for line in lines)


def test_serve_listens_on_loopback_by_default():
    from reclaim.cli.serve import command

    params = {p.name: p.default for p in command.params}
    assert params["host"] == "127.0.0.1"

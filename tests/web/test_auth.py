"""Sign-in, sessions, API tokens, roles and CSRF, through the real app."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from reclaim.web import audit, auth
from reclaim.web.db import sessions, users

from .conftest import PASSWORD, Browser


def _login_token(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def test_passwords_are_argon2_hashes_and_never_stored_plain(engine, make_user):
    make_user("alice", "admin")
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == "alice")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert auth.authenticate(engine, "alice", PASSWORD).role == "admin"
    assert auth.authenticate(engine, "alice", PASSWORD + "x") is None
    assert auth.authenticate(engine, "nobody", PASSWORD) is None


def test_weak_passwords_and_bad_names_are_refused(engine):
    for name, password, expected in [("bob", "short", "at least 12"), ("bob", "bob-is-my-password", "user name"),
                                     ("<script>", PASSWORD, "user name is")]:
        try:
            auth.add_user(engine, name, "biller", password)
        except auth.AuthError as exc:
            assert expected in str(exc)
        else:
            raise AssertionError(f"{name}/{password} was accepted")


def test_sign_in_sets_an_httponly_session_and_audits(app, engine, make_user):
    make_user("carol", "biller")
    client = TestClient(app)
    wrong = client.post("/login", data={"username": "carol", "password": "nope-nope-nope", "csrf_token": _login_token(client)})
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    ok = client.post("/login", data={"username": "carol", "password": PASSWORD, "csrf_token": _login_token(client)},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/worklist"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/api/me").json() == {"name": "carol", "role": "biller", "via": "web"}
    _, rows = audit.recent(engine)
    assert [r["action"] for r in rows][:2] == ["login.ok", "login.failed"]


def test_sign_in_without_the_form_token_is_refused(app, make_user):
    make_user("dave", "biller")
    client = TestClient(app)
    client.get("/login")
    response = client.post("/login", data={"username": "dave", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403 and "expired or came from another site" in response.text
    assert client.get("/api/me").status_code == 401


def test_repeated_failures_lock_the_name(app, make_user):
    make_user("erin", "biller")
    client = TestClient(app)
    for _ in range(10):
        client.post("/login", data={"username": "erin", "password": "wrong-password!", "csrf_token": _login_token(client)})
    locked = client.post("/login", data={"username": "erin", "password": PASSWORD, "csrf_token": _login_token(client)})
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text


def test_expired_sessions_are_refused(app, engine, signed_in):
    browser = signed_in("biller")
    assert browser.get("/api/me").status_code == 200
    with engine.begin() as conn:
        conn.execute(update(sessions).values(expires_at=auth.now() - timedelta(minutes=1)))
    assert browser.get("/api/me").status_code == 401
    page = browser.get("/uploads", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_sign_out_ends_the_session(signed_in):
    browser = signed_in("biller")
    assert browser.send("POST", "/logout", follow_redirects=False).status_code == 303
    assert browser.get("/api/me").status_code == 401


def test_disabling_a_user_ends_sessions_and_tokens(app, engine, signed_in, token_client):
    browser = signed_in("biller", "frank")
    script = TestClient(app, headers={"Authorization": f"Bearer {auth.issue_token(engine, 'frank')}"})
    assert script.get("/api/me").status_code == 200
    auth.set_active(engine, "frank", False)
    assert browser.get("/api/me").status_code == 401
    assert script.get("/api/me").status_code == 401


def test_api_tokens_are_stored_hashed_and_can_be_revoked(app, engine, make_user):
    make_user("grace", "manager")
    token = auth.issue_token(engine, "grace", "nightly export")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/me").json()["via"] == "api"
    from reclaim.web.db import api_tokens

    with engine.connect() as conn:
        assert conn.execute(select(api_tokens.c.token_sha256)).scalar_one() == auth.digest(token)
    assert auth.revoke_tokens(engine, "grace") == 1
    refused = client.get("/api/me")
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    forged = TestClient(app, headers={"Authorization": "Bearer rct_forged"}).get("/api/me")
    assert forged.status_code == 401


def test_every_api_endpoint_refuses_anonymous_requests(app):
    client = TestClient(app)
    open_paths = {"/api/health"}
    assert client.get("/api/openapi.json").status_code == 401
    checked = 0
    for path, methods in app.openapi()["paths"].items():
        for method in methods:
            if path in open_paths:
                continue
            url = re.sub(r"\{[^}]+\}", "x", path)
            response = client.request(method.upper(), url)
            assert response.status_code == 401, f"{method.upper()} {path} answered {response.status_code} without a user"
            checked += 1
    assert checked >= 8


def test_every_api_endpoint_declares_a_role(app):
    for path, methods in app.openapi()["paths"].items():
        for method, op in methods.items():
            assert op.get("x-role") in ("none", "biller", "manager", "admin"), f"{method} {path} declares no role"
            if op["x-role"] == "none":
                assert path == "/api/health"


def test_roles_are_enforced_on_admin_and_manager_endpoints(app, token_client):
    biller, manager, admin = token_client("biller"), token_client("manager"), token_client("admin")
    body = {"name": "newbie", "role": "biller", "password": PASSWORD}
    for client in (biller, manager):
        response = client.post("/api/users", json=body)
        assert response.status_code == 403 and "needs the admin role" in response.json()["detail"]
        assert client.get("/api/audit").status_code == 403
    assert admin.post("/api/users", json=body).status_code == 201
    assert {u["name"] for u in admin.get("/api/users").json()} >= {"newbie", "admin-script"}
    # every endpoint marked manager refuses a biller
    for path, methods in app.openapi()["paths"].items():
        for method, op in methods.items():
            if op.get("x-role") in ("manager", "admin"):
                url = re.sub(r"\{[^}]+\}", "x", path)
                assert biller.request(method.upper(), url).status_code == 403, f"{method} {path} let a biller in"


def test_admin_pages_refuse_billers(signed_in):
    browser = signed_in("biller")
    page = browser.get("/admin/users", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "needs the admin role" in page.text
    assert "/admin/users" not in browser.get("/uploads").text  # not offered in the navigation either


def test_csrf_is_required_for_browser_changes(app, signed_in):
    admin = signed_in("admin")
    body = {"name": "henry", "role": "biller", "password": PASSWORD}
    missing = admin.client.post("/api/users", json=body)
    assert missing.status_code == 403 and "CSRF" in missing.json()["detail"]
    wrong = admin.client.post("/api/users", json=body, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    cross_site = admin.send("POST", "/api/users", json=body, headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403 and "cross-site" in cross_site.json()["detail"]
    form_without = admin.client.post("/admin/users", data={**body, "csrf_token": ""})
    assert form_without.status_code == 403
    assert admin.send("POST", "/api/users", json=body).status_code == 201


def test_admin_cannot_lock_themselves_out(signed_in):
    admin = signed_in("admin", "root1")
    response = admin.send("PATCH", "/api/users/root1", json={"active": False})
    assert response.status_code == 400 and "cannot disable yourself" in response.json()["detail"]


def test_user_management_is_audited(engine, signed_in):
    admin = signed_in("admin")
    admin.send("POST", "/api/users", json={"name": "ivy", "role": "biller", "password": PASSWORD})
    admin.send("PATCH", "/api/users/ivy", json={"role": "manager"})
    _, rows = audit.recent(engine)
    actions = [(r["action"], r["target"], r["user_name"]) for r in rows]
    assert ("user.create", "ivy", "admin1") in actions and ("user.role", "ivy", "admin1") in actions

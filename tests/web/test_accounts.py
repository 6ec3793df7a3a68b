"""Accounts a stranger cannot lock: sign-in throttling per client, per account and per pair
with backoff (never a hard lock), known devices, admin unlock; password strength (zxcvbn),
changing one's own password; named API tokens with scope, expiry and per-token revocation.
All through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from reclaim.web import audit, auth, throttle
from reclaim.web.db import api_tokens, audit_log, login_throttle

from .conftest import PASSWORD


def _form_token(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def sign_in(client: TestClient, name: str, password: str):
    return client.post("/login", data={"username": name, "password": password, "csrf_token": _form_token(client)},
                       follow_redirects=False)


def from_address(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 50000))


def test_a_stranger_spraying_names_is_slowed_down_and_the_owner_still_signs_in(app, make_user):
    make_user("erin", "biller")
    stranger = from_address(app, "203.0.113.7")
    answers = [sign_in(stranger, f"user{i}", "wrong-password!").status_code for i in range(40)]
    # the first 20 failures from one address are answered; then the address waits, doubling
    assert answers[:20] == [401] * 20 and 429 in answers[20:]
    refused = sign_in(stranger, "erin", PASSWORD)
    assert refused.status_code == 429 and "from this address" in refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 15 * 60
    # the owner, from their own address, is not affected
    assert sign_in(from_address(app, "198.51.100.20"), "erin", PASSWORD).status_code == 303


def test_guesses_of_one_name_from_many_addresses_wait_a_few_minutes_at_most(app, engine, make_user):
    make_user("frank", "biller")
    # the owner signed in from this browser before: it is a known device
    laptop = from_address(app, "198.51.100.30")
    assert sign_in(laptop, "frank", PASSWORD).status_code == 303
    laptop.post("/logout", headers={"X-CSRF-Token": _csrf(laptop)})
    for i in range(12):  # a botnet: one guess per address
        assert sign_in(from_address(app, f"203.0.113.{i + 1}"), "frank", "guess-number-" + str(i)).status_code in (401, 429)
    new_browser = from_address(app, "198.51.100.31")
    waiting = sign_in(new_browser, "frank", PASSWORD)
    assert waiting.status_code == 429 and "ask an admin to unlock" in waiting.text
    assert int(waiting.headers["retry-after"]) <= throttle.RULES["account"].cap.total_seconds()
    # the known device skips the account-wide wait: a stranger cannot keep the owner out
    assert sign_in(laptop, "frank", PASSWORD).status_code == 303
    # the wait is its own table, not a count of audit rows: deleting the log changes nothing
    for i in range(12):
        sign_in(from_address(app, f"203.0.114.{i + 1}"), "frank", "guess-again-" + str(i))
    audit.flush()
    with engine.begin() as conn:
        conn.execute(delete(audit_log))
    assert sign_in(from_address(app, "198.51.100.32"), "frank", PASSWORD).status_code == 429
    assert throttle.state(engine, "frank")["failures"] >= throttle.RULES["account"].free  # tries refused while waiting do not count


def test_an_admin_unlocks_an_account(app, engine, make_user, signed_in):
    make_user("gina", "biller")
    for i in range(12):
        sign_in(from_address(app, f"203.0.113.{i + 1}"), "gina", "not-her-password")
    assert sign_in(from_address(app, "198.51.100.40"), "gina", PASSWORD).status_code == 429
    admin = signed_in("admin")
    page = admin.get("/admin/users").text
    assert "unlock gina" in page
    assert admin.send("POST", "/api/users/gina/unlock").json()["cleared"] >= 1
    assert sign_in(from_address(app, "198.51.100.40"), "gina", PASSWORD).status_code == 303
    actions = [r["action"] for r in audit.recent(engine)[1]]
    assert "user.unlock" in actions and "login.throttled" in actions


def test_a_password_typed_as_the_name_is_not_stored(app, engine, make_user):
    make_user("hana", "biller")
    typed = "Hunter2-secret-passphrase"
    client = from_address(app, "198.51.100.50")
    assert sign_in(client, typed, "x").status_code == 401
    assert sign_in(client, "hana", "wrong-password!").status_code == 401
    audit.flush()
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(audit_log))] + [tuple(r) for r in conn.execute(select(login_throttle))]
    assert rows and not any(typed.lower() in str(v).lower() for row in rows for v in row)
    failed = [r for r in audit.recent(engine)[1] if r["action"] == "login.failed"]
    assert sorted(str(r["user_name"]) for r in failed) == ["None", "hana"]  # a user's name is kept; an unknown one is not


@pytest.mark.parametrize("password", ["            ", "password1234", "qwertyuiop12", "aaaaaaaaaaaa", "ivan-password-1"])
def test_weak_passwords_are_refused(engine, password):
    with pytest.raises(auth.AuthError):
        auth.add_user(engine, "ivan", "biller", password)


def test_passphrases_are_welcome(engine):
    for name, phrase in (("jo", "blue tractor violin sandwich"), ("kim", "billing office harbor lantern")):
        assert auth.add_user(engine, name, "biller", phrase).name == name


def test_changing_my_password_ends_every_session_and_token(app, engine, signed_in):
    browser = signed_in("biller", "lena")
    other = TestClient(app)
    assert sign_in(other, "lena", PASSWORD).status_code == 303
    script = TestClient(app, headers={"Authorization": f"Bearer {auth.issue_token(engine, 'lena', 'nightly', scope='write')}"})
    assert script.get("/api/me").status_code == 200
    weak = browser.send("POST", "/api/me/password", json={"current": PASSWORD, "new": "password1234"})
    assert weak.status_code == 400 and "too weak" in weak.json()["detail"]
    wrong = browser.send("POST", "/api/me/password", json={"current": "not-it-at-all", "new": "lantern orbit cactus mellow"})
    assert wrong.status_code == 400
    page = browser.send("POST", "/account/password", data={"current": PASSWORD, "new": "lantern orbit cactus mellow",
                                                          "csrf_token": browser.csrf}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert browser.get("/api/me").status_code == 401
    assert other.get("/api/me").status_code == 401
    assert script.get("/api/me").status_code == 401
    assert sign_in(TestClient(app), "lena", "lantern orbit cactus mellow").status_code == 303


def _csrf(client: TestClient) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', client.get("/uploads").text).group(1)


def test_tokens_are_named_scoped_expiring_and_revoked_one_by_one(app, engine, make_user, signed_in):
    make_user("mona", "manager")
    reader = auth.issue_token(engine, "mona", "dashboard feed", scope="read", days=30)
    writer = auth.issue_token(engine, "mona", "nightly assign", scope="write")
    read_client = TestClient(app, headers={"Authorization": f"Bearer {reader}"})
    write_client = TestClient(app, headers={"Authorization": f"Bearer {writer}"})
    assert read_client.get("/api/worklist").status_code == 200
    refused = read_client.post("/api/worklist/bulk", json={"item_ids": ["x"], "status": "in_progress"})
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    assert write_client.post("/api/worklist/bulk", json={"item_ids": ["x"], "status": "in_progress"}).status_code == 200
    admin = signed_in("admin")
    listed = {t["label"]: t for t in admin.get("/api/tokens").json()}
    assert listed["dashboard feed"]["scope"] == "read" and listed["dashboard feed"]["last_used_at"]
    assert listed["nightly assign"]["state"] == "active" and "token" not in listed["nightly assign"]
    page = admin.get("/admin/users").text
    assert "dashboard feed" in page and reader not in page and writer not in page
    # revoke one: the other still works
    assert admin.send("DELETE", f"/api/tokens/{listed['dashboard feed']['id']}").status_code == 200
    assert read_client.get("/api/me").status_code == 401
    assert write_client.get("/api/me").status_code == 200
    # expired
    with engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.label == "nightly assign")
                     .values(expires_at=auth.now() - timedelta(seconds=1)))
    assert write_client.get("/api/me").status_code == 401
    made = admin.send("POST", "/api/tokens", json={"user": "mona", "label": "export", "scope": "read", "days": 7})
    assert made.status_code == 201 and made.json()["token"].startswith("rct_")
    actions = [r["action"] for r in audit.recent(engine)[1]]
    assert {"token.issue", "token.revoke", "access.refused"} <= set(actions)


def test_refusals_are_audited_with_the_route_not_the_path(engine, signed_in):
    biller = signed_in("biller")
    assert biller.get("/api/dashboard").status_code == 403
    assert biller.get("/api/uploads").status_code == 200
    rows = audit.recent(engine)[1]
    refused = [r for r in rows if r["action"] == "access.refused"]
    assert refused and refused[0]["target"] == "/api/dashboard" and '"why": "role"' in refused[0]["detail"]
    assert "upload.list" in [r["action"] for r in rows]
